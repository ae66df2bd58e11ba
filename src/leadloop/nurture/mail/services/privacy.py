"""A person's data in marketing e-mail, for their export and erasure (`privacy.registry`).

The mails sent to them (address, subject, the text with their name) and the addresses and
browsers their opens and clicks came from. States, times and counts stay for the analytics.
The suppression list keeps the address on purpose: it is what makes sure an erased person who
opted out is never mailed again if they come back as a new lead (GDPR art. 21(3), art. 17(3)).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    TrackingEvent,
    TrackingHit,
)


def export_for(lead_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for message in MarketingMessage.objects.filter(lead_id__in=lead_ids).order_by("pk"):
        rows.append(
            {
                "kind": "marketing_email",
                "lead_id": message.lead_id,
                "to": message.to,
                "subject": message.subject,
                "text": message.text,
                "state": message.state,
                "queued_at": message.created_at.isoformat(),
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
                "opened_at": message.first_opened_at.isoformat()
                if message.first_opened_at
                else None,
                "clicked_at": message.first_clicked_at.isoformat()
                if message.first_clicked_at
                else None,
            }
        )
    return rows


def erase_for(lead_ids: list[int], at: dt.datetime) -> int:
    """Blank the mails' address and contents and the hits' origin; keep states and times (hits
    not judged yet are deleted)."""
    messages = MarketingMessage.objects.filter(lead_id__in=lead_ids)
    # Hits not judged yet go whole: they hold nothing but where and when they came from.
    changed, _deleted = TrackingHit.objects.filter(key__in=messages.values("key")).delete()
    changed += TrackingEvent.objects.filter(message__in=messages).update(ip=None, user_agent="")
    changed += DeliveryReport.objects.filter(message__in=messages).update(
        raw=b"", email="", diagnostic="", headers={}
    )
    changed += messages.update(to="", subject="", html="", text="", links=[])
    return changed
