"""What analytics reads of follow-up to work out each lead's way through the funnel: when its
first quote went out, and its first-contact clock. System reads (analytics scopes its figures)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Min

from leadloop.sales.models import ClockState, FirstContactClock, Quote


@dataclass(frozen=True)
class ClockView:
    due_at: dt.datetime
    # When the lead was first contacted, as the clock saw it (None: not contacted, or stopped).
    contacted_at: dt.datetime | None


def first_quotes_sent(lead_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """When each of these leads was first sent a quote (leads never sent one are left out)."""
    rows = (
        Quote.objects.filter(lead_id__in=lead_ids, sent_at__isnull=False)
        .order_by()
        .values("lead_id")
        .annotate(first=Min("sent_at"))
    )
    return {row["lead_id"]: row["first"] for row in rows}


def contact_clocks(lead_ids: Sequence[int]) -> dict[int, ClockView]:
    """The first-contact clocks of these leads."""
    rows = FirstContactClock.objects.filter(lead_id__in=lead_ids).values_list(
        "lead_id", "state", "due_at", "ended_at"
    )
    return {
        lead: ClockView(
            due_at=due, contacted_at=ended if state in (ClockState.MET, ClockState.LATE) else None
        )
        for lead, state, due, ended in rows
    }
