"""What the reports count of the facts, written once for both ways of counting: straight from
`LeadFact`, and from the day totals (`services.totals`), which are these same aggregates per
day, summed. `totals_reading` says which way a viewer's figures are counted (docs/analytics.md,
"Day totals").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from leadloop.accounts.actors import Actor
from leadloop.analytics.models import CONTACT_BINS, FactMark
from leadloop.analytics.selectors.figures import bin_aggregates
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.scope import fact_scope, manager_teams, own_rep

GROUPINGS = {
    "rep": "assigned_to_id",
    "team": "team_id",
    "source": "source_id",
    "partner": "owner_partner_id",
}
# The groupings whose ready totals are kept again per rep (those per rep and per team have a
# rep's own leads in the rows per rep).
PER_REP = ("source", "partner")
DAY_MINUTES = 24 * 60
VALID = Q(is_duplicate=False)
WON = Q(won_at__isnull=False)
QUOTED = Q(quoted_at__isnull=False)
FAST = Q(first_contact_minutes__lte=DAY_MINUTES)
SLOW = Q(first_contact_minutes__gt=DAY_MINUTES)
BINS = tuple(f"{kind}{i}" for kind in "cs" for i in range(CONTACT_BINS))
ZERO = Decimal("0")
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")


def received_aggregates() -> dict[str, Any]:
    """Per group of facts cohorted by receipt: the source report's counts."""
    return {
        "leads": Count("pk"),
        "merged_later": Count("pk", filter=Q(is_duplicate=True)),
        "valid": Count("pk", filter=VALID),
        "sales_ready": Count("pk", filter=VALID & Q(sales_ready_at__isnull=False)),
        "contacted": Count("pk", filter=VALID & Q(contacted_at__isnull=False)),
        "quoted": Count("pk", filter=VALID & QUOTED),
        "won": Count("pk", filter=VALID & WON),
        "revenue": Sum("order_value", filter=VALID & WON, default=ZERO),
        **bin_aggregates(VALID),
    }


def ready_aggregates() -> dict[str, Any]:
    """Per group of valid facts cohorted by sales-ready: the KPIs' and impact table's counts.
    Overdue is `contacted_late` plus those of `due_open` whose deadline has passed."""
    return {
        "handed": Count("pk"),
        "followed_up": Count("pk", filter=Q(contacted_at__isnull=False)),
        "contacted_late": Count("pk", filter=Q(contacted_at__gt=F("contact_due_at"))),
        "due_open": Count("pk", filter=Q(contacted_at__isnull=True, contact_due_at__isnull=False)),
        "quoted": Count("pk", filter=QUOTED),
        "won": Count("pk", filter=WON),
        "won_valued": Count("pk", filter=WON & Q(order_value__isnull=False)),
        "revenue": Sum("order_value", filter=WON, default=ZERO),
        "fast": Count("pk", filter=FAST),
        "fast_quoted": Count("pk", filter=FAST & QUOTED),
        "fast_won": Count("pk", filter=FAST & WON),
        "fast_revenue": Sum("order_value", filter=FAST & WON, default=ZERO),
        "slow": Count("pk", filter=SLOW),
        "slow_quoted": Count("pk", filter=SLOW & QUOTED),
        "slow_won": Count("pk", filter=SLOW & WON),
        "slow_revenue": Sum("order_value", filter=SLOW & WON, default=ZERO),
        **bin_aggregates(),
    }


def summed(names: Any) -> dict[str, Any]:
    """The day totals' columns summed over the days of a period."""
    return {name: Sum(name, default=0) for name in names}


def in_period(period: Period) -> Q:
    """The totals rows that make up `period`: the month rows of its whole months, the day rows
    of the days before and after them."""
    months = []
    month = period.first if period.first.day == 1 else _next_month(period.first)
    while _next_month(month) <= period.end:
        months.append(month)
        month = _next_month(month)
    if not months:
        return Q(whole_month=False, day__gte=period.first, day__lt=period.end)
    found = Q(whole_month=True, day__in=months)
    if period.first < months[0]:
        found |= Q(whole_month=False, day__gte=period.first, day__lt=months[0])
    if _next_month(months[-1]) < period.end:
        found |= Q(whole_month=False, day__gte=_next_month(months[-1]), day__lt=period.end)
    return found


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def reads_totals(period: Period) -> bool:
    """Whether the day totals can serve `period`: whole days of the zone they were counted
    in, unless turned off (settings.ANALYTICS_DAY_TOTALS)."""
    if not settings.ANALYTICS_DAY_TOTALS:
        return False
    counted = FactMark.objects.filter(name="totals").values_list("zone", flat=True).first()
    return bool(counted) and getattr(period.zone, "key", None) == counted


@dataclass(frozen=True)
class Reading:
    """How a report reads the totals for a viewer: the teams' rows of every team (`teams` None)
    or of these teams, plus the viewer's own leads outside them: the rows kept per rep of
    `own` (the ready totals per rep, and per source and partner per rep; the closed totals'
    rows per rep), or, where a report has none, the facts matching `rest`. A rep is read as a
    manager of no team."""

    teams: list[int] | None
    rest: Q | None = None
    own: int | None = None

    def own_rows(self, grouping: str) -> bool:
        """Whether the viewer's own leads come from their rows kept per rep, for the ready
        totals `grouping`: the rows per rep (with the lead's team) for the groupings per rep
        and team, the rows per rep of a source or partner for those."""
        return self.own is not None and grouping in ("rep", "team", *PER_REP)


def totals_reading(actor: Actor, period: Period) -> Reading | None:
    """How the viewer's figures come from the day totals: all of them for a viewer of the
    whole floor; their teams' and their own for a sales manager; their own for a rep. None
    when they must be counted from the facts (a partner), or the totals cannot serve the
    period."""
    scope = fact_scope(actor)
    if not reads_totals(period):
        return None
    if not scope:
        return Reading(teams=None)
    rep = own_rep(actor)
    if rep is not None:
        return Reading(teams=[], rest=scope, own=rep)
    managed = manager_teams(actor)
    if managed is None:
        return None
    return Reading(teams=managed[0], rest=managed[1], own=getattr(actor, "pk", None))


def merge_counted(
    into: list[dict[str, Any]], more: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    """Add rows of counts to the rows with the same `keys` (appended when there is none)."""
    found = {tuple(row[k] for k in keys): row for row in into}
    for row in more:
        key = tuple(row[k] for k in keys)
        if key not in found:
            found[key] = dict(row)
            into.append(found[key])
            continue
        for name, value in row.items():
            if name not in keys and value is not None:
                found[key][name] = (found[key][name] or 0) + value
