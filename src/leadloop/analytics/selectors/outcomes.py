"""Won and lost per month, the win rate and the sales cycle: the outcomes of the viewer's leads
closed in a period (by the day they were won or lost, in the viewer's zone), whenever they
were received. The open pipeline by stage, close month, rep and source is the sales pipeline
and forecast (sales.selectors.pipeline), linked from the pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from leadloop.accounts.actors import Actor
from leadloop.analytics.models import LeadFact
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
    facts = LeadFact.objects.filter(fact_scope(actor), is_duplicate=False)
    start, end = period.start_at, period.end_at
    won = facts.filter(won_at__gte=start, won_at__lt=end)
    lost = facts.filter(lost_at__gte=start, lost_at__lt=end)
    months: dict[Any, dict[str, Any]] = {}

    def month(key: Any) -> dict[str, Any]:
        return months.setdefault(
            key.date(), {"month": key.date(), "won": 0, "lost": 0, "revenue": Money()}
        )

    for row in (
        won.annotate(m=TruncMonth("won_at", tzinfo=period.zone))
        .order_by()
        .values("m", "currency")
        .annotate(n=Count("pk"), total=Sum("order_value"))
    ):
        into = month(row["m"])
        into["won"] += row["n"]
        into["revenue"].add(row["total"], row["currency"], currency)
    for lost_row in (
        lost.annotate(m=TruncMonth("lost_at", tzinfo=period.zone))
        .order_by()
        .values("m")
        .annotate(n=Count("pk"))
    ):
        month(lost_row["m"])["lost"] += lost_row["n"]
    total = Money()
    for found in months.values():
        total.merge(found["revenue"])
    days: dict[int, int] = {}
    for received, won_at in won.values_list("received_at", "won_at").iterator(chunk_size=5000):
        if won_at is None:  # the filter above rules it out
            continue
        day = int((won_at - received).total_seconds() // DAY)
        days[day] = days.get(day, 0) + 1
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
