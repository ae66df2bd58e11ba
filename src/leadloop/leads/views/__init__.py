"""The lead pages (HTMX + plain HTML): parse input, call a selector or a service, render.

Every POST works without JavaScript (redirect after success, the page again with errors); with
HTMX the same view answers with the fragment that changed. Errors come back as 4xx and are
swapped in (see the htmx-config meta tag in web/base.html).
"""

from leadloop.leads.views.catalog import (
    campaign_list,
    organization_detail,
    organization_list,
    source_limits,
    source_list,
    source_revoke_key,
    source_rotate_key,
    source_rules,
)
from leadloop.leads.views.lead import (
    lead_assign,
    lead_create,
    lead_detail,
    lead_edit,
    lead_log_activity,
    lead_transition,
    leads_move,
)
from leadloop.leads.views.lists import (
    lead_bulk,
    lead_export,
    lead_list,
    saved_view_create,
    saved_view_delete,
)

__all__ = [
    "campaign_list",
    "lead_assign",
    "lead_bulk",
    "lead_create",
    "lead_detail",
    "lead_edit",
    "lead_export",
    "lead_list",
    "lead_log_activity",
    "lead_transition",
    "leads_move",
    "organization_detail",
    "organization_list",
    "saved_view_create",
    "saved_view_delete",
    "source_limits",
    "source_list",
    "source_revoke_key",
    "source_rotate_key",
    "source_rules",
]
