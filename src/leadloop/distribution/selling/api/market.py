"""/api/v1/selling: sales and their delivery log, returns, selling a lead by hand (or a dry run
of it), auctions and revenue per source."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema, Status
from pydantic import Field

from leadloop.accounts.permissions import Permission, require
from leadloop.distribution.selling import selectors
from leadloop.distribution.selling.api.base import Strict, _actor, router
from leadloop.distribution.selling.models import Sale
from leadloop.distribution.selling.services import auction, recovery, returns, trying
from leadloop.leads.selectors import get_lead_for


class SaleOut(Schema):
    id: int
    lead_id: int
    buyer_id: int
    buyer: str
    state: str
    price: Decimal
    currency: str
    created_at: dt.datetime
    sold_at: dt.datetime | None
    reason: str
    auction_id: int | None


def _sale_out(sale: Sale) -> SaleOut:
    return SaleOut(
        id=sale.pk,
        lead_id=sale.lead_id,
        buyer_id=sale.buyer_id,
        buyer=sale.buyer.name,
        state=sale.state,
        price=sale.price,
        currency=sale.currency,
        created_at=sale.created_at,
        sold_at=sale.sold_at,
        reason=sale.reason,
        auction_id=sale.auction_id,
    )


@router.get("/sales", response=list[SaleOut], url_name="selling-sales")
def list_sales(
    request: HttpRequest,
    buyer_id: int | None = None,
    lead_id: int | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[SaleOut]:
    """Recent sales, newest first, of a buyer or of a lead (a buyer's user: its own)."""
    sales = selectors.list_sales(_actor(request), buyer_id=buyer_id)
    if lead_id is not None:
        sales = sales.filter(lead_id=lead_id)
    return [_sale_out(s) for s in sales[:limit]]


class LogOut(Schema):
    at: dt.datetime
    request: str
    status_code: int | None
    response: str
    outcome: str
    error: str
    duration_ms: int


@router.get("/sales/{sale_id}/log", response=list[LogOut], url_name="selling-sale-log")
def sale_log(request: HttpRequest, sale_id: int) -> list[LogOut]:
    """Every try to deliver the sale: what was sent (the signature masked) and the answer."""
    actor = _actor(request)
    require(actor, Permission.MANAGE_BUYERS)
    sale = selectors.get_sale_for(actor, sale_id)
    return [LogOut.from_orm(entry) for entry in sale.log.order_by("at", "id")]


@router.post("/sales/{sale_id}/redeliver", response=SaleOut, url_name="selling-redeliver")
def redeliver(request: HttpRequest, sale_id: int) -> SaleOut:
    """Send a sale that was not delivered again (by hand)."""
    actor = _actor(request)
    selectors.get_sale_for(actor, sale_id)
    recovery.redeliver(sale_id, by=actor)
    return _sale_out(selectors.get_sale_for(actor, sale_id))


class ReturnIn(Strict):
    reason: str


class ReturnOut(Schema):
    id: int
    sale_id: int
    lead_id: int
    buyer: str
    reason: str
    state: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None
    note: str


def _return_out(found: Any) -> ReturnOut:
    return ReturnOut(
        id=found.pk,
        sale_id=found.sale_id,
        lead_id=found.sale.lead_id,
        buyer=found.sale.buyer.name,
        reason=found.reason,
        state=found.state,
        requested_at=found.requested_at,
        decided_at=found.decided_at,
        note=found.note,
    )


@router.post("/sales/{sale_id}/return", response={201: ReturnOut}, url_name="selling-return")
def return_sale(request: HttpRequest, sale_id: int, payload: ReturnIn) -> Status:
    """Return a bought lead with a reason, within the buyer's return window."""
    found = returns.request_return(sale_id, reason=payload.reason, by=_actor(request))
    return Status(201, _return_out(found))


@router.get("/returns", response=list[ReturnOut], url_name="selling-returns")
def list_returns(request: HttpRequest, waiting: bool = False) -> list[ReturnOut]:
    return [_return_out(r) for r in selectors.list_returns(_actor(request), waiting=waiting)[:500]]


class DecideIn(Strict):
    approve: bool
    note: str = ""


@router.post("/returns/{return_id}/decide", response=ReturnOut, url_name="selling-decide")
def decide(request: HttpRequest, return_id: int, payload: DecideIn) -> ReturnOut:
    """Approve (credit the buyer, let the lead be sold again) or refuse a return."""
    found = returns.decide_return(
        return_id, approve=payload.approve, by=_actor(request), note=payload.note
    )
    return _return_out(found)


class SellIn(Strict):
    lead_id: int
    dry_run: bool = False
    floor: Decimal = Decimal("0")
    deadline_ms: int = Field(auction.DEADLINE_MS, ge=50, le=10000)


class DryRowOut(Schema):
    buyer: str
    buyer_id: int
    price: Decimal | None
    pings: bool
    skipped: str


class BidOut(Schema):
    buyer: str
    price: Decimal | None
    ms: int | None
    outcome: str
    rank: int | None
    detail: str


class AuctionOut(Schema):
    id: int | None
    lead_id: int
    state: str
    took_ms: int | None
    explanation: str
    sales: list[int]
    bids: list[BidOut]
    dry_run: list[DryRowOut]


def _auction_out(found: Any, sales: list[int]) -> AuctionOut:
    return AuctionOut(
        id=found.pk,
        lead_id=found.lead_id,
        state=found.state,
        took_ms=found.took_ms,
        explanation=found.explanation,
        sales=sales,
        bids=[
            BidOut(
                buyer=b.buyer.name,
                price=b.price,
                ms=b.ms,
                outcome=b.outcome,
                rank=b.rank,
                detail=b.detail,
            )
            for b in found.bids.select_related("buyer").order_by("rank", "id")
        ],
        dry_run=[],
    )


@router.post("/sell", response=AuctionOut, url_name="selling-sell")
def sell(request: HttpRequest, payload: SellIn) -> AuctionOut:
    """Sell a lead now (an auction among the buyers that may buy it), or with `dry_run` only
    say which buyers it would be offered to and at what price. 409 while it is being sold."""
    actor = _actor(request)
    require(actor, Permission.MANAGE_BUYERS)
    lead = get_lead_for(actor, payload.lead_id)
    if payload.dry_run:
        rows = trying.dry_run(lead.pk, by=actor)
        return AuctionOut(
            id=None,
            lead_id=lead.pk,
            state="dry_run",
            took_ms=None,
            explanation="",
            sales=[],
            bids=[],
            dry_run=[DryRowOut(**dataclasses.asdict(r)) for r in rows],
        )
    result = auction.sell_lead(
        lead.pk, by=actor, floor=payload.floor, deadline_ms=payload.deadline_ms
    )
    found = selectors.get_auction_for(actor, result.auction.pk if result.auction else 0)
    return _auction_out(found, [s.pk for s in result.sold])


@router.get("/auctions/{auction_id}", response=AuctionOut, url_name="selling-auction")
def get_auction(request: HttpRequest, auction_id: int) -> AuctionOut:
    """One auction with every bid, its time and its outcome."""
    found = selectors.get_auction_for(_actor(request), auction_id)
    return _auction_out(found, list(found.sales.values_list("pk", flat=True)))


class RevenueOut(Schema):
    source: str
    campaign: str
    sold: int
    returned: int
    revenue: Decimal
    currency: str
    return_rate: int | None


@router.get("/revenue", response=list[RevenueOut], url_name="selling-revenue")
def revenue(request: HttpRequest) -> list[RevenueOut]:
    """Per source and campaign: leads sold, returned, revenue and the return rate."""
    return [
        RevenueOut(**dataclasses.asdict(row), return_rate=row.return_rate)
        for row in selectors.revenue_by_source(_actor(request))
    ]
