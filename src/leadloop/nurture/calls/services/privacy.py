"""A person's data in telemarketing, for their export and erasure (`privacy.registry`).

What the agents wrote about their calls (the notes). Outcomes, lengths and times stay for the
agents' statistics. The do-not-call list keeps the number on purpose, as the e-mail suppression
list keeps the address: it is what makes sure a person who asked not to be called is never
called again if they come back as a new lead (GDPR art. 21(3), art. 17(3)).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadloop.nurture.calls.models import CallAttempt, CallEntry


def export_for(lead_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    attempts = (
        CallAttempt.objects.filter(entry__lead_id__in=lead_ids)
        .select_related("entry__call_list")
        .order_by("pk")
    )
    for attempt in attempts:
        rows.append(
            {
                "kind": "call",
                "lead_id": attempt.entry.lead_id,
                "call_list": attempt.entry.call_list.name,
                "outcome": attempt.outcome,
                "duration_seconds": attempt.duration_seconds,
                "notes": attempt.notes,
                "callback_at": attempt.callback_at.isoformat() if attempt.callback_at else None,
                "at": attempt.at.isoformat(),
            }
        )
    return rows


def erase_for(lead_ids: list[int], at: dt.datetime) -> int:
    """Blank the notes of the person's calls; keep outcomes, lengths and times."""
    entries = CallEntry.objects.filter(lead_id__in=lead_ids)
    changed = CallAttempt.objects.filter(entry__in=entries).exclude(notes="").update(notes="")
    return changed
