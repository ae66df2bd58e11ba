"""Sales follow-up: the first-contact clock and its history, next steps (tasks), quotes, e-mail
templates and calendar feeds.

The lead's own columns carry what lists sort and filter by: `first_contact_due_at` mirrors the
running clock's deadline, `next_follow_up_at` the earliest open task, and `potential_revenue`,
`probability` and `currency` the current quote. The services here keep them in step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BreachAction(models.TextChoices):
    ALERT = "alert", _("Alert the manager only")
    POOL = "pool", _("Alert the manager and put the lead back in the team's pool")
    REROUTE = "reroute", _("Alert the manager and route the lead again")


class TeamSla(models.Model):
    """A team's working time and first-contact rules. A team without a row works Monday to
    Friday, 09:00 to 18:00 in Europe/Amsterdam, skips Dutch public holidays, and must reach a
    lead within one business day."""

    team = models.OneToOneField(
        "accounts.Team", primary_key=True, on_delete=models.CASCADE, related_name="sla"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Amsterdam")
    holiday_country = models.CharField(_("public holidays of"), max_length=2, default="NL")
    holiday_subdivision = models.CharField(
        _("region for holidays"), max_length=10, blank=True, default=""
    )
    # Weekday numbers, 0 = Monday.
    work_days = models.CharField(_("working days"), max_length=7, default="01234")
    opens = models.TimeField(_("opens"), default=dt.time(9, 0))
    closes = models.TimeField(_("closes"), default=dt.time(18, 0))
    # Business minutes to the first contact; empty = one business day (the seed's "24 hours").
    target_minutes = models.PositiveIntegerField(
        _("first contact within (business minutes)"), null=True, blank=True
    )
    remind_at_percent = models.PositiveSmallIntegerField(
        _("remind the owner when this share of the time is used (%)"), default=75
    )
    on_breach = models.CharField(
        _("when the time runs out"),
        max_length=10,
        choices=BreachAction.choices,
        default=BreachAction.ALERT,
    )
    restart_on_reassign = models.BooleanField(
        _("a reassigned lead starts a new clock"), default=False
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("team follow-up rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(remind_at_percent__lte=99), name="team_sla_remind_percent"
            ),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="team_sla_hours"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}"


class SlaTarget(models.Model):
    """A first-contact target for some leads: by team, source and/or fit grade. The most
    specific target that matches a lead wins (grade before source before team)."""

    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.ForeignKey(
        "leads.Source", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    fit_grade = models.CharField(_("fit grade"), max_length=1, blank=True, default="")
    business_minutes = models.PositiveIntegerField(_("first contact within (business minutes)"))
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(business_minutes__gt=0), name="sla_target_positive"),
            # One target per team, source and grade, "none" included: the empty ones written
            # as 0, since SQLite has no NULLS NOT DISTINCT (an expression index works on both).
            models.UniqueConstraint(
                Coalesce("team", Value(0)),
                Coalesce("source", Value(0)),
                "fit_grade",
                name="sla_target_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.source_id}/{self.fit_grade}: {self.business_minutes}"


class ClockState(models.TextChoices):
    RUNNING = "running", pgettext_lazy("sla", "Running")
    MET = "met", pgettext_lazy("sla", "Met")
    LATE = "late", pgettext_lazy("sla", "Contacted late")
    STOPPED = "stopped", pgettext_lazy("sla", "Stopped")


class FirstContactClock(models.Model):
    """How long the lead waits for its first contact, in the responsible team's business time.

    One per lead. It starts when the lead reaches sales (sales-ready or assigned), runs only in
    working hours, and ends when someone reaches the person (`met` or `late`) or when the lead
    leaves sales without contact (`stopped`). `next_check_at` is when the sweep must look again:
    the reminder, then the deadline; empty once nothing more can happen.
    """

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.CASCADE, related_name="first_contact"
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Who had the lead when the clock (re)started or last looked: a different owner later means
    # the lead was reassigned (a team may restart the clock then).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(max_length=10, choices=ClockState.choices)
    started_at = models.DateTimeField()
    target_minutes = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.CharField(max_length=200, blank=True, default="")
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_check_at"],
                name="clock_next_check",
                condition=Q(next_check_at__isnull=False),
            ),
            # The manager's "breaches this week" per team.
            models.Index(
                fields=["team", "breached_at"],
                name="clock_breached",
                condition=Q(breached_at__isnull=False),
            ),
            # The manager's "waiting past their first-contact time now": clocks that ran out and
            # still run (a team's 20,000 breached clocks were walked for them, 75 ms).
            models.Index(
                fields=["team", "due_at"],
                name="clock_late_running",
                condition=Q(breached_at__isnull=False, state="running"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.state}"


class SlaEventKind(models.TextChoices):
    STARTED = "started", pgettext_lazy("sla", "Clock started")
    RESTARTED = "restarted", pgettext_lazy("sla", "Clock restarted")
    MOVED = "moved", pgettext_lazy("sla", "Deadline moved to the new team's hours")
    REMINDED = "reminded", pgettext_lazy("sla", "Owner reminded")
    BREACHED = "breached", pgettext_lazy("sla", "Time ran out")
    RETURNED = "returned", pgettext_lazy("sla", "Put back in the pool")
    REROUTED = "rerouted", pgettext_lazy("sla", "Routed again")
    MET = "met", pgettext_lazy("sla", "Contacted in time")
    LATE = "late", pgettext_lazy("sla", "Contacted late")
    STOPPED = "stopped", pgettext_lazy("sla", "Stopped without contact")


class SlaEvent(models.Model):
    """One entry of a clock's history: when it started, reminded, ran out, was met, by whom."""

    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=SlaEventKind.choices)
    at = models.DateTimeField()
    by = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="sla_event_lead")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class TaskKind(models.TextChoices):
    CALL = "call", pgettext_lazy("task", "Call")
    EMAIL = "email", pgettext_lazy("task", "E-mail")
    MEETING = "meeting", pgettext_lazy("task", "Meeting")
    SEND_QUOTE = "send_quote", pgettext_lazy("task", "Send quote")
    OTHER = "other", pgettext_lazy("task", "Other")


OPEN_TASK = Q(done_at__isnull=True, cancelled_at__isnull=True)


class Task(models.Model):
    """A next step on a lead: what (kind and title), when, and who does it.

    `history` keeps each snooze and reschedule with its reason. A task with `repeat_days` comes
    back that many days after it is done (a quote awaiting an answer)."""

    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="tasks"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, db_index=False, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=TaskKind.choices)
    title = models.CharField(_("what"), max_length=200, blank=True, default="")
    due_at = models.DateTimeField(_("due"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=30)
    repeat_days = models.PositiveSmallIntegerField(_("repeat every (days)"), null=True, blank=True)
    quote = models.ForeignKey(
        "sales.Quote", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=200, blank=True, default="")
    snoozes = models.PositiveSmallIntegerField(default=0)
    history = models.JSONField(default=list, blank=True)
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["lead", "due_at"], name="task_open_lead", condition=OPEN_TASK),
            # My day and the calendar feed: a rep's open tasks by time.
            models.Index(fields=["owner", "due_at"], name="task_open_owner", condition=OPEN_TASK),
            models.Index(fields=["lead", "-id"], name="task_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.cancelled_at is None


class QuoteState(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("quote", "Draft")
    SENT = "sent", pgettext_lazy("quote", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("quote", "Accepted")
    DECLINED = "declined", pgettext_lazy("quote", "Declined")


class Quote(models.Model):
    """An offer to the lead: amount and currency, when it should close and how likely. A lead
    may have several; one is current, and the lead's potential revenue and probability follow
    it."""

    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="quotes"
    )
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    state = models.CharField(
        _("state"), max_length=10, choices=QuoteState.choices, default=QuoteState.DRAFT
    )
    is_current = models.BooleanField(_("current"), default=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), blank=True, default="")
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-id"], name="quote_lead"),
            models.Index(
                fields=["expected_close_on"],
                name="quote_current_close",
                condition=Q(is_current=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="quote_amount_not_negative"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="quote_probability"),
            models.UniqueConstraint(
                fields=["lead"], condition=Q(is_current=True), name="quote_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"

    @property
    def weighted(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class EmailTemplate(models.Model):
    """A text a rep sends to a lead from Leadloop, in one language; `{first_name}` and the other
    names in `services.contact.TEMPLATE_FIELDS` are filled from the lead and the rep."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="email_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class OutgoingEmail(models.Model):
    """An e-mail a rep sent to a lead: kept as sent, delivered by a task with retries."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Could not be sent")

    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="+"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.CharField(max_length=254)
    reply_to = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=200)
    body = models.TextField()
    message_id = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["lead", "-id"], name="outgoing_email_lead"),
            models.Index(
                fields=["state", "changed_at"],
                name="outgoing_email_due",
                condition=Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class CalendarFeed(models.Model):
    """A user's private iCalendar address: only the token's hash is kept, and revoking it (or
    making a new one) ends the old address at once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}"


class PipelineTally(models.Model):
    """Running totals of the whole floor's pipeline, for the board and the forecast of those who
    see every lead (summing 300,000 open leads for each look took up to a second).

    Kept by the database itself: triggers on the lead and quote tables (migration 0003) add a row
    for each change to what the totals count, minus what the row counted before and plus what it
    counts after, so every write path (services, bulk updates, erasure, merges) is covered. The
    totals are the sums of the rows per key; `services.tally.fold` adds the rows up into one a
    key every minute, `verify` compares them with the leads and `rebuild` starts them again.

    kind `board`: a lead in the board's stages, keyed by status, source and currency, with
    potential revenue × probability. kind `forecast`: a current quote of such a lead, keyed by
    expected close month (`YYYY-MM`), owner and quote currency, with amount × probability and
    amount. Money is in whole cents (times the probability): exact integers.
    """

    kind = models.CharField(max_length=8)
    status = models.CharField(max_length=20, null=True)
    source_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField(null=True)
    month = models.CharField(max_length=7, null=True)
    currency = models.CharField(max_length=3)
    # Leads (board) or quotes (forecast), and how many of them have a weighted value.
    entries = models.IntegerField()
    priced = models.IntegerField()
    weighted = models.BigIntegerField(null=True)
    best = models.BigIntegerField(null=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.status or self.month} {self.currency} {self.entries}"
