"""A person's data in sales follow-up, for their export and erasure (`privacy.registry`).

E-mails a rep sent them (address, subject, text), and the words people wrote about them in
tasks and quotes. Amounts, dates, states and the clocks stay: they are the counts and money the
analytics need, and say nothing about the person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadloop.sales.models import OutgoingEmail, Quote, Task


def export_for(lead_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for mail in OutgoingEmail.objects.filter(lead_id__in=lead_ids).order_by("pk"):
        rows.append(
            {
                "kind": "email_sent",
                "lead_id": mail.lead_id,
                "to": mail.to,
                "subject": mail.subject,
                "body": mail.body,
                "sent_at": mail.created_at.isoformat(),
                "state": mail.state,
            }
        )
    for quote in Quote.objects.filter(lead_id__in=lead_ids).order_by("pk"):
        rows.append(
            {
                "kind": "quote",
                "lead_id": quote.lead_id,
                "title": quote.title,
                "amount": str(quote.amount),
                "currency": quote.currency,
                "state": quote.state,
                "created_at": quote.created_at.isoformat(),
            }
        )
    for task in Task.objects.filter(lead_id__in=lead_ids).order_by("pk"):
        rows.append(
            {
                "kind": "task",
                "lead_id": task.lead_id,
                "what": task.get_kind_display(),
                "title": task.title,
                "due_at": task.due_at.isoformat(),
            }
        )
    return rows


def erase_for(lead_ids: list[int], at: dt.datetime) -> int:
    """Blank what the person or a rep wrote; keep amounts, dates and states."""
    changed = OutgoingEmail.objects.filter(lead_id__in=lead_ids).update(
        to="", reply_to="", subject="", body=""
    )
    changed += Quote.objects.filter(lead_id__in=lead_ids).update(title="", note="", updated_at=at)
    changed += Task.objects.filter(lead_id__in=lead_ids).update(title="", history=[])
    return changed
