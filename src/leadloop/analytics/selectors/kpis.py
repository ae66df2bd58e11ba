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

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.analytics.models import KpiNorms, LeadFact
from leadloop.analytics.selectors.figures import Money, median, money, per, ratio
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.scope import fact_scope
from leadloop.leads.models import Source

Grouping = Literal["rep", "team", "source", "partner"]
KEYS: dict[str, str] = {
    "rep": "assigned_to_id",
    "team": "team_id",
    "source": "source_id",
    "partner": "owner_partner_id",
}
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
    contact_minutes: list[tuple[int, int]] = field(default_factory=list)

    def figures(self, norms: KpiNorms) -> dict[str, Any]:
        followed = ratio(self.followed_up, self.handed)
        late = ratio(self.overdue, self.handed)
        quoted = ratio(self.quoted, self.followed_up)
        won = ratio(self.won, self.quoted)
        value = per(self.revenue.amount, self.won_counted)
        minutes = median(self.contact_minutes)
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


def _cohort(actor: Actor, period: Period) -> Any:
    return LeadFact.objects.filter(
        fact_scope(actor),
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
    facts = _cohort(actor, period)
    key = KEYS[grouping]
    rows: dict[int | None, KpiRow] = {}
    counted = (
        facts.order_by()
        .values(key)
        .annotate(
            handed=Count("pk"),
            followed_up=Count("pk", filter=Q(contacted_at__isnull=False)),
            overdue=Count("pk", filter=overdue(now)),
            quoted=Count("pk", filter=Q(quoted_at__isnull=False)),
            won=Count("pk", filter=Q(won_at__isnull=False)),
        )
    )
    for found in counted:
        row = rows.setdefault(found[key], KpiRow(key=found[key], name=""))
        for name in ("handed", "followed_up", "overdue", "quoted", "won"):
            setattr(row, name, found[name])
    won = facts.filter(won_at__isnull=False, order_value__isnull=False)
    for found in (
        won.order_by().values(key, "currency").annotate(total=Sum("order_value"), n=Count("pk"))
    ):
        row = rows[found[key]]
        row.revenue.add(found["total"], found["currency"], norms.currency)
        if found["currency"] == norms.currency:
            row.won_counted += found["n"]
    minutes = facts.filter(first_contact_minutes__isnull=False)
    for found in minutes.order_by().values(key, "first_contact_minutes").annotate(n=Count("pk")):
        rows[found[key]].contact_minutes.append((found["first_contact_minutes"], found["n"]))
    names = _names(grouping, {k for k in rows if k is not None})
    for k, row in rows.items():
        row.name = names.get(k, _("(deleted)")) if k is not None else _("(none)")
    ordered = sorted(rows.values(), key=lambda r: (r.key is None, r.name.lower()))
    total = KpiRow(key=None, name=_("Total"))
    for row in ordered:
        for name in ("handed", "followed_up", "overdue", "quoted", "won", "won_counted"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.revenue.merge(row.revenue)
        total.contact_minutes.extend(row.contact_minutes)
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


def follow_up_impact(actor: Actor, period: Period) -> tuple[str, list[ImpactRow]]:
    """Leads handed to sales in `period`, split by how soon they were first contacted: within
    24 hours, later, never; with how many were quoted and won, and the revenue."""
    norms = get_norms()
    facts = _cohort(actor, period)
    buckets = {
        "within_24h": (_("Within 24 hours"), Q(first_contact_minutes__lte=DAY_MINUTES)),
        "later": (_("Later"), Q(first_contact_minutes__gt=DAY_MINUTES)),
        "never": (_("Never"), Q(contacted_at__isnull=True)),
    }
    result = []
    for bucket, (label, condition) in buckets.items():
        found = facts.filter(condition).aggregate(
            leads=Count("pk"),
            quoted=Count("pk", filter=Q(quoted_at__isnull=False)),
            won=Count("pk", filter=Q(won_at__isnull=False)),
            revenue=Sum("order_value", filter=Q(won_at__isnull=False, currency=norms.currency)),
        )
        revenue = money(found["revenue"] or Decimal("0"))
        result.append(
            ImpactRow(
                bucket=bucket,
                label=str(label),
                leads=found["leads"],
                quoted=found["quoted"],
                won=found["won"],
                conversion=ratio(found["won"], found["leads"]),
                revenue=revenue,
                revenue_per_lead=per(revenue, found["leads"]),
            )
        )
    return norms.currency, result
