"""The fixed vocabularies of leads: statuses, channels, grades, actors, timeline kinds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead status", "New")
    NURTURING = "nurturing", pgettext_lazy("lead status", "Nurturing")
    SALES_READY = "sales_ready", pgettext_lazy("lead status", "Sales ready")
    ASSIGNED = "assigned", pgettext_lazy("lead status", "Assigned")
    CONTACTED = "contacted", pgettext_lazy("lead status", "Contacted")
    QUOTED = "quoted", pgettext_lazy("lead status", "Quoted")
    WON = "won", pgettext_lazy("lead status", "Won")
    LOST = "lost", pgettext_lazy("lead status", "Lost")
    DISQUALIFIED = "disqualified", pgettext_lazy("lead status", "Disqualified")


# Statuses a lead ends in: nobody follows these up any more.
CLOSED_STATUSES = (LeadStatus.WON, LeadStatus.LOST, LeadStatus.DISQUALIFIED)
OPEN_STATUSES = tuple(s for s in LeadStatus if s not in CLOSED_STATUSES)
# Statuses in which a person works the lead: it needs a next step.
OWNED_STATUSES = (LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUOTED)


class ChannelKind(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    HTTP_POST = "http_post", _("HTTP POST")
    EMAIL = "email", _("E-mail")
    RSS = "rss", _("RSS feed")
    FTP = "ftp", _("FTP drop folder")
    IMPORT = "import", _("Batch import")
    API = "api", _("API")
    MANUAL = "manual", _("Manual entry")


class FitGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class BantAnswer(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    PARTNER = "partner", _("Partner")
    SYSTEM = "system", _("System")
    LEAD = "lead", _("Lead")
    SOURCE = "source", _("Source")


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD_CHANGED = "field_changed", _("Fields changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    QUOTE = "quote", _("Quote")
    FORM_SUBMITTED = "form_submitted", _("Form submitted")
    MERGED = "merged", _("Merged")
    UNMERGED = "unmerged", _("Merge undone")
    ASSESSED = "assessed", _("Assessed")
    REVIEWED = "reviewed", _("Reviewed")
    EMAIL_OPENED = "email_opened", _("E-mail opened")
    EMAIL_CLICKED = "email_clicked", _("E-mail link clicked")
    PAGE_VISIT = "page_visit", _("Page visited")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    WORKFLOW = "workflow", _("Workflow")
    SOLD = "sold", _("Sold to a buyer")
    SALE_RETURNED = "sale_returned", _("Returned by a buyer")
    OBJECTION = "objection", _("Objection recorded")
    ERASED = "erased", _("Personal data erased")


class LeadHold(models.TextChoices):
    """Why assessment holds a lead back from distribution until a person looks at it."""

    FRAUD_REVIEW = "fraud_review", _("Fraud review")
    DUPLICATE_REVIEW = "duplicate_review", _("Duplicate review")


class MinimumContact(models.TextChoices):
    """What a lead must carry to be taken in, per source ("a way to reach the person")."""

    EMAIL_PHONE_OR_ADDRESS = (
        "email_phone_or_address",
        _("An e-mail address, a phone number or a complete postal address"),
    )
    EMAIL_OR_PHONE = "email_or_phone", _("An e-mail address or a phone number")
    EMAIL = "email", _("An e-mail address")
    PHONE = "phone", _("A phone number")


class OnInvalidLead(models.TextChoices):
    """What happens to a lead that has a bad value and too little left to reach the person.

    Empty on a source: the channel's default (reject for web forms, where the visitor can correct
    it at once; review for machine senders, which never send again).
    """

    REJECT = "reject", _("Refuse it (the sender hears why)")
    REVIEW = "review", _("Keep it for a person to review")
