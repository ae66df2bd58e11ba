"""What analytics reads of leads to work out each lead's way through the funnel: the lead rows,
which leads changed since a point, and the statuses each lead entered and when. System reads,
not scoped to a viewer: analytics scopes its own figures (analytics.selectors.scope)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from leadloop.leads.models import Activity, ActivityKind, Lead

FACT_COLUMNS = (
    "pk",
    "source_id",
    "campaign_id",
    "team_id",
    "assigned_to_id",
    "owner_partner_id",
    "created_at",
    "merged_into_id",
    "status",
    "status_changed_at",
    "order_value",
    "currency",
)


def lead_rows(lead_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The columns the funnel reads, of these leads (missing ids are left out)."""
    return list(Lead.objects.filter(pk__in=lead_ids).order_by().values(*FACT_COLUMNS))


def changed_since(
    after: tuple[dt.datetime, int] | None, *, limit: int
) -> list[tuple[dt.datetime, int]]:
    """Up to `limit` (updated_at, id) keys of leads changed after the key `after` (every lead
    when None), in that order: the `lead_updated` index, read as a keyset."""
    leads = Lead.objects.order_by("updated_at", "pk")
    if after is not None:
        at, pk = after
        leads = leads.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=pk))
    return list(leads.values_list("updated_at", "pk")[:limit])


def all_lead_ids(*, after: int, limit: int) -> list[int]:
    """Lead ids above `after`, ascending, `limit` at a time (for rebuilding and checking)."""
    return list(
        Lead.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:limit]
    )


def changed_among(lead_ids: Sequence[int], *, since: dt.datetime) -> set[int]:
    """Which of these leads changed at or after `since`."""
    return set(
        Lead.objects.filter(pk__in=lead_ids, updated_at__gte=since).values_list("pk", flat=True)
    )


def status_entries(lead_ids: Sequence[int]) -> list[tuple[int, str, dt.datetime]]:
    """(lead id, status entered, when) for every status change of these leads, oldest first."""
    rows = (
        Activity.objects.filter(lead_id__in=lead_ids, kind=ActivityKind.STATUS_CHANGED)
        .order_by()
        .values_list("lead_id", "data__to", "created_at")
    )
    return sorted(((lead, str(to or ""), at) for lead, to, at in rows), key=lambda r: r[2])


def count_received(source_id: int, start: dt.datetime, end: dt.datetime) -> int:
    """Leads of a source created in [start, end) (the `lead_source_created` index)."""
    return Lead.objects.filter(
        source_id=source_id, created_at__gte=start, created_at__lt=end
    ).count()


TOUCH_KINDS = (ActivityKind.FORM_SUBMITTED, ActivityKind.MERGED, ActivityKind.SURVEY_ANSWERED)


def touch_entries(lead_ids: Sequence[int]) -> list[tuple[int, str, dt.datetime, dict[str, Any]]]:
    """(lead id, kind, when, data) of the timeline entries that are touchpoints: a submission
    folded into the lead, a lead merged into it, a survey answer; oldest first."""
    rows = (
        Activity.objects.filter(lead_id__in=lead_ids, kind__in=TOUCH_KINDS)
        .order_by()
        .values_list("lead_id", "kind", "created_at", "data")
    )
    return sorted(rows, key=lambda r: (r[2], r[0]))


def lead_origins(lead_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Where each of these leads came from: source, campaign, UTM campaign, created."""
    rows = Lead.objects.filter(pk__in=lead_ids).values(
        "pk", "source_id", "campaign_id", "utm_campaign", "created_at"
    )
    return {row["pk"]: dict(row) for row in rows}
