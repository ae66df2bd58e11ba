"""Trying the market without selling: which buyers a lead would be offered to and at what
price (a dry run: nothing is pinged, posted or written), and what a buyer receives for a real
lead (a preview), optionally sent to it marked as a test."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import Buyer
from leadloop.distribution.selling.services import delivery, market
from leadloop.errors import NotFound
from leadloop.leads.selectors import get_lead_for


@dataclass(frozen=True)
class DryRow:
    buyer: str
    buyer_id: int
    price: Decimal | None
    pings: bool
    skipped: str


def dry_run(lead_id: int, *, by: Actor) -> list[DryRow]:
    """Each active buyer: its price for the lead (None for a bidder: it would be asked) or
    why it would be passed over."""
    require(by, Permission.MANAGE_BUYERS)
    lead = get_lead_for(by, lead_id)
    found, skipped = market.candidates(lead, now=timezone.now())
    rows = [
        DryRow(c.buyer.name, c.buyer.pk, None if c.buyer.pings else c.price, c.buyer.pings, "")
        for c in found
    ]
    rows += [DryRow(s.buyer.name, s.buyer.pk, None, s.buyer.pings, s.why) for s in skipped]
    return sorted(rows, key=lambda r: (bool(r.skipped), -(r.price or 0), r.buyer))


@dataclass(frozen=True)
class Preview:
    content_type: str
    body: str
    ping: str
    sent: bool = False
    outcome: str = ""
    reason: str = ""
    status: int | None = None


def preview(buyer_id: int, lead_id: int, *, by: Actor, send: bool = False) -> Preview:
    """What `buyer` would receive for the lead (and its ping); with `send`, posted to it once as
    a test (marked `"test": "true"`, under a key of its own; no sale, no charge)."""
    require(by, Permission.MANAGE_BUYERS)
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    if buyer is None:
        raise NotFound("No such buyer.")
    lead = get_lead_for(by, lead_id)
    data = formats.record(lead, buyer.field_map)
    if buyer.method == "email":
        body, content_type = formats.as_csv([data]).encode(), "text/csv"
    else:
        body, content_type = formats.body(data, buyer.method, key="KEY")
    ping = ""
    if buyer.pings:
        ping = formats.body(formats.ping_record(lead, buyer.ping_fields), "json")[0].decode()
    shown = Preview(content_type, body.decode("utf-8", "replace"), ping)
    if not send:
        return shown
    answer = delivery.post_lead(buyer, lead, key=f"test-{uuid.uuid4()}", sale_id=None, test=True)
    answer.save_logs()
    return Preview(
        content_type,
        shown.body,
        ping,
        sent=True,
        outcome=answer.outcome,
        reason=answer.reason,
        status=answer.status,
    )
