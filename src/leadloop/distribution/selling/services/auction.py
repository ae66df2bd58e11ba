"""Selling one lead: ask the buyers, rank their prices, post the lead down the ranking.

1. Under the lead's lock, an auction row is opened (at most one open per lead: a second sale of
   the same lead at the same time is refused), with every buyer that may buy it now.
2. Bidding buyers are pinged in parallel with the lead without its contact data; each has its own
   time-out and all share the auction's deadline (750 ms by default). Fixed-price buyers bid
   their price. Bids under the floor price are dropped.
3. The bids are ranked by price, then the buyer's priority, then its weight. The lead is posted
   to the first; when it turns the lead down (or cannot be reached) the next is tried, until one
   buys it or the bids run out. A buyer that shares leads lets the next sharing buyers buy too.
4. Each post is a `Sale` written before the lead is sent, with the key the buyer sees. A worker
   that dies before the answer is recorded leaves it `delivering`; `recovery.recover` sends it
   again under the same key and records it, so the buyer receives one lead and is charged once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.audit import actor_label
from leadloop.core import prepared
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import (
    Auction,
    AuctionState,
    Bid,
    BidOutcome,
    Buyer,
    EntryKind,
    Sale,
    SaleState,
)
from leadloop.distribution.selling.services import delivery, market
from leadloop.distribution.selling.services.buyers import add_entry
from leadloop.errors import Conflict, NotFound
from leadloop.leads import services as lead_services
from leadloop.leads.models import CLOSED_STATUSES, Campaign, Lead, Source

logger = logging.getLogger(__name__)

SELLING = SystemActor(label="selling")
DEADLINE_MS = 750
MAX_EXPLANATION = 1000


@dataclass
class Offer:
    buyer: Buyer
    price: Decimal | None
    outcome: str
    ms: int | None = None
    detail: str = ""
    rank: int | None = None


@dataclass
class SaleResult:
    auction: Auction | None
    sold: list[Sale] = field(default_factory=list)
    explanation: str = ""

    @property
    def is_sold(self) -> bool:
        return bool(self.sold)


def sell_lead(
    lead_id: int,
    *,
    by: Actor = SELLING,
    floor: Decimal = Decimal("0"),
    deadline_ms: int = DEADLINE_MS,
) -> SaleResult:
    """Run one auction for the lead and post it down the ranking; what came of it."""
    started = time.monotonic()
    now = timezone.now()
    auction, offers, lead = _open(lead_id, by=by, floor=floor, deadline_ms=deadline_ms, now=now)
    result = SaleResult(auction)
    closing = _Closing(auction, result, offers, started)
    try:
        _bid(auction, lead, offers, until=started + deadline_ms / 1000)
        ranked = _rank(offers, floor)
        _waterfall(auction, lead, ranked, result, by=by, closing=closing)
    finally:
        if not closing.done:
            with transaction.atomic():
                closing.write()
    return result


def _open(
    lead_id: int, *, by: Actor, floor: Decimal, deadline_ms: int, now: dt.datetime
) -> tuple[Auction, list[Offer], Lead]:
    """Find the buyers that may buy the lead, then open its auction. The buyers are read before
    the write transaction (SQLite has one writer: nobody waits while they are read); `reserve`
    counts each one's caps and money again under its lock before a sale is written."""
    lead = _lead(lead_id)
    if lead is None:
        raise NotFound(_("No such lead."))
    if lead.status in CLOSED_STATUSES:
        raise Conflict(_("A closed lead is not sold."))
    found, skipped = market.candidates(lead, now=now)
    try:
        with transaction.atomic():
            # Under the lead's lock: at most one auction of a lead runs (and the unique
            # constraint on open auctions stands behind this check).
            locked = _lock_lead(lead_id)
            if locked is None or locked in CLOSED_STATUSES:
                raise Conflict(_("A closed lead is not sold."))
            # A second open auction of the lead is refused by the unique constraint on open
            # auctions, the last statement of this transaction.
            auction = Auction(
                lead=lead,
                started_at=now,
                deadline_ms=deadline_ms,
                floor=floor,
                by_label=actor_label(by),
            )
            prepared.insert(auction)
    except IntegrityError as exc:
        raise Conflict(_("This lead is being sold already.")) from exc
    offers = [Offer(c.buyer, None if c.buyer.pings else c.price, BidOutcome.FIXED) for c in found]
    auction.explanation = "; ".join(f"{s.buyer.name}: {s.why}" for s in skipped)[:MAX_EXPLANATION]
    return auction, offers, lead


def _lock_lead(lead_id: int) -> str | None:
    """Lock the lead (unless it was merged or erased) for the auction's opening; its status.
    Written out: the ORM's query cost more to build than to run, once an auction."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status FROM {table} WHERE id = %s AND merged_into_id IS NULL "  # noqa: S608 - our table
            f"AND erased_at IS NULL{lock}",
            [lead_id],
        )
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def _lead(lead_id: int) -> Lead | None:
    """The lead with its source and campaign (what filters, prices and mappings read), unless it
    was merged or erased. Three compiled statements: building the ORM's join of the three
    tables cost more CPU than anything else in an auction."""
    lead = prepared.get_by(Lead, "id", lead_id)
    if not isinstance(lead, Lead) or lead.merged_into_id is not None or lead.erased_at:
        return None
    lead.source = prepared.get_by(Source, "id", lead.source_id)  # type: ignore[assignment]
    if lead.campaign_id is not None:
        lead.campaign = prepared.get_by(Campaign, "id", lead.campaign_id)  # type: ignore[assignment]
    return lead


_PINGS: list[ThreadPoolExecutor] = []
_PINGS_LOCK = threading.Lock()
PING_THREADS = 128


def _ping_pool() -> ThreadPoolExecutor:
    """One pool of threads for every auction's pings in this process: starting threads for
    each auction cost a tenth of its time. Pings are pure HTTP and never touch the database."""
    with _PINGS_LOCK:
        if not _PINGS:
            _PINGS.append(ThreadPoolExecutor(max_workers=PING_THREADS, thread_name_prefix="ping"))
        return _PINGS[0]


def _bid(auction: Auction, lead: Lead, offers: list[Offer], *, until: float) -> None:
    """Ping the bidding buyers in parallel, each within its time-out and the auction's
    deadline (`until`, on the monotonic clock: counted from the auction's start)."""
    pinging = [offer for offer in offers if offer.buyer.pings]
    if not pinging:
        return
    began = time.monotonic()
    deadline_ms = max(1, int((until - began) * 1000))
    pool = _ping_pool()
    futures = {}
    for offer in pinging:
        timeout = min(offer.buyer.ping_timeout_ms, deadline_ms) / 1000
        data = formats.ping_record(lead, offer.buyer.ping_fields)
        key = f"ping-{auction.pk}-{offer.buyer.pk}"
        futures[pool.submit(delivery.ping, offer.buyer, data, key=key, timeout=timeout)] = offer
    done, late = wait(futures, timeout=deadline_ms / 1000)
    for future in late:
        future.cancel()  # one still queued behind other auctions' pings is not sent late
    spent = int((time.monotonic() - began) * 1000)
    for future, offer in futures.items():
        if future not in done:
            offer.outcome, offer.ms, offer.detail = (
                BidOutcome.TIMEOUT,
                spent,
                _("no answer in time"),
            )
            continue
        answer = future.result()
        offer.ms = answer.duration_ms
        if answer.status is None:
            timed_out = "timed out" in answer.error or "timeout" in answer.error.lower()
            offer.outcome = BidOutcome.TIMEOUT if timed_out else BidOutcome.ERROR
            offer.detail = answer.error[:300]
            continue
        price = (
            formats.read_bid(answer.body, offer.buyer.bid_path)
            if 200 <= answer.status < 300
            else None
        )
        if price is None:
            offer.outcome = BidOutcome.NO_BID
            offer.detail = f"HTTP {answer.status}" if answer.status >= 300 else ""
        else:
            offer.outcome, offer.price = BidOutcome.BID, price


def _rank(offers: list[Offer], floor: Decimal) -> list[Offer]:
    for offer in offers:
        if offer.price is not None and offer.price < floor:
            offer.outcome = BidOutcome.BELOW_FLOOR
            offer.detail = _("under the floor of %(floor)s") % {"floor": floor}
    priced = [o for o in offers if o.outcome in (BidOutcome.FIXED, BidOutcome.BID)]
    ranked = sorted(
        priced, key=lambda o: (-(o.price or 0), -o.buyer.priority, -o.buyer.weight, o.buyer.pk)
    )
    for rank, offer in enumerate(ranked, start=1):
        offer.rank = rank
    return ranked


def _set(offer: Offer, outcome: str, detail: str = "") -> None:
    offer.outcome, offer.detail = outcome, detail


@dataclass
class _Closing:
    """The auction's end: its bids with what came of each, its state and its explanation. When
    a purchase ends the auction, they are written in the transaction that records it (one
    transaction fewer an auction); otherwise in one of their own once the waterfall is done."""

    auction: Auction
    result: SaleResult
    offers: list[Offer]
    started: float
    written: bool = False  # in the purchase's transaction, not yet committed
    done: bool = False

    def write(self) -> None:
        _close(
            self.auction,
            self.result,
            self.offers,
            took_ms=int((time.monotonic() - self.started) * 1000),
        )

    def with_purchase(self, offer: Offer, sale: Sale, rest: list[Offer]) -> Callable[[], None]:
        """What to write with the purchase that ends the auction: this offer won, the rest of
        the ranking was not needed."""

        def then() -> None:
            _set(offer, BidOutcome.WON)
            self.result.sold.append(sale)
            for later in rest:
                _set(later, BidOutcome.NOT_REACHED)
            self.write()
            self.written = True

        return then


def _waterfall(
    auction: Auction,
    lead: Lead,
    ranked: list[Offer],
    result: SaleResult,
    *,
    by: Actor,
    closing: _Closing,
) -> None:
    # After the first purchase: how many buyers may hold the lead (the smallest of the
    # buyers' own limits); an exclusive buyer ends the auction.
    shares: int | None = None
    for n, offer in enumerate(ranked):
        if shares is not None and len(result.sold) >= min(shares, offer.buyer.max_shares):
            _set(offer, BidOutcome.NOT_REACHED)
            continue
        assert offer.price is not None
        sale = market.reserve(
            offer.buyer, lead.pk, offer.price, auction_id=auction.pk, now=timezone.now()
        )
        if isinstance(sale, str):
            _set(offer, BidOutcome.OVER_CAP, sale)
            continue
        # Whether buying it ends the auction: the last bid, or the lead then held by as many
        # buyers as may share it.
        room = min(shares or offer.buyer.max_shares, offer.buyer.max_shares)
        ends = n == len(ranked) - 1 or len(result.sold) + 1 >= room
        then = closing.with_purchase(offer, sale, ranked[n + 1 :]) if ends else None
        outcome = deliver(sale, by=by, lead=lead, then=then)
        if closing.written:  # and committed: `deliver` returned
            closing.done = True
            return
        if outcome == SaleState.SOLD:
            _set(offer, BidOutcome.WON)
            result.sold.append(sale)
            shares = min(shares or offer.buyer.max_shares, offer.buyer.max_shares)
        elif outcome == SaleState.REJECTED:
            _set(offer, BidOutcome.POST_REJECTED, sale.reason)
        else:
            _set(offer, BidOutcome.POST_FAILED, sale.reason)


def _close(auction: Auction, result: SaleResult, offers: list[Offer], *, took_ms: int) -> None:
    sold = result.sold
    parts = [
        _("%(buyer)s bought it for %(price)s %(cur)s")
        % {"buyer": s.buyer.name, "price": s.price, "cur": s.currency}
        for s in sold
    ]
    for offer in offers:
        if offer.outcome not in (BidOutcome.WON, BidOutcome.NOT_REACHED):
            label = BidOutcome(offer.outcome).label
            parts.append(
                f"{offer.buyer.name}: {label}" + (f" ({offer.detail})" if offer.detail else "")
            )
    if not offers:
        parts.append(_("no buyer may buy it now"))
    text = "; ".join(parts)
    if auction.explanation:
        text += " — " + _("passed over: %(list)s") % {"list": auction.explanation}
    result.explanation = text[:MAX_EXPLANATION]
    _finish(auction, result, offers, took_ms=took_ms)


def _finish(auction: Auction, result: SaleResult, offers: list[Offer], *, took_ms: int) -> None:
    prepared.insert_many(
        [
            Bid(
                auction=auction,
                buyer=o.buyer,
                price=o.price,
                ms=o.ms,
                outcome=o.outcome,
                rank=o.rank,
                detail=o.detail[:300],
            )
            for o in offers
        ]
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ops.quote_name(Auction._meta.db_table)} SET state = %s, "  # noqa: S608 - our table
            "finished_at = %s, took_ms = %s, explanation = %s WHERE id = %s",
            [
                AuctionState.SOLD if result.sold else AuctionState.UNSOLD,
                ops.adapt_datetimefield_value(timezone.now()),
                took_ms,
                result.explanation,
                auction.pk,
            ],
        )


def deliver(
    sale: Sale,
    *,
    by: Actor,
    lead: Lead | None = None,
    repeat: bool = False,
    then: Callable[[], None] | None = None,
) -> str:
    """Send a sale being delivered, and record the answer: the state it ends in. `repeat`: the
    sale may have reached the buyer before (a worker died), so "duplicate" means "you have it".
    `then`: written in the same transaction when this delivery records a purchase."""
    lead = lead or Lead.objects.select_related("source", "campaign").get(pk=sale.lead_id)
    answer = delivery.post_lead(sale.buyer, lead, key=str(sale.key), sale_id=sale.pk)
    return record(sale, answer, by=by, repeat=repeat, lead=lead, then=then)


def record(
    sale: Sale,
    answer: delivery.Result,
    *,
    by: Actor,
    repeat: bool = False,
    lead: Lead | None = None,
    then: Callable[[], None] | None = None,
) -> str:
    """The buyer's answer on the sale, with its delivery log, in one transaction: a purchase is
    charged (once: the ledger holds one sale entry per sale) and told on the lead's timeline;
    `then` is written with a purchase, in the same transaction."""
    now = timezone.now()
    bought = answer.outcome == formats.ACCEPTED or (
        # A repeat the buyer recognises as one it has (same key) is the same purchase.
        answer.outcome == formats.DUPLICATE and repeat
    )
    if bought:
        state, reason = SaleState.SOLD, ""
    else:
        state = SaleState.FAILED if answer.outcome == formats.RETRY else SaleState.REJECTED
        reason = (answer.reason or answer.outcome)[:300]
    with transaction.atomic():
        answer.save_logs()
        # The move out of "delivering" happens once: the update that finds the sale still being
        # delivered takes it (a second recording, or a second worker, finds none).
        taken = _take(sale.pk, state, reason, now if bought else None, answer.their_ref)
        if not taken:
            Sale.objects.filter(pk=sale.pk).update(attempts=F("attempts") + 1)
            sale.state = Sale.objects.filter(pk=sale.pk).values_list("state", flat=True).get()
            return sale.state
        if bought:
            lead_services.mark_sold(
                lead if lead is not None else sale.lead_id,
                by=by,
                at=now,
                message=_("Sold to %(buyer)s for %(price)s %(cur)s")
                % {"buyer": sale.buyer.name, "price": sale.price, "cur": sale.currency},
                data={
                    "buyer_id": sale.buyer_id,
                    "sale_id": sale.pk,
                    "price": str(sale.price),
                    "currency": sale.currency,
                },
            )
            if then is not None:
                then()
            # Charged once: only the update above leads here, and the ledger takes one sale
            # entry per sale (a unique constraint, the last guard). Last in the transaction:
            # the buyer's row stays locked from its balance's update to the commit, and every
            # sale to the buyer waits for that lock (on PostgreSQL the commit goes with it).
            add_entry(
                sale.buyer_id,
                kind=EntryKind.SALE,
                amount=-sale.price,
                by=by,
                sale_id=sale.pk,
                note=_("Lead %(id)d") % {"id": sale.lead_id},
                at=now,
                currency=sale.currency,
                commit=True,
            )
    sale.state, sale.reason = state, reason
    if bought:
        sale.sold_at = now
    return state


def _take(sale_id: int, state: str, reason: str, sold_at: dt.datetime | None, ref: str) -> int:
    """Move the sale out of "delivering" (one conditional update; 1 if this call moved it). The
    statement is written out: it runs once for every lead sold."""
    ops = connection.ops
    table = ops.quote_name(Sale._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s, reason = %s, sold_at = %s, their_ref = %s, "  # noqa: S608
            "attempts = attempts + 1 WHERE id = %s AND state = %s",
            [
                state,
                reason,
                ops.adapt_datetimefield_value(sold_at),
                ref if sold_at else "",
                sale_id,
                SaleState.DELIVERING,
            ],
        )
        return int(cursor.rowcount)
