"""Routing: versioned rule sets, each team's push strategy, reps' capacity and absences, and
the decision taken for every routed lead."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    WEIGHTED = "weighted", _("Weighted")
    LOAD_BALANCED = "load_balanced", _("Fewest open leads")


class RuleSet(models.Model):
    """One published version of the routing rules. Immutable: a change publishes a new version,
    and the newest is the one in force. `rules` is the ordered list (first match wins), each
    `{"name", "conditions": [{"field", "op", "value"}], "action": {...}}`; `default` is the
    action for a lead no rule matches."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    rules = models.JSONField(default=list)
    default = models.JSONField(default=dict)
    note = models.CharField(_("note"), max_length=300, blank=True, default="")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by_label = models.CharField(max_length=150, blank=True, default="")
    published_at = models.DateTimeField(_("published"))

    class Meta:
        ordering = ["-version"]
        verbose_name = _("routing rule set")

    def __str__(self) -> str:
        return f"v{self.version}"


class RuleDraft(models.Model):
    """The rules being edited, before they are published (one row, pk 1)."""

    rules = models.JSONField(default=list)
    default = models.JSONField(default=dict)
    based_on = models.PositiveIntegerField(null=True, blank=True)
    updated_by_label = models.CharField(max_length=150, blank=True, default="")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="rule_draft_one_row")]

    def __str__(self) -> str:
        return f"draft (from v{self.based_on})"


class TeamRouting(models.Model):
    """How a team hands out the leads pushed to it. The row is also the lock that keeps two
    leads routed at the same instant from both taking the last free place of a rep."""

    team = models.OneToOneField(
        "accounts.Team", primary_key=True, on_delete=models.CASCADE, related_name="routing"
    )
    strategy = models.CharField(
        _("strategy"), max_length=20, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    # Working days as ISO weekday digits ("12345" = Monday to Friday; every day by default) and
    # hours in the deployment's time zone; without hours the team takes leads all day.
    work_days = models.CharField(_("working days"), max_length=7, default="1234567")
    work_start = models.TimeField(_("working hours from"), null=True, blank=True)
    work_end = models.TimeField(_("working hours until"), null=True, blank=True)
    # A lead left in the pool this long is shown to the manager as waiting too long.
    pool_alert_hours = models.PositiveSmallIntegerField(_("alert after hours unclaimed"), default=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("team routing")

    def __str__(self) -> str:
        return f"{self.team_id} {self.strategy}"


class RepCapacity(models.Model):
    """What one rep takes: whether they get pushed leads at all, how many open at most, how
    many a day, their weight in a weighted team and the languages they speak."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="capacity",
    )
    accepts_leads = models.BooleanField(_("takes new leads"), default=True)
    max_open = models.PositiveIntegerField(_("most open leads"), null=True, blank=True)
    daily_quota = models.PositiveIntegerField(_("most new leads a day"), null=True, blank=True)
    claim_limit = models.PositiveIntegerField(
        _("most leads taken from the pool a day"), null=True, blank=True
    )
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    languages = models.CharField(
        _("languages"), max_length=60, blank=True, default="", help_text=_("For example: nl, en")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("rep capacity")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1), name="rep_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} max {self.max_open} / day {self.daily_quota}"

    @property
    def language_list(self) -> list[str]:
        return [code.strip().lower() for code in self.languages.split(",") if code.strip()]


class Absence(models.Model):
    """A rep who is away (holiday, sick, course) from `starts_on` to `ends_on`, both included."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on"]
        verbose_name = _("absence")
        indexes = [models.Index(fields=["user", "ends_on"], name="absence_user_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.starts_on}–{self.ends_on}"


class Outcome(models.TextChoices):
    ASSIGNED = "assigned", _("To a person")
    POOLED = "pooled", _("To a team pool")
    PARTNER = "partner", _("To a partner")
    SOLD = "sold", _("Sold to a buyer")
    NURTURE = "nurture", _("Kept in nurturing")
    UNROUTED = "unrouted", _("Could not be routed")


class RouteDecision(models.Model):
    """Where routing sent one lead, by which rule of which version, and why. Written in the same
    transaction as the move itself, so a lead is routed once however often its task runs."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    version = models.PositiveIntegerField(null=True, blank=True)
    rule_name = models.CharField(max_length=200, blank=True, default="")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    partner = models.ForeignKey(
        "accounts.PartnerOrganization",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    explanation = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="decision_lead"),
            # Round-robin and the daily quota: each rep's pushed leads by time.
            models.Index(
                fields=["user", "at"], name="decision_user", condition=Q(user__isnull=False)
            ),
            models.Index(fields=["at"], name="decision_at"),
            # Round-robin: when routing last pushed each rep a lead of this team (one entry read).
            models.Index(
                fields=["team", "user", "at"],
                name="decision_team_user",
                condition=Q(user__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} {self.outcome} v{self.version}"


class PoolClaim(models.Model):
    """A rep took a lead from their team's pool ("next lead" or a chosen one)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user", "at"], name="claim_user_at"),
            models.Index(fields=["lead"], name="claim_lead"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} by {self.user_id}"


class PoolAlert(models.Model):
    """A pooled lead nobody took within its team's alert hours, shown to the team's manager.
    One per stay in the pool: `pooled_at` tells a new stay from the one already alerted."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+")
    pooled_at = models.DateTimeField()
    alerted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "pooled_at"], name="pool_alert_once_per_stay"),
        ]
        indexes = [models.Index(fields=["team", "alerted_at"], name="pool_alert_team")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} pooled since {self.pooled_at:%Y-%m-%d %H:%M}"


class PartnerRouting(models.Model):
    """How long a partner has to accept or reject a lead routed to it."""

    partner = models.OneToOneField(
        "accounts.PartnerOrganization",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="routing",
    )
    response_hours = models.PositiveSmallIntegerField(_("hours to accept or reject"), default=48)

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.response_hours} h"


class OfferState(models.TextChoices):
    OFFERED = "offered", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("No answer in time")


class PartnerOffer(models.Model):
    """A lead routed to a partner, waiting for it to accept or reject within its response time.
    A rejected or expired offer sends the lead back to routing, which skips that partner."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(
        "accounts.PartnerOrganization", on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=10, choices=OfferState.choices, default=OfferState.OFFERED)
    offered_at = models.DateTimeField()
    respond_by = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-offered_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "state", "offered_at"], name="offer_partner"),
            models.Index(fields=["lead"], name="offer_lead"),
            models.Index(fields=["respond_by"], name="offer_due", condition=Q(state="offered")),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → partner {self.partner_id}: {self.state}"


from leadloop.distribution.selling.models import *  # noqa: E402, F403
