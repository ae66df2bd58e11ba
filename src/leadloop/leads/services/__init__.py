"""The verbs of the lead database: create, update, move through the lifecycle, assign, log.

Every change writes the timeline (Activity) in the same transaction. Callers resolve visibility
first through `selectors.get_lead_for`; the services check what needs the lead's state.
"""

from leadloop.leads.services.assignment import (
    VIA_MANUAL,
    BulkResult,
    assign_lead,
    bulk_assign,
    bulk_transition,
    mark_sold,
    mark_unsold,
    reassign_open_leads,
    release_lead,
    resolve_assignee,
)
from leadloop.leads.services.bulk import insert_new_leads, owner_columns, publish_created
from leadloop.leads.services.changes import (
    actor_label,
    apply_bulk,
    apply_changes,
    derive,
    publish_event,
    record_merge,
)
from leadloop.leads.services.costs import (
    MAX_IMPORT_BYTES as MAX_COST_IMPORT_BYTES,
)
from leadloop.leads.services.costs import (
    CostImport,
    add_campaign_cost,
    import_campaign_costs,
    set_source_cost,
)
from leadloop.leads.services.follow_up import (
    CONTACT_KINDS,
    LOGGABLE_KINDS,
    log_activity,
    log_contact,
    set_contact_due,
    set_deal_values,
    set_next_follow_up,
)
from leadloop.leads.services.leads import (
    check_writable_fields,
    prepare_lead,
    refresh_search_text,
    save_new_lead,
    transition,
    update_lead,
)
from leadloop.leads.services.lost_reasons import (
    create_lost_reason,
    rename_lost_reason,
    set_lost_reason_active,
)
from leadloop.leads.services.organizations import create_organization, move_organization
from leadloop.leads.services.privacy import (
    OBJECTION_KINDS,
    PERSONAL_FIELDS,
    compact_search_index,
    erase_lead_personal_data,
    record_objection,
)
from leadloop.leads.services.saved_views import delete_view, save_view
from leadloop.leads.services.sources import (
    SourceWithKey,
    audit_source,
    create_campaign,
    create_source,
    get_or_create_lost_reason,
    resolve_source_key,
    revoke_source_key,
    rotate_source_key,
    set_intake_limits,
    set_lead_rules,
)
from leadloop.leads.services.timeline import record_activity
from leadloop.leads.services.validation import INPUT_FIELDS, clean_lead_input, clean_text

__all__ = [
    "CONTACT_KINDS",
    "INPUT_FIELDS",
    "LOGGABLE_KINDS",
    "MAX_COST_IMPORT_BYTES",
    "OBJECTION_KINDS",
    "PERSONAL_FIELDS",
    "VIA_MANUAL",
    "BulkResult",
    "CostImport",
    "SourceWithKey",
    "actor_label",
    "add_campaign_cost",
    "apply_bulk",
    "apply_changes",
    "assign_lead",
    "audit_source",
    "bulk_assign",
    "bulk_transition",
    "check_writable_fields",
    "clean_lead_input",
    "clean_text",
    "compact_search_index",
    "create_campaign",
    "create_lost_reason",
    "create_organization",
    "create_source",
    "delete_view",
    "derive",
    "erase_lead_personal_data",
    "get_or_create_lost_reason",
    "import_campaign_costs",
    "insert_new_leads",
    "log_activity",
    "log_contact",
    "mark_sold",
    "mark_unsold",
    "move_organization",
    "owner_columns",
    "prepare_lead",
    "publish_created",
    "publish_event",
    "reassign_open_leads",
    "record_activity",
    "record_merge",
    "record_objection",
    "refresh_search_text",
    "release_lead",
    "rename_lost_reason",
    "resolve_assignee",
    "resolve_source_key",
    "revoke_source_key",
    "rotate_source_key",
    "save_new_lead",
    "save_view",
    "set_contact_due",
    "set_deal_values",
    "set_intake_limits",
    "set_lead_rules",
    "set_lost_reason_active",
    "set_next_follow_up",
    "set_source_cost",
    "transition",
    "update_lead",
]
