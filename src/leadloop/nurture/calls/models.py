"""Telemarketing (issue 15): call lists with their script and calling hours, the leads waiting
on them, every call an agent made, and the numbers nobody may call."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = [
    "CallAttempt",
    "CallEntry",
    "CallList",
    "CallOutcome",
    "DoNotCall",
    "EntryState",
]


def _weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class CallList(models.Model):
    """A list of leads for the telemarketing desk: the script the agent reads (per language, with
    `{first_name}` and the other merge fields), when calls may be made, how often a lead that
    did not answer is tried again, and the agents who work it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True, default="")
    script_en = models.TextField(_("script (English)"), blank=True, default="")
    script_nl = models.TextField(_("script (Dutch)"), blank=True, default="")
    # Calling hours: a weekly window in a time zone, without the country's public holidays and
    # the extra days off (ISO dates). Read through `services.hours.calendar_for`.
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Amsterdam")
    call_days = models.JSONField(_("calling days"), default=_weekdays)
    opens_at = models.TimeField(_("calls from"), default=dt.time(9, 0))
    closes_at = models.TimeField(_("calls until"), default=dt.time(18, 0))
    holiday_country = models.CharField(
        _("public holidays of"), max_length=2, blank=True, default="NL"
    )
    days_off = models.JSONField(_("days off"), default=list, blank=True)
    # A lead that did not answer (or reached voicemail) is due again after this much calling
    # time, until it was tried `max_attempts` times; then its entry closes as unreachable.
    retry_delay_minutes = models.PositiveIntegerField(_("try again after (minutes)"), default=240)
    max_attempts = models.PositiveSmallIntegerField(_("attempts at most"), default=3)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("agents"), blank=True, related_name="+"
    )
    # A lead-list query (as the leads page and saved views write it) the list is filled from.
    fill_query = models.CharField(_("fill from filter"), max_length=2000, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("call list")

    def __str__(self) -> str:
        return self.name


class EntryState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CallOutcome(models.TextChoices):
    """How a call went (an attempt), and how an entry ended (its final outcome)."""

    QUALIFIED = "qualified", pgettext_lazy("call", "Reached and qualified")
    NOT_INTERESTED = "not_interested", pgettext_lazy("call", "Reached, not interested")
    NO_ANSWER = "no_answer", pgettext_lazy("call", "No answer")
    VOICEMAIL = "voicemail", pgettext_lazy("call", "Voicemail")
    WRONG_NUMBER = "wrong_number", pgettext_lazy("call", "Wrong number")
    CALLBACK = "callback", pgettext_lazy("call", "Call back at")
    DO_NOT_CALL = "do_not_call", pgettext_lazy("call", "Asks not to be called")
    # Final outcomes of an entry that no call decided.
    UNREACHABLE = "unreachable", pgettext_lazy("call", "Unreachable (tried the most times)")
    DNC = "dnc", pgettext_lazy("call", "Number on the do-not-call list")
    NO_PHONE = "no_phone", pgettext_lazy("call", "No phone number")
    CANCELLED = "cancelled", pgettext_lazy("call", "Taken off the list")


class CallEntry(models.Model):
    """One lead on one call list: waiting (due at `due_at`), done (with its final outcome) or
    cancelled. While an agent has it on the desk it is claimed (`claimed_by`, `claimed_at`);
    a call-back belongs to the agent who agreed it (`assigned_to`). At most one waiting entry per
    lead and list."""

    call_list = models.ForeignKey(CallList, on_delete=models.CASCADE, related_name="entries")
    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=EntryState.choices, default=EntryState.WAITING)
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    # Who put it there: "workflow:12", "filter", "user:3", "cli".
    origin = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The desk's next lead: a list's due entries. Queried through
            # core.expressions.indexed (SQLite needs the condition's own constant).
            models.Index(
                fields=["call_list", "due_at"],
                condition=Q(state="waiting"),
                name="call_entry_due",
            ),
            models.Index(fields=["lead", "call_list", "-closed_at"], name="call_entry_lead"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["call_list", "lead"],
                condition=Q(state="waiting"),
                name="call_entry_one_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_list_id}:{self.lead_id} {self.state}"


class CallAttempt(models.Model):
    """One call an agent made from the desk, with its outcome, length and notes."""

    entry = models.ForeignKey(CallEntry, on_delete=models.CASCADE, related_name="calls")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=CallOutcome.choices)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    callback_at = models.DateTimeField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["agent", "at"], name="call_attempt_agent")]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.outcome}"


class DoNotCall(models.Model):
    """A phone number (E.164) nobody calls from the desk: checked when a lead is put on a list
    and again when an agent takes it."""

    phone_e164 = models.CharField(_("phone number"), max_length=20, unique=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True, default="")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("do-not-call number")

    def __str__(self) -> str:
        return self.phone_e164
