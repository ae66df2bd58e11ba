"""Sales a dead worker left behind, and sales sent again by hand.

A sale is written (`delivering`, with its key) before the lead is sent. `recover` (the
`recover_sales` job, every minute) sends each one left for `STALE` again under the same key and
records the answer, so the buyer receives one lead and is charged once; then it closes the
auctions those sales belonged to. `redeliver` is the buyer page's and the API's "send again".
"""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.distribution.selling.models import Auction, AuctionState, Sale, SaleState
from leadloop.distribution.selling.services import market
from leadloop.distribution.selling.services.auction import SELLING, deliver
from leadloop.errors import Conflict, NotFound

logger = logging.getLogger(__name__)

# A sale still `delivering` this long after it was written lost its worker: `recover` takes it.
# Longer than the slowest delivery can last (six tries of a minute at most).
STALE = dt.timedelta(minutes=10)


def recover(*, older_than: dt.timedelta = STALE, by: Actor = SELLING) -> int:
    """Sales a dead worker left `delivering`: sent again under the same key and recorded; then
    the auctions they belonged to are closed. Returns how many sales were settled."""
    cutoff = timezone.now() - older_than
    settled = 0
    for sale in Sale.objects.filter(
        state=SaleState.DELIVERING, created_at__lt=cutoff
    ).select_related("buyer")[:200]:
        try:
            deliver(sale, by=by, repeat=True)
            settled += 1
        except Exception:
            logger.exception("redelivery failed sale_id=%d", sale.pk)
    for auction in Auction.objects.filter(state=AuctionState.OPEN, started_at__lt=cutoff)[:200]:
        if Sale.objects.filter(auction=auction, state=SaleState.DELIVERING).exists():
            continue
        sold = Sale.objects.filter(auction=auction, state=SaleState.SOLD).exists()
        Auction.objects.filter(pk=auction.pk, state=AuctionState.OPEN).update(
            state=AuctionState.SOLD if sold else AuctionState.UNSOLD,
            finished_at=timezone.now(),
            explanation=_("closed after its worker stopped"),
        )
    return settled


def redeliver(sale_id: int, *, by: Actor) -> str:
    """Send a sale again by hand (a failed one is reserved again under a new key)."""
    require(by, Permission.MANAGE_BUYERS)
    sale = Sale.objects.select_related("buyer").filter(pk=sale_id).first()
    if sale is None:
        raise NotFound(_("No such sale."))
    if sale.state == SaleState.DELIVERING:
        return deliver(sale, by=by, repeat=True)
    if sale.state not in (SaleState.FAILED, SaleState.REJECTED):
        raise Conflict(_("Only a sale that was not delivered can be sent again."))
    again = market.reserve(
        sale.buyer, sale.lead_id, sale.price, auction_id=sale.auction_id, now=timezone.now()
    )
    if isinstance(again, str):
        raise Conflict(_("The buyer cannot take it now: %(why)s.") % {"why": again})
    return deliver(again, by=by)
