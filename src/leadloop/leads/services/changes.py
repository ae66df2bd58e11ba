"""The one writer of lead rows for other apps: values, derived columns, timeline, events.

Assessment, merging, enrichment and scoring change leads through `apply_changes` (one row) or
`apply_bulk` (many rows, no timeline); new leads are inserted by `save_new_lead` (one) or
`bulk.insert_new_leads` (many). These keep `search_text`, `name_key`, `address_key` and
`updated_at` in step
with the values, so no caller recomputes them, and they publish the lead events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils import timezone

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.core.bulk import write_columns
from leadloop.leads import events
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.normalize import (
    address_key,
    build_search_text,
    house_name_key,
    name_key,
    street_name_key,
)
from leadloop.leads.services.timeline import record_activity

SEARCH_FIELDS = frozenset(
    {"first_name", "last_name", "email", "company_name", "phone_e164", "phone_raw"}
)
NAME_FIELDS = frozenset({"first_name", "last_name"})
ADDRESS_FIELDS = frozenset({"street", "house_number"})
DERIVED_FIELDS = frozenset(
    {"search_text", "name_key", "address_key", "street_name_key", "house_name_key", "updated_at"}
)


def actor_label(by: Actor) -> str:
    """How an event names who did it (the timeline's actor label)."""
    if isinstance(by, SystemActor):
        return by.label
    if isinstance(by, SourceActor):
        return by.source_name
    return by.display_name


def derive(lead: Lead) -> None:
    """Set the columns computed from the lead's values: search tokens and the name and address
    block keys."""
    lead.search_text = build_search_text(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        company_name=lead.company_name,
        phone_e164=lead.phone_e164,
        phone_raw=lead.phone_raw,
    )
    lead.name_key = name_key(lead.first_name, lead.last_name)
    lead.address_key = address_key(lead.house_number, lead.street)
    lead.street_name_key = street_name_key(lead.street, lead.last_name, lead.first_name)
    lead.house_name_key = house_name_key(lead.house_number, lead.first_name, lead.last_name)


def derived_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """`derive` for a row given as a dict of values (the bulk writer's rows)."""
    first, last = values.get("first_name") or "", values.get("last_name") or ""
    return {
        "search_text": build_search_text(
            first_name=first,
            last_name=last,
            email=values.get("email") or "",
            company_name=values.get("company_name") or "",
            phone_e164=values.get("phone_e164") or "",
            phone_raw=values.get("phone_raw") or "",
        ),
        "name_key": name_key(first, last),
        "address_key": address_key(values.get("house_number") or "", values.get("street") or ""),
        "street_name_key": street_name_key(values.get("street") or "", last, first),
        "house_name_key": house_name_key(values.get("house_number") or "", first, last),
    }


def apply_changes(
    lead: Lead,
    changes: Mapping[str, Any],
    *,
    by: Actor,
    at: dt.datetime | None = None,
    touch: bool = True,
    activity: str = "",
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> list[str]:
    """Write `changes` (column name → value) to `lead` and its row in one UPDATE.

    The derived columns follow: search text and name key when a value they read changed,
    `updated_at` unless `touch` is False (a clock-driven rescore is not a change anyone made).
    With `activity` one timeline entry of that kind records it, by `by`. The caller holds the
    transaction and the row lock; status and ownership change through `transition` and
    `assign_lead`, never here. Returns the columns written.
    """
    if "status" in changes or "assigned_to" in changes or "assigned_to_id" in changes:
        raise ValueError("status and ownership change through transition() and assign_lead()")
    if not lead.shown.everything:
        raise ValueError("A lead read with hidden fields cannot be written; reload it.")
    now = at or timezone.now()
    fields = [name for name in changes if name not in DERIVED_FIELDS]
    for name in fields:
        setattr(lead, name, changes[name])
    if SEARCH_FIELDS.intersection(fields) or ADDRESS_FIELDS.intersection(fields):
        derive(lead)
        fields += ["search_text", "name_key", "address_key", "street_name_key", "house_name_key"]
    if touch:
        lead.updated_at = now
        fields.append("updated_at")
    if fields:
        Lead.objects.filter(pk=lead.pk).update(**{name: getattr(lead, name) for name in fields})
    if activity:
        record_activity(lead, kind=activity, by=by, message=message, data=data, at=now)
    return fields


def apply_bulk(leads: Sequence[Lead], fields: Iterable[str]) -> int:
    """Write the named columns of many leads already changed in memory (scores, priority).

    Only for columns no other column is derived from, and no timeline or `updated_at`: a rescore
    by the clock or a new model changes no fact about the person. One executemany UPDATE (far
    cheaper than bulk_update's CASE per row); the caller holds the transaction. Returns how many
    rows were written.
    """
    names = list(fields)
    if SEARCH_FIELDS.intersection(names) or DERIVED_FIELDS.intersection(names) or "status" in names:
        raise ValueError("apply_bulk writes scores only; use apply_changes for values")
    return write_columns(Lead, leads, names)


def event(
    name: EventName, lead_id: int, *, by: Actor | str, at: dt.datetime, **data: Any
) -> LeadEvent:
    """A LeadEvent for `lead_id`, naming the actor as the timeline does."""
    label = by if isinstance(by, str) else actor_label(by)
    return LeadEvent(name=name, lead_id=lead_id, data=data, by=label, at=at)


def publish_event(
    name: EventName, lead_id: int, *, by: Actor | str, at: dt.datetime, **data: Any
) -> None:
    """Publish one event about `lead_id` (for apps above `leads`: routing, claims, partners)."""
    events.publish([event(name, lead_id, by=by, at=at, **data)])


def created_events(
    lead_id: int, *, status: str, source_id: int, by: Actor | str, at: dt.datetime
) -> list[LeadEvent]:
    """`lead_created`, and `lead_became_sales_ready` when the lead starts sales-ready."""
    found = [
        event(EventName.LEAD_CREATED, lead_id, by=by, at=at, status=status, source_id=source_id)
    ]
    if status == LeadStatus.SALES_READY:
        found.append(event(EventName.LEAD_BECAME_SALES_READY, lead_id, by=by, at=at))
    return found


def record_merge(
    into: Lead, *, merged: Sequence[int], by: Actor, at: dt.datetime, **data: Any
) -> None:
    """Announce that `merged` leads (or, with none, a new submission) were folded into `into`."""
    events.publish(
        [
            event(
                EventName.LEAD_MERGED,
                into.pk,
                by=by,
                at=at,
                into=into.pk,
                merged=list(merged),
                **data,
            )
        ]
    )
