"""The sales follow-up API: `/api/v1/sales/...` (my day, pipeline, team, rules) and the lead's
own follow-up under `/api/v1/leads/{id}/...` (tasks, quotes, calls).

Each endpoint module registers its operations on the routers in `base`; importing it here
mounts them."""

from leadloop.sales.api import email_templates, lead_contact, lead_work, my_day, pipeline, team
from leadloop.sales.api.base import lead_router, sales_router

__all__ = [
    "email_templates",
    "lead_contact",
    "lead_router",
    "lead_work",
    "my_day",
    "pipeline",
    "sales_router",
    "team",
]
