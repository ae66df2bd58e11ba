"""Attribution: the revenue of the leads won in a period credited to their touchpoints' sources
(or campaigns) under five models side by side, with the cost of the period and the ROI each
model gives (docs/analytics.md). Marketing and admins only, as the source report."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import F, Sum
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.analytics.models import Credit, CreditTotal
from leadloop.analytics.selectors import counts
from leadloop.analytics.selectors.figures import Money, money, ratio
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.sources import source_report
from leadloop.leads.models import Campaign, Source

MODELS = counts.MODELS
Grouping = Literal["source", "campaign"]


@dataclass
class AttributionRow:
    source_id: int | None
    source: str
    campaign_id: int | None = None
    campaign: str = ""
    revenue: dict[str, Money] = field(default_factory=lambda: {m: Money() for m in MODELS})
    cost: Money = field(default_factory=Money)

    def figures(self) -> dict[str, Any]:
        cost = money(self.cost.amount)
        return {
            "source_id": self.source_id,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "campaign": self.campaign,
            "cost": cost,
            "cost_other": self.cost.as_dict(),
            "models": {
                model: {
                    "revenue": money(self.revenue[model].amount),
                    "revenue_other": self.revenue[model].as_dict(),
                    "roi": ratio(money(self.revenue[model].amount), cost)
                    if self.cost.amount
                    else None,
                }
                for model in MODELS
            },
        }


@dataclass(frozen=True)
class AttributionReport:
    period: Period
    grouping: Grouping
    currency: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]


def attribution_report(
    actor: Actor, period: Period, *, grouping: Grouping = "source"
) -> AttributionReport:
    """Per source (or campaign; survey answers under "Nurture surveys"), the revenue of the
    orders won in `period` credited under each model, the cost of the period, and each
    model's ROI."""
    require(actor, Permission.SEE_SOURCE_ROI)
    currency = get_norms().currency
    sources = dict(Source.objects.values_list("pk", "name"))
    campaigns = dict(Campaign.objects.values_list("pk", "name"))
    rows: dict[tuple[int | None, int | None], AttributionRow] = {}

    def row(source: int | None, campaign: int | None) -> AttributionRow:
        key = (source, campaign if grouping == "campaign" else None)
        if key not in rows:
            rows[key] = AttributionRow(
                source_id=source,
                source=sources.get(source, f"#{source}") if source else _("Nurture surveys"),
                campaign_id=key[1],
                campaign=campaigns.get(key[1], "") if key[1] else "",
            )
        return rows[key]

    keys = ["source_id", "campaign_id"] if grouping == "campaign" else ["source_id"]
    if counts.reads_totals(period):
        totals = CreditTotal.objects.filter(counts.in_period(period))
        found: Any = totals.order_by().values(*keys, "currency").annotate(**counts.summed(MODELS))
    else:
        credits = Credit.objects.filter(won_at__gte=period.start_at, won_at__lt=period.end_at)
        found = (
            credits.order_by()
            .values(*keys, "currency")
            .annotate(**{m: Sum(F("order_value") * F(m)) for m in MODELS})
        )
    for item in found:
        into = row(item["source_id"], item.get("campaign_id"))
        for model in MODELS:
            into.revenue[model].add(
                Decimal(item[model] or 0).quantize(Decimal("0.01")), item["currency"], currency
            )
    costs = source_report(actor, period, grouping=grouping)
    for cost_row in costs.rows:
        if cost_row["cost"] or cost_row["cost_other"]:
            into = row(cost_row["source_id"], cost_row["campaign_id"])
            into.cost.amount += cost_row["cost"] or Decimal("0")
            for code, amount in cost_row["cost_other"].items():
                into.cost.other[code] = into.cost.other.get(code, Decimal("0")) + Decimal(amount)
    ordered = sorted(
        rows.values(), key=lambda r: (r.source_id is None, r.source.lower(), r.campaign.lower())
    )
    total = AttributionRow(source_id=None, source=_("Total"))
    for r in ordered:
        total.cost.merge(r.cost)
        for model in MODELS:
            total.revenue[model].merge(r.revenue[model])
    return AttributionReport(
        period=period,
        grouping=grouping,
        currency=currency,
        rows=[r.figures() for r in ordered],
        total=total.figures(),
    )
