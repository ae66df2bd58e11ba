"""Sales KPIs against the agreed norms, per rep, team or source, and the follow-up impact table.

A cohort of the leads handed to sales in the period (their `sales_ready_at` falls in it), as
far as the viewer may see them (`scope`). Each KPI carries its norm and whether it meets it
(None when the KPI is undefined: no leads to measure). Definitions in docs/analytics.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.analytics.models import KpiNorms, LeadFact, ReadyTotal
from leadloop.analytics.selectors import counts
from leadloop.analytics.selectors.figures import ContactBinned, Money, money, per, ratio
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.scope import fact_scope
from leadloop.leads.models import Source

Grouping = Literal["rep", "team", "source", "partner"]
KEYS: dict[str, str] = counts.GROUPINGS
DAY_MINUTES = 24 * 60
LABELS = {
    "followed_up": gettext_lazy("Followed up"),
    "overdue": gettext_lazy("Overdue"),
    "quoted": gettext_lazy("Quoted of followed up"),
    "won": gettext_lazy("Won of quoted"),
    "order_value": gettext_lazy("Average order value"),
    "hours_to_contact": gettext_lazy("Median hours to first contact"),
}


def overdue(now: dt.datetime) -> Q:
    """First contact later than the clock's deadline, or none yet and the deadline passed."""
    return Q(contact_due_at__isnull=False) & (
        Q(contacted_at__gt=F("contact_due_at"))
        | Q(contacted_at__isnull=True, contact_due_at__lt=now)
    )


@dataclass
class KpiRow:
    key: int | None
    name: str
    handed: int = 0
    followed_up: int = 0
    overdue: int = 0
    quoted: int = 0
    won: int = 0
    won_counted: int = 0  # won leads whose value is in the reporting currency
    revenue: Money = field(default_factory=Money)
    contact: ContactBinned = field(default_factory=ContactBinned)

    def figures(self, norms: KpiNorms) -> dict[str, Any]:
        followed = ratio(self.followed_up, self.handed)
        late = ratio(self.overdue, self.handed)
        quoted = ratio(self.quoted, self.followed_up)
        won = ratio(self.won, self.quoted)
        value = per(self.revenue.amount, self.won_counted)
        minutes = self.contact.median()
        hours = None if minutes is None else (minutes / 60).quantize(Decimal("0.1"))
        return {
            "key": self.key,
            "name": self.name,
            "handed": self.handed,
            "followed_up": self.followed_up,
            "overdue": self.overdue,
            "quoted": self.quoted,
            "won": self.won,
            "revenue": money(self.revenue.amount),
            "revenue_other": self.revenue.as_dict(),
            "kpis": {
                "followed_up": _kpi(followed, Decimal(norms.followed_up_min) / 100, at_least=True),
                "overdue": _kpi(late, Decimal(norms.overdue_max) / 100, at_least=False),
                "quoted": _kpi(quoted, Decimal(norms.quoted_min) / 100, at_least=True),
                "won": _kpi(won, Decimal(norms.won_min) / 100, at_least=True),
                "order_value": _kpi(value, norms.order_value_min, at_least=True),
                "hours_to_contact": _kpi(
                    hours, Decimal(norms.first_contact_hours_max), at_least=False
                ),
            },
        }


def _kpi(value: Decimal | None, norm: Decimal, *, at_least: bool) -> dict[str, Any]:
    meets = None if value is None else (value >= norm if at_least else value <= norm)
    return {"value": value, "norm": norm, "meets": meets}


@dataclass(frozen=True)
class KpiReport:
    period: Period
    grouping: Grouping
    currency: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]


def _names(grouping: Grouping, keys: set[int]) -> dict[int, str]:
    if grouping == "rep":
        users = User.objects.filter(pk__in=keys)
        return {u.pk: u.get_full_name() or u.username for u in users}
    model = {"team": Team, "source": Source, "partner": PartnerOrganization}[grouping]
    return dict(model.objects.filter(pk__in=keys).values_list("pk", "name"))  # type: ignore[attr-defined]


READY_COUNTED = (
    "handed", "followed_up", "contacted_late", "due_open", "quoted", "won", "won_valued",
    "revenue", "fast", "fast_quoted", "fast_won", "fast_revenue", "slow", "slow_quoted",
    "slow_won", "slow_revenue", *counts.BINS,
)  # fmt: skip


def ready_counts(
    actor: Actor, period: Period, grouping: Grouping, now: dt.datetime
) -> list[dict[str, Any]]:
    """The counts of the viewer's valid leads handed to sales in `period`, per group ("group")
    and lead currency, with "overdue" as of `now`: from the day totals as far as they serve the
    viewer (`counts.totals_reading`), the rest from the facts (the same aggregates)."""
    scope = fact_scope(actor)
    found: list[dict[str, Any]] = []
    reading = counts.totals_reading(actor, period)
    if reading is not None:
        found = _summed_totals(reading, period, grouping)
    if reading is None or (reading.rest is not None and not reading.own_rows(grouping)):
        rest = scope if reading is None or reading.rest is None else reading.rest
        counted: Any = (
            _cohort(rest, period)
            .order_by()
            .values("currency", group=F(KEYS[grouping]))
            .annotate(**counts.ready_aggregates())
        )
        counts.merge_counted(found, list(counted), ("group", "currency"))
    # Overdue: contacted after the deadline, or not contacted and the deadline passed. The
    # leads whose deadline is still ahead are found by it alone (the partial index
    # `fact_due_open`); the period is a condition of the count, not of the search, so that no
    # database searches the period's whole cohort for them instead.
    in_period = Q(sales_ready_at__gte=period.start_at, sales_ready_at__lt=period.end_at)
    ahead = (
        LeadFact.objects.filter(
            scope, is_duplicate=False, contacted_at__isnull=True, contact_due_at__gte=now
        )
        .order_by()
        .values("currency", group=F(KEYS[grouping]))
        # (counting the deadline, not the key, which the index does not hold on SQLite)
        .annotate(n=Count("contact_due_at", filter=in_period))
    )
    not_due = {(row["group"], row["currency"]): row["n"] for row in ahead}
    for row in found:
        waiting = not_due.get((row["group"], row["currency"]), 0)
        # (at least 0: the facts may already hold a lead the totals count after the next settle)
        row["overdue"] = max(0, row["contacted_late"] + row["due_open"] - waiting)
    return found


def _summed_totals(
    reading: counts.Reading, period: Period, grouping: Grouping
) -> list[dict[str, Any]]:
    """The ready totals' counts that `reading` reads: the teams' rows, and the viewer's own
    rows kept per rep (outside those teams) where the grouping has them."""
    in_period = ReadyTotal.objects.filter(counts.in_period(period))
    teams_rows = in_period.filter(grouping=grouping, rep__isnull=True)
    parts = []
    if reading.teams is None:
        parts.append((teams_rows, F("key")))
    elif reading.teams:
        parts.append((teams_rows.filter(team_id__in=reading.teams), F("key")))
    if reading.own_rows(grouping):
        if grouping in counts.PER_REP:
            own = in_period.filter(grouping=grouping, rep_id=reading.own)
            group = F("key")
        else:
            own = in_period.filter(grouping="rep", rep__isnull=True, key=reading.own)
            group = F("key") if grouping == "rep" else F("team_id")
        if reading.teams:
            own = own.exclude(team_id__in=reading.teams)
        parts.append((own, group))
    found: list[dict[str, Any]] = []
    for rows, group in parts:
        summed: Any = (
            rows.order_by().values("currency", group=group).annotate(**counts.summed(READY_COUNTED))
        )
        counts.merge_counted(found, list(summed), ("group", "currency"))
    return found


def _cohort(scope: Q, period: Period) -> Any:
    return LeadFact.objects.filter(
        scope,
        is_duplicate=False,
        sales_ready_at__gte=period.start_at,
        sales_ready_at__lt=period.end_at,
    )


def kpi_report(
    actor: Actor, period: Period, *, grouping: Grouping = "rep", now: dt.datetime
) -> KpiReport:
    """The KPIs of the viewer's leads handed to sales in `period`, a row per rep (team, source
    or partner; one row for leads without one), sorted by name, and the total."""
    norms = get_norms()
    rows: dict[int | None, KpiRow] = {}
    for found in ready_counts(actor, period, grouping, now):
        row = rows.setdefault(found["group"], KpiRow(key=found["group"], name=""))
        for name in ("handed", "followed_up", "overdue", "quoted", "won"):
            setattr(row, name, getattr(row, name) + found[name])
        if found["won_valued"]:
            row.revenue.add(found["revenue"], found["currency"], norms.currency)
            if found["currency"] == norms.currency:
                row.won_counted += found["won_valued"]
        row.contact.add(found)
    names = _names(grouping, {k for k in rows if k is not None})
    for k, row in rows.items():
        row.name = names.get(k, _("(deleted)")) if k is not None else _("(none)")
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.name.lower()))
    total = KpiRow(key=None, name=_("Total"))
    for row in ordered:
        for name in ("handed", "followed_up", "overdue", "quoted", "won", "won_counted"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.revenue.merge(row.revenue)
        total.contact.merge(row.contact)
    return KpiReport(
        period=period,
        grouping=grouping,
        currency=norms.currency,
        rows=[row.figures(norms) for row in ordered],
        total=total.figures(norms),
    )


@dataclass(frozen=True)
class ImpactRow:
    bucket: str
    label: str
    leads: int
    quoted: int
    won: int
    conversion: Decimal | None
    revenue: Decimal | None
    revenue_per_lead: Decimal | None


def follow_up_impact(
    actor: Actor, period: Period, *, now: dt.datetime | None = None
) -> tuple[str, list[ImpactRow]]:
    """Leads handed to sales in `period`, split by how soon they were first contacted: within
    24 hours, later, never; with how many were quoted and won, and the revenue (in the
    reporting currency)."""
    norms = get_norms()
    sums = dict.fromkeys(
        ("handed", "followed_up", "quoted", "won", "fast", "fast_quoted", "fast_won", "slow",
         "slow_quoted", "slow_won"),
        0,
    )  # fmt: skip
    revenue = {"all": Decimal("0"), "fast": Decimal("0"), "slow": Decimal("0")}
    for found in ready_counts(actor, period, "team", now or timezone.now()):
        for name in sums:
            sums[name] += found[name]
        if found["currency"] == norms.currency:
            revenue["all"] += found["revenue"] or 0
            revenue["fast"] += found["fast_revenue"] or 0
            revenue["slow"] += found["slow_revenue"] or 0
    buckets = {
        "within_24h": (
            _("Within 24 hours"), sums["fast"], sums["fast_quoted"], sums["fast_won"],
            revenue["fast"],
        ),
        "later": (
            _("Later"), sums["slow"], sums["slow_quoted"], sums["slow_won"], revenue["slow"]
        ),
        "never": (
            _("Never"),
            sums["handed"] - sums["followed_up"],
            sums["quoted"] - sums["fast_quoted"] - sums["slow_quoted"],
            sums["won"] - sums["fast_won"] - sums["slow_won"],
            revenue["all"] - revenue["fast"] - revenue["slow"],
        ),
    }  # fmt: skip
    result = []
    for bucket, (label, leads, quoted, won, earned) in buckets.items():
        amount = money(earned)
        result.append(
            ImpactRow(
                bucket=bucket,
                label=str(label),
                leads=leads,
                quoted=quoted,
                won=won,
                conversion=ratio(won, leads),
                revenue=amount,
                revenue_per_lead=per(amount, leads),
            )
        )
    return norms.currency, result
