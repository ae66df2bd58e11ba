"""Lead events as outbound webhooks: each published event a subscription wants becomes a
message, written in the transaction that made the change (see `webhooks.services.outbox`).

The message carries the lead as it stands at that moment, so a receiver does not have to call
back for the common fields; `event` holds what the event itself says (the old and new status,
the routing rule, a partner's reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import Lead
from leadloop.webhooks.services.outbox import Outgoing, emit, wanted

TYPES = {
    EventName.LEAD_CREATED: "lead.created",
    EventName.STATUS_CHANGED: "lead.status_changed",
    EventName.LEAD_BECAME_SALES_READY: "lead.sales_ready",
    EventName.ASSIGNED: "lead.assigned",
    EventName.LEAD_MERGED: "lead.merged",
    EventName.LEAD_ROUTED: "lead.routed",
    EventName.LEAD_CLAIMED: "lead.claimed",
    EventName.PARTNER_REJECTED: "lead.partner_rejected",
}

FIELDS = (
    "id", "status", "first_name", "last_name", "email", "phone_e164", "phone_raw",
    "company_name", "job_title", "street", "house_number", "postal_code", "city", "region",
    "country", "language", "fit_grade", "priority", "engagement_score", "potential_revenue",
    "currency", "source_id", "source__name", "campaign_id", "campaign__name",
    "assigned_to_id", "assigned_to__username", "team_id", "team__name",
    "owner_partner_id", "owner_partner__name", "utm_source", "utm_medium", "utm_campaign",
    "extra", "created_at", "updated_at",
)  # fmt: skip

CHUNK = 500


def _named(row: dict[str, Any], key: str, name: str) -> dict[str, Any] | None:
    return {"id": row[f"{key}_id"], name: row[f"{key}__{name}"]} if row[f"{key}_id"] else None


def snapshot(row: dict[str, Any]) -> dict[str, Any]:
    """The lead as a webhook shows it (the API's names where the API has them)."""
    plain = {
        key: row[key]
        for key in FIELDS
        if "__" not in key and not key.endswith("_id") and key != "phone_raw"
    }
    plain["phone"] = row["phone_e164"] or row["phone_raw"]
    del plain["phone_e164"]
    return {
        **plain,
        "url": f"{settings.LEADLOOP_BASE_URL}/leads/{row['id']}/",
        "source": _named(row, "source", "name"),
        "campaign": _named(row, "campaign", "name"),
        "assigned_to": _named(row, "assigned_to", "username"),
        "team": _named(row, "team", "name"),
        "partner": _named(row, "owner_partner", "name"),
    }


def write(batch: Sequence[LeadEvent]) -> None:
    """Write the events of `batch` that a subscription wants; nothing (no query) when none does."""
    table = wanted()
    if not table:
        return
    chosen = [event for event in batch if TYPES.get(event.name) in table]
    for start in range(0, len(chosen), CHUNK):
        part = chosen[start : start + CHUNK]
        rows = {
            row["id"]: row
            for row in Lead.objects.filter(pk__in={event.lead_id for event in part}).values(*FIELDS)
        }
        emit(
            Outgoing(
                TYPES[event.name],
                {
                    "lead": snapshot(rows[event.lead_id]) if event.lead_id in rows else None,
                    "lead_id": event.lead_id,
                    "event": dict(event.data),
                    "by": event.by,
                },
                event.at,
                lead_id=event.lead_id,
            )
            for event in part
        )
