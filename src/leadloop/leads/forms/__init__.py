"""Forms of the lead pages. They parse and show input; the services decide what is valid."""

from leadloop.leads.forms.base import (
    BANT_CHOICES,
    DATETIME_WIDGET,
    OWNER_ME,
    OWNER_UNASSIGNED,
    SORT_CHOICES,
    UIForm,
)
from leadloop.leads.forms.catalog import (
    CampaignForm,
    OrganizationForm,
    SourceForm,
    SourceLimitsForm,
    SourceRulesForm,
)
from leadloop.leads.forms.lead import (
    LEAD_TEXT_FIELDS,
    ActivityForm,
    AssignForm,
    LeadForm,
    MoveLeadsForm,
    StatusForm,
)
from leadloop.leads.forms.lists import BulkForm, LeadFilterForm, SavedViewForm

__all__ = [
    "BANT_CHOICES",
    "DATETIME_WIDGET",
    "LEAD_TEXT_FIELDS",
    "OWNER_ME",
    "OWNER_UNASSIGNED",
    "SORT_CHOICES",
    "ActivityForm",
    "AssignForm",
    "BulkForm",
    "CampaignForm",
    "LeadFilterForm",
    "LeadForm",
    "MoveLeadsForm",
    "OrganizationForm",
    "SavedViewForm",
    "SourceForm",
    "SourceLimitsForm",
    "SourceRulesForm",
    "StatusForm",
    "UIForm",
]
