"""Lead, Organization, Source, Campaign and the append-only Activity timeline."""

from leadloop.leads.models.catalog import Campaign, CostEntry, LostReason, Organization, Source
from leadloop.leads.models.choices import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    OWNED_STATUSES,
    ActivityKind,
    ActorKind,
    BantAnswer,
    ChannelKind,
    FitGrade,
    LeadHold,
    LeadStatus,
    MinimumContact,
    OnInvalidLead,
)
from leadloop.leads.models.lead import Lead
from leadloop.leads.models.timeline import Activity, SavedView

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_STATUSES",
    "OWNED_STATUSES",
    "Activity",
    "ActivityKind",
    "ActorKind",
    "BantAnswer",
    "Campaign",
    "ChannelKind",
    "CostEntry",
    "FitGrade",
    "Lead",
    "LeadHold",
    "LeadStatus",
    "LostReason",
    "MinimumContact",
    "OnInvalidLead",
    "Organization",
    "SavedView",
    "Source",
]
