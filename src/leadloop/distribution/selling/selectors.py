"""Reads of the lead market, each scoped to who asks: marketing and admins see every buyer;
a buyer's user sees only its own buyer's sales, returns and money."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can
from leadloop.distribution.selling.formats import as_csv
from leadloop.distribution.selling.models import (
    Auction,
    Buyer,
    DeliveryLog,
    LeadReturn,
    LedgerEntry,
    ReturnState,
    Sale,
    SaleState,
)
from leadloop.errors import NotFound


def can_manage(actor: Actor) -> bool:
    return can(actor, Permission.MANAGE_BUYERS)


def is_buyer_user(actor: Actor) -> bool:
    return can(actor, Permission.USE_BUYER_PORTAL) and portal_buyer_id(actor) is not None


def portal_buyer_id(actor: Actor) -> int | None:
    if not isinstance(actor, User) or not can(actor, Permission.USE_BUYER_PORTAL):
        return None
    login = getattr(actor, "buyer_login", None)
    return login.buyer_id if login is not None else None


def buyer_scope(actor: Actor) -> Q:
    """Which buyers `actor` may read: all for marketing and admins, its own for a buyer user."""
    if can_manage(actor):
        return Q()
    own = portal_buyer_id(actor)
    return Q(pk=own) if own is not None else Q(pk__in=[])


def list_buyers(actor: Actor) -> QuerySet[Buyer]:
    return Buyer.objects.filter(buyer_scope(actor)).order_by("name")


def get_buyer_for(actor: Actor, buyer_id: int) -> Buyer:
    found = (
        Buyer.objects.filter(buyer_scope(actor)).filter(pk=buyer_id).first()
        if 0 < buyer_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(_("No such buyer."))
    return found


def list_sales(actor: Actor, *, buyer_id: int | None = None) -> QuerySet[Sale]:
    sales = Sale.objects.filter(
        Q() if can_manage(actor) else Q(buyer_id=portal_buyer_id(actor) or 0)
    ).select_related("buyer", "lead")
    if buyer_id is not None:
        sales = sales.filter(buyer_id=buyer_id)
    return sales.order_by("-created_at", "-id")


def get_sale_for(actor: Actor, sale_id: int) -> Sale:
    found = list_sales(actor).filter(pk=sale_id).first() if 0 < sale_id < 2**63 else None
    if found is None:
        raise NotFound(_("No such sale."))
    return found


def list_delivery_log(actor: Actor, buyer_id: int) -> QuerySet[DeliveryLog]:
    get_buyer_for(actor, buyer_id)
    return DeliveryLog.objects.filter(buyer_id=buyer_id).order_by("-at", "-id")


def list_auctions(actor: Actor) -> QuerySet[Auction]:
    if not can_manage(actor):
        return Auction.objects.none()
    return Auction.objects.select_related("lead").order_by("-started_at", "-id")


def get_auction_for(actor: Actor, auction_id: int) -> Auction:
    found = list_auctions(actor).filter(pk=auction_id).first() if 0 < auction_id < 2**63 else None
    if found is None:
        raise NotFound(_("No such auction."))
    return found


def list_returns(actor: Actor, *, waiting: bool = False) -> QuerySet[LeadReturn]:
    returns = LeadReturn.objects.select_related("sale", "sale__buyer", "sale__lead")
    if not can_manage(actor):
        returns = returns.filter(sale__buyer_id=portal_buyer_id(actor) or 0)
    if waiting:
        returns = returns.filter(state=ReturnState.REQUESTED)
    return returns.order_by("-requested_at", "-id")


def count_waiting_returns(actor: Actor) -> int:
    return list_returns(actor, waiting=True).count() if can_manage(actor) else 0


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(get_defaults().time_zone)


def month_bounds(month: str | None) -> tuple[dt.datetime, dt.datetime, str]:
    """The month "YYYY-MM" (this month by default) as UTC start and end in the local zone."""
    zone = _zone()
    if month:
        try:
            year, number = (int(p) for p in month.split("-", 1))
            start = dt.datetime(year, number, 1, tzinfo=zone)
        except ValueError as exc:
            raise NotFound(_("A month is written as YYYY-MM.")) from exc
    else:
        now = timezone.now().astimezone(zone)
        start = dt.datetime(now.year, now.month, 1, tzinfo=zone)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end, f"{start.year:04d}-{start.month:02d}"


@dataclass(frozen=True)
class Statement:
    buyer: Buyer
    month: str
    opening: Decimal
    closing: Decimal
    entries: list[LedgerEntry]
    bought: int
    returned: int
    spent: Decimal
    credited: Decimal


def statement(actor: Actor, buyer_id: int, month: str | None = None) -> Statement:
    """A buyer's month: opening balance, every entry, closing balance and the totals."""
    buyer = get_buyer_for(actor, buyer_id)
    start, end, label = month_bounds(month)
    before = LedgerEntry.objects.filter(buyer=buyer, at__lt=start).order_by("-at", "-id").first()
    entries = list(
        LedgerEntry.objects.filter(buyer=buyer, at__gte=start, at__lt=end)
        .select_related("sale")
        .order_by("at", "id")
    )
    opening = before.balance_after if before is not None else Decimal("0.00")
    closing = entries[-1].balance_after if entries else opening
    return Statement(
        buyer=buyer,
        month=label,
        opening=opening,
        closing=closing,
        entries=entries,
        bought=sum(1 for e in entries if e.kind == "sale"),
        returned=sum(1 for e in entries if e.kind == "return"),
        spent=-sum((e.amount for e in entries if e.kind == "sale"), Decimal("0")),
        credited=sum((e.amount for e in entries if e.kind == "return"), Decimal("0")),
    )


def statement_as_csv(found: Statement) -> str:
    rows = [
        {
            "date": e.at.date().isoformat(),
            "kind": e.kind,
            "lead": str(e.sale.lead_id) if e.sale else "",
            "amount": str(e.amount),
            "currency": e.currency,
            "balance": str(e.balance_after),
            "note": e.note,
        }
        for e in found.entries
    ]
    return as_csv(rows) if rows else "date,kind,lead,amount,currency,balance,note\n"


def buyer_stats(buyers: list[Buyer]) -> dict[int, dict[str, Any]]:
    """Per buyer: leads bought today and in all, returns, and its return rate (%)."""
    start = timezone.now().astimezone(_zone()).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Sale.objects.filter(buyer__in=buyers, state__in=[SaleState.SOLD, SaleState.RETURNED])
        .values("buyer_id")
        .annotate(
            total=Count("pk"),
            today=Count("pk", filter=Q(sold_at__gte=start)),
            returned=Count("pk", filter=Q(state=SaleState.RETURNED)),
            revenue=Sum("price", filter=Q(state=SaleState.SOLD)),
        )
    )
    found: dict[int, dict[str, Any]] = {row["buyer_id"]: dict(row) for row in rows}
    stats = {}
    for buyer in buyers:
        row = found.get(buyer.pk, {})
        total = row.get("total", 0)
        stats[buyer.pk] = {
            "total": total,
            "today": row.get("today", 0),
            "returned": row.get("returned", 0),
            "revenue": row.get("revenue") or Decimal("0"),
            "return_rate": round(100 * row.get("returned", 0) / total) if total else None,
        }
    return stats


@dataclass(frozen=True)
class SourceMoney:
    source: str
    campaign: str
    sold: int
    returned: int
    revenue: Decimal
    currency: str

    @property
    def return_rate(self) -> int | None:
        total = self.sold + self.returned
        return round(100 * self.returned / total) if total else None


def revenue_by_source(actor: Actor, *, since: dt.datetime | None = None) -> list[SourceMoney]:
    """Per source and campaign: leads sold, returned, the revenue that stands (returns taken
    off) and the return rate; a source with many returns does not pay."""
    if not can_manage(actor):
        return []
    sales = Sale.objects.filter(state__in=[SaleState.SOLD, SaleState.RETURNED])
    if since is not None:
        sales = sales.filter(sold_at__gte=since)
    rows = (
        sales.values("lead__source__name", "lead__campaign__name", "currency")
        .annotate(
            sold=Count("pk", filter=Q(state=SaleState.SOLD)),
            returned=Count("pk", filter=Q(state=SaleState.RETURNED)),
            revenue=Sum("price", filter=Q(state=SaleState.SOLD)),
        )
        .order_by("-revenue", "lead__source__name")
    )
    return [
        SourceMoney(
            source=row["lead__source__name"] or "",
            campaign=row["lead__campaign__name"] or "",
            sold=row["sold"],
            returned=row["returned"],
            revenue=row["revenue"] or Decimal("0"),
            currency=row["currency"],
        )
        for row in rows
    ]


def verify_balances() -> list[str]:
    """Buyers whose balance is not the sum of their ledger (there should be none)."""
    wrong = []
    sums = dict(
        LedgerEntry.objects.values("buyer_id")
        .annotate(total=Sum("amount"))
        .values_list("buyer_id", "total")
    )
    for buyer in Buyer.objects.all():
        if (sums.get(buyer.pk) or Decimal("0")) != buyer.balance:
            wrong.append(f"{buyer.name}: {buyer.balance} ≠ {sums.get(buyer.pk) or 0}")
    return wrong
