"""What analytics keeps for speed: one row of milestones per lead (`LeadFact`), the point up to
which those rows follow the leads (`FactMark`), and the KPI norms marketing and sales agree on.

`LeadFact` is derived, never entered: `services.facts` computes each row from the lead, its
timeline, its quotes and its first-contact clock, and `leadloop analytics verify` compares the
rows with that computation. The columns that scope a row (`team`, `assigned_to`,
`owner_partner`) carry the lead's names, so `accounts.selectors.lead_visibility` filters facts
exactly as it filters leads.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _ref(to: str, **kwargs: object) -> models.ForeignKey:  # type: ignore[type-arg]
    """A plain reference: no constraint and no cascade, since the fact only mirrors the lead
    (a deleted team leaves an id that the reports show as "deleted")."""
    return models.ForeignKey(
        to,
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="+",
        **kwargs,  # type: ignore[arg-type]
    )


class LeadFact(models.Model):
    """One lead's way through the funnel: when it arrived and when it first reached each step.

    A later step implies the earlier ones: a lead recorded won without a recorded contact
    counts as contacted and quoted at the moment it was won (docs/analytics.md).
    """

    lead = models.OneToOneField(
        "leads.Lead", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    source = _ref("leads.Source")
    campaign = _ref("leads.Campaign")
    team = _ref("accounts.Team")
    assigned_to = _ref(settings.AUTH_USER_MODEL)
    owner_partner = _ref("accounts.PartnerOrganization")
    received_at = models.DateTimeField()
    is_duplicate = models.BooleanField(default=False)
    sales_ready_at = models.DateTimeField(null=True)
    contacted_at = models.DateTimeField(null=True)
    quoted_at = models.DateTimeField(null=True)
    won_at = models.DateTimeField(null=True)
    lost_at = models.DateTimeField(null=True)
    # The first-contact deadline of the lead's clock (None: no clock ever ran).
    contact_due_at = models.DateTimeField(null=True)
    # Minutes from sales-ready to the first contact (None: not contacted).
    first_contact_minutes = models.IntegerField(null=True)
    order_value = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, default="EUR")
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["received_at", "source", "campaign"], name="fact_received"),
            models.Index(fields=["sales_ready_at", "assigned_to"], name="fact_ready_rep"),
            models.Index(fields=["sales_ready_at", "team"], name="fact_ready_team"),
            models.Index(fields=["assigned_to", "sales_ready_at"], name="fact_rep"),
            models.Index(fields=["owner_partner", "sales_ready_at"], name="fact_partner"),
            # The day totals count the days of the leads won or lost on them.
            models.Index(
                fields=["won_at"], name="fact_won", condition=models.Q(won_at__isnull=False)
            ),
            models.Index(
                fields=["lost_at"], name="fact_lost", condition=models.Q(lost_at__isnull=False)
            ),
            # The leads not contacted whose deadline is still ahead (not overdue yet), with
            # every column the KPIs count of them: the search reads the index alone.
            models.Index(
                fields=[
                    "contact_due_at",
                    "sales_ready_at",
                    "is_duplicate",
                    "assigned_to",
                    "team",
                    "source",
                    "owner_partner",
                    "currency",
                    "contacted_at",
                ],
                name="fact_due_open",
                condition=models.Q(contacted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"facts of lead {self.lead_id}"


class FactMark(models.Model):
    """How far the facts follow the leads: every lead changed before `upto` (less the overlap
    that `services.facts` reads again) has its row computed."""

    name = models.CharField(max_length=40, primary_key=True)
    upto = models.DateTimeField()
    # Within leads changed at exactly `upto`, those up to this id are done (a run that stopped
    # inside a bulk change of thousands of leads goes on after the last one it computed).
    upto_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField()
    # The day totals' row ("totals"): the zone whose calendar days they count.
    zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.name} up to {self.upto:%Y-%m-%d %H:%M}"


class KpiNorms(models.Model):
    """The norms sales KPIs are measured against, agreed by marketing and sales: one row."""

    followed_up_min = models.PositiveSmallIntegerField(
        _("leads followed up, at least (%)"), default=80
    )
    overdue_max = models.PositiveSmallIntegerField(_("overdue, at most (%)"), default=10)
    quoted_min = models.PositiveSmallIntegerField(
        _("quoted of followed up, at least (%)"), default=80
    )
    won_min = models.PositiveSmallIntegerField(_("won of quoted, at least (%)"), default=25)
    order_value_min = models.DecimalField(
        _("average order value, at least"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("15000"),
    )
    first_contact_hours_max = models.PositiveSmallIntegerField(
        _("median hours to first contact, at most"), default=24
    )
    currency = models.CharField(_("reporting currency"), max_length=3, default="EUR")
    updated_at = models.DateTimeField(null=True)
    updated_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("KPI norms")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    followed_up_min__lte=100,
                    overdue_max__lte=100,
                    quoted_min__lte=100,
                    won_min__lte=100,
                ),
                name="kpi_norms_percentages",
            ),
            models.CheckConstraint(
                condition=models.Q(order_value_min__gte=0), name="kpi_norms_order_value"
            ),
        ]

    def __str__(self) -> str:
        return "KPI norms"


class AlertKind(models.TextChoices):
    CPO_ABOVE = "cpo_above", _("A source's cost per order above")
    ROI_BELOW = "roi_below", _("A source's ROI below")
    OVERDUE_ABOVE = "overdue_above", _("A team's overdue share above (%)")
    SOURCE_SILENT = "source_silent", _("A source stopped sending")


class AlertRule(models.Model):
    """A condition to watch, checked every quarter of an hour; its owner hears once when a
    subject (a source, a team) starts to breach it, and once when it recovers."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("when"), max_length=20, choices=AlertKind.choices)
    # The limit: an amount (CPO), a ratio (ROI), a percentage (overdue); none for silence.
    threshold = models.DecimalField(
        _("limit"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    window_days = models.PositiveSmallIntegerField(_("over the last (days)"), default=30)
    silent_hours = models.PositiveSmallIntegerField(_("silent for (hours)"), default=24)
    source = models.ForeignKey(
        "leads.Source",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("source"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("team"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("tell"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="source_silent") | models.Q(threshold__isnull=False),
                name="alert_rule_has_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(window_days__gte=1, silent_hours__gte=1),
                name="alert_rule_positive_windows",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AlertState(models.Model):
    """Where one subject of a rule stands: breaching since `breached_at`, or fine (None)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    subject = models.CharField(max_length=10)  # "source" or "team"
    subject_id = models.BigIntegerField()
    subject_name = models.CharField(max_length=200, blank=True, default="")
    value = models.DecimalField(max_digits=18, decimal_places=4, null=True)
    breached_at = models.DateTimeField(null=True)
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject", "subject_id"], name="alert_state_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.subject_name}"


class Credit(models.Model):
    """One touchpoint's share of a won lead's order under each attribution model (the shares of
    a lead add up to 1 per model). Derived, like `LeadFact`, by `services.attribution`."""

    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    position = models.PositiveSmallIntegerField()  # 0 = the first touchpoint
    touched_at = models.DateTimeField()
    kind = models.CharField(max_length=20)  # created, submitted, merged, survey
    source = _ref("leads.Source")
    campaign = _ref("leads.Campaign")
    utm_campaign = models.CharField(max_length=200, blank=True, default="")
    won_at = models.DateTimeField()
    order_value = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    first_touch = models.DecimalField(max_digits=7, decimal_places=6)
    last_touch = models.DecimalField(max_digits=7, decimal_places=6)
    linear = models.DecimalField(max_digits=7, decimal_places=6)
    position_based = models.DecimalField(max_digits=7, decimal_places=6)
    time_decay = models.DecimalField(max_digits=7, decimal_places=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lead", "position"], name="credit_unique")]
        indexes = [models.Index(fields=["won_at", "source", "campaign"], name="credit_won")]

    def __str__(self) -> str:
        return f"credit {self.position} of lead {self.lead_id}"


class ReportChoice(models.Model):
    """Whether a user gets the weekly report e-mail (everyone with figures does, unless they
    turned it off)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    weekly_report = models.BooleanField(_("e-mail me the weekly report"), default=True)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"weekly report for {self.user_id}: {self.weekly_report}"


class WeeklyReport(models.Model):
    """One weekly report e-mail to one user: written before it is sent, so a retried run sends
    none twice (a crash between the two leaves it `sending`, visible, not sent again)."""

    class State(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_of = models.DateField()  # the Monday it was due; it reports the week before
    state = models.CharField(max_length=10, choices=State.choices)
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week_of"], name="weekly_report_once")
        ]

    def __str__(self) -> str:
        return f"weekly report {self.week_of} to {self.user_id}: {self.state}"


# Day totals: the facts counted per day, kept by `services.totals` for the reports that count the
# whole floor (docs/analytics.md, "Day totals"). A day is a calendar day in the deployment's
# zone (the defaults' time zone, recorded in FactMark "totals"); `DirtyDay` names the days
# whose facts changed since they were last counted.

# The first-contact bins, by their upper edges in minutes: [0, 5), [5, 15), …, [10080, ∞).
CONTACT_EDGES = (5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 10080)
CONTACT_BINS = len(CONTACT_EDGES) + 1


class Counted(models.Model):
    """A day's row, or a month's (`whole_month`, on the month's first day: its days summed, so a
    year is read as twelve rows a key)."""

    day = models.DateField()
    whole_month = models.BooleanField(default=False)

    class Meta:
        abstract = True


class ContactBins(models.Model):
    """How many leads were first contacted within each bin of minutes (`cN`) and the sum of
    their minutes (`sN`): the median is read from these (`selectors.figures.binned_median`)."""

    c0 = models.PositiveIntegerField(default=0)
    c1 = models.PositiveIntegerField(default=0)
    c2 = models.PositiveIntegerField(default=0)
    c3 = models.PositiveIntegerField(default=0)
    c4 = models.PositiveIntegerField(default=0)
    c5 = models.PositiveIntegerField(default=0)
    c6 = models.PositiveIntegerField(default=0)
    c7 = models.PositiveIntegerField(default=0)
    c8 = models.PositiveIntegerField(default=0)
    c9 = models.PositiveIntegerField(default=0)
    c10 = models.PositiveIntegerField(default=0)
    c11 = models.PositiveIntegerField(default=0)
    c12 = models.PositiveIntegerField(default=0)
    s0 = models.BigIntegerField(default=0)
    s1 = models.BigIntegerField(default=0)
    s2 = models.BigIntegerField(default=0)
    s3 = models.BigIntegerField(default=0)
    s4 = models.BigIntegerField(default=0)
    s5 = models.BigIntegerField(default=0)
    s6 = models.BigIntegerField(default=0)
    s7 = models.BigIntegerField(default=0)
    s8 = models.BigIntegerField(default=0)
    s9 = models.BigIntegerField(default=0)
    s10 = models.BigIntegerField(default=0)
    s11 = models.BigIntegerField(default=0)
    s12 = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class ReceivedTotal(Counted, ContactBins):
    """The leads received on `day` from a source and campaign (lead currency apart): the source
    report's counts, revenue and first-contact bins (of valid leads)."""

    source = _ref("leads.Source")
    campaign = _ref("leads.Campaign")
    currency = models.CharField(max_length=3)
    leads = models.PositiveIntegerField(default=0)
    merged_later = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    sales_ready = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    quoted = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        indexes = [models.Index(fields=["whole_month", "day"], name="received_total_day")]

    def __str__(self) -> str:
        return f"received {self.day} source {self.source_id} campaign {self.campaign_id}"


class ReadyTotal(Counted, ContactBins):
    """The valid leads handed to sales on `day`, per rep, team, source or partner (`grouping`,
    `key` its id; None for none) and the lead's team (a manager reads their teams' rows): the
    sales KPIs and the follow-up impact table.

    The rows per source and per partner come twice: the team's (`rep` None), which the floor
    and a manager read, and the same leads again per rep they are assigned to (`rep` set),
    which a rep reads (and a manager, for their own leads outside their teams). The rows per
    rep and per team have no `rep`: those per rep already hold a rep's own."""

    grouping = models.CharField(max_length=8)
    key = models.BigIntegerField(null=True)
    team = _ref("accounts.Team")
    rep = _ref(settings.AUTH_USER_MODEL)
    currency = models.CharField(max_length=3)
    handed = models.PositiveIntegerField(default=0)
    followed_up = models.PositiveIntegerField(default=0)
    contacted_late = models.PositiveIntegerField(default=0)  # after the deadline
    due_open = models.PositiveIntegerField(default=0)  # not contacted, a deadline set
    quoted = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    won_valued = models.PositiveIntegerField(default=0)  # won with an order value
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    # First contacted within 24 hours (fast) or later (slow): how many, quoted, won, revenue.
    fast = models.PositiveIntegerField(default=0)
    fast_quoted = models.PositiveIntegerField(default=0)
    fast_won = models.PositiveIntegerField(default=0)
    fast_revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))
    slow = models.PositiveIntegerField(default=0)
    slow_quoted = models.PositiveIntegerField(default=0)
    slow_won = models.PositiveIntegerField(default=0)
    slow_revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        # (`rep` second: the floor's rows of a grouping are those with none)
        indexes = [
            models.Index(fields=["grouping", "rep", "whole_month", "day"], name="ready_total_rep")
        ]

    def __str__(self) -> str:
        return f"ready {self.day} {self.grouping} {self.key}"


class ClosedTotal(Counted):
    """The valid leads of a team won (with the whole days from receipt to the win, `days`) or
    lost (`days` None) on `day`: won and lost per month and the sales cycle.

    Two sets of rows: the team's (`rep` None), which the floor and a manager read, and the same
    leads again per rep they are assigned to (`rep` set), which a rep reads (and a manager, for
    their own leads outside their teams)."""

    team = _ref("accounts.Team")
    rep = _ref(settings.AUTH_USER_MODEL)
    currency = models.CharField(max_length=3)
    days = models.IntegerField(null=True)
    won = models.PositiveIntegerField(default=0)
    lost = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        # (`rep` first: the floor's rows are those with none)
        indexes = [models.Index(fields=["rep", "whole_month", "day"], name="closed_total_rep")]

    def __str__(self) -> str:
        return f"closed {self.day}"


class CreditTotal(Counted):
    """The attribution credits of the orders won on `day`, per touchpoint source, campaign and
    currency: each model's credited revenue (order value × share, summed)."""

    source = _ref("leads.Source")
    campaign = _ref("leads.Campaign")
    currency = models.CharField(max_length=3)
    first_touch = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))
    last_touch = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))
    linear = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))
    position_based = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))
    time_decay = models.DecimalField(max_digits=20, decimal_places=6, default=Decimal("0"))

    class Meta:
        indexes = [models.Index(fields=["whole_month", "day"], name="credit_total_day")]

    def __str__(self) -> str:
        return f"credited {self.day} source {self.source_id} campaign {self.campaign_id}"


class DirtyDay(models.Model):
    """A day whose totals of one cohort (received, ready, closed, credited) wait to be counted
    again.

    Not unique: a change always adds its row, and `services.totals.settle` deletes only the rows
    it read, so a day changed again while it was being counted stays marked."""

    cohort = models.CharField(max_length=8)
    day = models.DateField()

    def __str__(self) -> str:
        return f"{self.cohort} {self.day}"
