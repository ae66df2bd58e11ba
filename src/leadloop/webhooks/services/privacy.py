"""A person's data in the webhook log: which systems were told about their leads (for their
export), and blanking the copies of their data the log keeps (for their erasure)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from leadloop.webhooks.models import Attempt, Delivery, Message
from leadloop.webhooks.services.outbox import body_of


def recipients_of(lead_ids: list[int]) -> list[dict[str, Any]]:
    """Every delivery about these leads: the event, to which host, when, and how it went."""
    found = (
        Delivery.objects.filter(message__lead_id__in=lead_ids)
        .select_related("message", "subscription")
        .order_by("message__created_at", "id")
    )
    return [
        {
            "lead_id": item.message.lead_id,
            "event": item.message.type,
            "at": item.message.created_at.isoformat(),
            "sent_to": urllib.parse.urlsplit(item.subscription.url).hostname or "",
            "state": item.state,
            "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
        }
        for item in found
    ]


def erase_for_leads(lead_ids: list[int], at: dt.datetime) -> int:
    """Replace the stored bodies about these leads with a tombstone ({"lead_id", "erased"}) and
    blank the endpoints' answers. A delivery still waiting sends the tombstone, which tells the
    receiver to erase its copy too. Returns how many messages changed."""
    changed = 0
    for message in Message.objects.filter(lead_id__in=lead_ids).only(
        "pk", "type", "lead_id", "created_at"
    ):
        tombstone = body_of(
            message.type, {"lead_id": message.lead_id, "erased": True}, message.created_at
        )
        changed += Message.objects.filter(pk=message.pk).update(body=tombstone)
    Attempt.objects.filter(delivery__message__lead_id__in=lead_ids).update(response="")
    return changed
