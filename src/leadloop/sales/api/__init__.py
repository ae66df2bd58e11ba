"""The sales follow-up API: `/api/v1/sales/...` (my day, pipeline, team, rules) and the lead's
own follow-up under `/api/v1/leads/{id}/...` (tasks, quotes, calls)."""

from leadloop.sales.api import team as team
from leadloop.sales.api.base import lead_router, sales_router

__all__ = ["lead_router", "sales_router"]
