"""Won and lost per month, the win rate and the sales cycle: the outcomes of the viewer's leads
closed in a period (by the day they were won or lost, in the viewer's zone), whenever they
were received. The open pipeline by stage, close month, rep and source is the sales pipeline
and forecast (sales.selectors.pipeline), linked from the pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from leadloop.accounts.actors import Actor
from leadloop.analytics.models import ClosedTotal, LeadFact
from leadloop.analytics.selectors import counts
from leadloop.analytics.selectors.figures import Money, median, money, ratio
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.scope import fact_scope

DAY = 86400


@dataclass(frozen=True)
class OutcomeReport:
    period: Period
    currency: str
    months: list[dict[str, Any]]
    won: int
    lost: int
    win_rate: Decimal | None
    revenue: Decimal | None
    revenue_other: dict[str, str]
    median_days_to_win: Decimal | None


def outcome_report(actor: Actor, period: Period) -> OutcomeReport:
    """Per month of the period: leads won (and their value) and lost; over the period the win
    rate won ÷ (won + lost) and the median days from receipt to the win."""
    currency = get_norms().currency
    months: dict[dt.date, dict[str, Any]] = {}
    days: dict[int, int] = {}

    def month(day: dt.date, outcome: str, n: int, value: Decimal | None, row_currency: str) -> None:
        key = day.replace(day=1)
        into = months.setdefault(key, {"month": key, "won": 0, "lost": 0, "revenue": Money()})
        into[outcome] += n
        into["revenue"].add(value, row_currency, currency)

    scope = fact_scope(actor)
    reading = counts.totals_reading(actor, period)
    if reading is not None:
        for totals in _closed_totals(reading, period):
            for row in totals.order_by().values(
                "day", "currency", "days", "won", "lost", "revenue"
            ):
                if row["won"] and row["days"] is not None:
                    month(row["day"], "won", row["won"], row["revenue"] or None, row["currency"])
                    days[row["days"]] = days.get(row["days"], 0) + row["won"]
                if row["lost"]:
                    month(row["day"], "lost", row["lost"], None, row["currency"])
    else:
        _count_facts(scope, period, currency, month, days)
    total = Money()
    for found in months.values():
        total.merge(found["revenue"])
    won_count = sum(m["won"] for m in months.values())
    lost_count = sum(m["lost"] for m in months.values())
    return OutcomeReport(
        period=period,
        currency=currency,
        months=[
            {
                "month": m["month"],
                "won": m["won"],
                "lost": m["lost"],
                "revenue": money(m["revenue"].amount),
                "revenue_other": m["revenue"].as_dict(),
                "win_rate": ratio(m["won"], m["won"] + m["lost"]),
            }
            for m in sorted(months.values(), key=lambda m: m["month"])
        ],
        won=won_count,
        lost=lost_count,
        win_rate=ratio(won_count, won_count + lost_count),
        revenue=money(total.amount),
        revenue_other=total.as_dict(),
        median_days_to_win=median(days.items()),
    )


def _closed_totals(reading: counts.Reading, period: Period) -> list[Any]:
    """The closed totals that `reading` reads: the teams' rows (which have no rep), and the
    viewer's own rows kept per rep, outside those teams."""
    in_period = ClosedTotal.objects.filter(counts.in_period(period))
    parts = []
    if reading.teams is None:
        parts.append(in_period.filter(rep=None))
    elif reading.teams:
        parts.append(in_period.filter(rep=None, team_id__in=reading.teams))
    if reading.own is not None:
        own = in_period.filter(rep_id=reading.own)
        parts.append(own.exclude(team_id__in=reading.teams) if reading.teams else own)
    return parts


def _count_facts(scope: Q, period: Period, currency: str, month: Any, days: dict[int, int]) -> None:
    """The outcomes of the facts in `scope` closed in `period`, into `month` and `days`.

    For part of the floor (a partner, or a rep and a manager in a period the totals cannot
    serve) every won and lost lead of the viewer is read and the period checked here: a search
    by the won or lost moment would walk the whole floor's closed leads of the period to find a
    few."""
    start, end = period.start_at, period.end_at
    facts = LeadFact.objects.filter(scope, is_duplicate=False)
    if scope:
        won, lost = facts.filter(won_at__isnull=False), facts.filter(lost_at__isnull=False)
    else:
        won = facts.filter(won_at__gte=start, won_at__lt=end)
        lost = facts.filter(lost_at__gte=start, lost_at__lt=end)
    for received, won_at, value, row_currency in won.values_list(
        "received_at", "won_at", "order_value", "currency"
    ).iterator(chunk_size=5000):
        if won_at is None or not start <= won_at < end:
            continue
        month(won_at.astimezone(period.zone).date(), "won", 1, value, row_currency)
        day = int((won_at - received).total_seconds() // DAY)
        days[day] = days.get(day, 0) + 1
    for lost_at in lost.values_list("lost_at", flat=True).iterator(chunk_size=5000):
        if lost_at is not None and start <= lost_at < end:
            month(lost_at.astimezone(period.zone).date(), "lost", 1, None, currency)
