"""The source and campaign report: per source (or campaign), the leads received in a period and
how far they came (valid, sales-ready, contacted, quoted, won), the revenue they brought, what
they cost, and what follows: cost per lead, per sales-ready lead, per order, and ROI.

A cohort report: a lead counts in the period it was received, whatever happened to it later,
so its order counts for the period the money was spent to win it. Definitions in
docs/analytics.md; marketing and admins only (costs are theirs).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.analytics.models import LeadFact, ReceivedTotal
from leadloop.analytics.selectors import counts
from leadloop.analytics.selectors.figures import ContactBinned, Money, money, per, ratio
from leadloop.analytics.selectors.norms import get_norms
from leadloop.analytics.selectors.periods import Period
from leadloop.intake import selectors as intake_selectors
from leadloop.leads.models import Campaign, CostEntry, Source

Grouping = Literal["source", "campaign"]
STEPS = ("sales_ready", "contacted", "quoted", "won")
COUNTED = (
    "leads", "merged_later", "valid", *STEPS, "revenue", *counts.BINS,
)  # fmt: skip


@dataclass
class SourceRow:
    source_id: int | None
    source: str
    campaign_id: int | None = None
    campaign: str = ""
    leads: int = 0  # lead records received (valid and later-merged duplicates)
    merged_later: int = 0  # of those, merged into another lead since
    rejected: int = 0
    duplicates: int = 0
    valid: int = 0
    sales_ready: int = 0
    contacted: int = 0
    quoted: int = 0
    won: int = 0
    contact: ContactBinned = field(default_factory=ContactBinned)
    revenue: Money = field(default_factory=Money)
    cost: Money = field(default_factory=Money)

    @property
    def received(self) -> int:
        return self.leads + self.rejected + self.duplicates - self.merged_later

    def figures(self) -> dict[str, Any]:
        """Every number of the row, ratios and money worked out (None where undefined)."""
        revenue, cost = money(self.revenue.amount), money(self.cost.amount)
        return {
            "source_id": self.source_id,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "campaign": self.campaign,
            "received": self.received,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "valid": self.valid,
            "sales_ready": self.sales_ready,
            "contacted": self.contacted,
            "quoted": self.quoted,
            "won": self.won,
            "valid_rate": ratio(self.valid, self.received),
            "sales_ready_rate": ratio(self.sales_ready, self.valid),
            "contacted_rate": ratio(self.contacted, self.sales_ready),
            "quoted_rate": ratio(self.quoted, self.contacted),
            "won_rate": ratio(self.won, self.quoted),
            "lead_to_order": ratio(self.won, self.valid),
            "median_hours_to_contact": _hours(self.contact.median()),
            "revenue": revenue,
            "revenue_other": self.revenue.as_dict(),
            "cost": cost,
            "cost_other": self.cost.as_dict(),
            "cost_per_lead": per(cost, self.valid) if self.cost.amount else None,
            "cost_per_sales_ready": per(cost, self.sales_ready) if self.cost.amount else None,
            "cost_per_order": per(cost, self.won) if self.cost.amount else None,
            "roi": ratio(revenue, cost) if self.cost.amount else None,
        }


def _hours(minutes: Decimal | None) -> Decimal | None:
    return None if minutes is None else (minutes / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class SourceReport:
    period: Period
    grouping: Grouping
    currency: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]


def source_report(
    actor: Actor, period: Period, *, grouping: Grouping = "source", source_id: int | None = None
) -> SourceReport:
    """The report over `period`, a row per source (or per campaign, one row for the leads of a
    source without a campaign), sorted by source and campaign name, and the total."""
    require(actor, Permission.SEE_SOURCE_ROI)
    currency = get_norms().currency
    start, end = period.start_at, period.end_at
    rows: dict[tuple[int | None, int | None], SourceRow] = {}
    sources = {s.pk: s for s in Source.objects.all()}
    campaigns = {c.pk: c for c in Campaign.objects.all()}

    def row(source: int | None, campaign: int | None) -> SourceRow:
        key = (source, campaign if grouping == "campaign" else None)
        if key not in rows:
            found = sources.get(source) if source is not None else None
            rows[key] = SourceRow(
                source_id=source,
                source=found.name if found else f"#{source}",
                campaign_id=key[1],
                campaign=campaigns[key[1]].name if key[1] in campaigns else "",
            )
        return rows[key]

    keys = ["source_id", "campaign_id"] if grouping == "campaign" else ["source_id"]
    if counts.reads_totals(period):
        totals = ReceivedTotal.objects.filter(counts.in_period(period))
        if source_id is not None:
            totals = totals.filter(source_id=source_id)
        found = totals.order_by().values(*keys, "currency").annotate(**counts.summed(COUNTED))
    else:
        facts = LeadFact.objects.filter(received_at__gte=start, received_at__lt=end)
        if source_id is not None:
            facts = facts.filter(source_id=source_id)
        found = facts.order_by().values(*keys, "currency").annotate(**counts.received_aggregates())
    for item in found:
        into = row(item["source_id"], item.get("campaign_id"))
        into.leads += item["leads"]
        into.merged_later += item["merged_later"]
        into.duplicates += item["merged_later"]
        into.valid += item["valid"]
        for step in STEPS:
            setattr(into, step, getattr(into, step) + item[step])
        if item["revenue"]:
            into.revenue.add(item["revenue"], item["currency"], currency)
        into.contact.add(item)
    if grouping == "source":
        for sid, outcomes in intake_selectors.count_outcomes_by_source(start, end).items():
            if source_id is None or sid == source_id:
                row(sid, None).rejected = outcomes["rejected"]
                row(sid, None).duplicates += outcomes["duplicate"]
    _add_costs(row, period, currency, source_id)
    for into in rows.values():
        paid = sources.get(into.source_id) if into.source_id is not None else None
        if paid is not None and paid.cost_per_lead is not None:
            into.cost.add(paid.cost_per_lead * into.valid, paid.cost_currency, currency)
    ordered = sorted(rows.values(), key=lambda r: (r.source.lower(), r.campaign.lower()))
    return SourceReport(
        period=period,
        grouping=grouping,
        currency=currency,
        rows=[r.figures() for r in ordered],
        total=_total(ordered).figures(),
    )


def _add_costs(row: Any, period: Period, currency: str, source_id: int | None) -> None:
    """Campaign costs spread evenly over their days: the part inside the period."""
    entries = CostEntry.objects.filter(incurred_on__lt=period.end).filter(
        Q(until_on__isnull=True, incurred_on__gte=period.first)
        | Q(until_on__isnull=False, until_on__gte=period.first)
    )
    if source_id is not None:
        entries = entries.filter(campaign__source_id=source_id)
    for entry in entries.select_related("campaign"):
        row(entry.campaign.source_id, entry.campaign_id).cost.add(
            spread(entry, period.first, period.end), entry.currency, currency
        )


def spread(entry: CostEntry, first: dt.date, end: dt.date) -> Decimal:
    """The part of a cost that falls in [first, end): all of a one-day cost on a day inside,
    a period's amount in proportion to its days inside."""
    last = entry.until_on or entry.incurred_on
    days = (last - entry.incurred_on).days + 1
    inside = (min(last, end - dt.timedelta(days=1)) - max(entry.incurred_on, first)).days + 1
    if inside <= 0:
        return Decimal("0")
    if inside >= days:
        return entry.amount
    return entry.amount * inside / days


def _total(rows: list[SourceRow]) -> SourceRow:
    total = SourceRow(source_id=None, source="")
    for r in rows:
        for name in ("leads", "merged_later", "rejected", "duplicates", "valid", *STEPS):
            setattr(total, name, getattr(total, name) + getattr(r, name))
        total.contact.merge(r.contact)
        total.revenue.merge(r.revenue)
        total.cost.merge(r.cost)
    return total
