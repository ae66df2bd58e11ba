"""Privacy reads: one person's leads, their records, who may still be mailed, retention."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q

from leadloop.accounts.actors import Actor
from leadloop.leads.models import (
    Activity,
    Lead,
)
from leadloop.leads.selectors.leads import PAGE_RELATIONS, _scoped, merged_lead_ids

# --- Privacy: one person's leads, their records, and who may still be mailed ----------------------


def can_receive_marketing(lead: Lead) -> bool:
    """Marketing mail (nurture, newsletters) may go to this lead: not opted out, not objecting to
    processing, not erased. Every sender of marketing mail checks this first."""
    return (
        lead.erased_at is None
        and lead.marketing_opt_out_at is None
        and lead.processing_objected_at is None
        and bool(lead.email)
    )


def list_person_leads(
    actor: Actor,
    *,
    lead_id: int | None = None,
    email: str = "",
    phone_e164: str = "",
    limit: int = 500,
) -> list[Lead]:
    """Every lead of one person that `actor` may see: the lead `lead_id`, or those with this
    e-mail (any case) or E.164 phone, plus the leads merged into them or they were merged into
    (a few levels). Erased leads are found by id only: their contact data is gone."""
    scoped = _scoped(actor)
    match = Q(pk__in=[])
    if lead_id is not None:
        match |= Q(pk=lead_id)
    if email.strip():
        match |= Q(email__iexact=email.strip())
    if phone_e164.strip():
        match |= Q(phone_e164=phone_e164.strip())
    ids = set(scoped.filter(match).values_list("pk", flat=True)[:limit])
    level = set(ids)
    for _depth in range(5):
        linked = set(
            scoped.filter(
                Q(merged_into_id__in=level)
                | Q(pk__in=Lead.objects.filter(pk__in=level).values("merged_into_id"))
            ).values_list("pk", flat=True)[:limit]
        )
        level = linked - ids
        if not level:
            break
        ids |= level
    return list(
        Lead.objects.filter(pk__in=ids).select_related(*PAGE_RELATIONS).order_by("created_at", "pk")
    )


def _plain_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def lead_record(lead: Lead) -> dict[str, Any]:
    """Every stored column of a lead as JSON-safe values (a related row as its id and name), for
    a person's copy of their data."""
    record: dict[str, Any] = {}
    for column in Lead._meta.concrete_fields:
        if column.is_relation:
            related = getattr(lead, column.name)
            record[column.name] = (
                {"id": related.pk, "name": str(related)} if related is not None else None
            )
        else:
            record[column.name] = _plain_value(getattr(lead, column.attname))
    return record


def timeline_records(lead_ids: list[int]) -> list[dict[str, Any]]:
    """The timelines of `lead_ids`, oldest first, as JSON-safe dicts."""
    return [
        {
            "lead_id": a.lead_id,
            "kind": a.kind,
            "at": a.created_at.isoformat(),
            "actor_kind": a.actor_kind,
            "actor": a.actor_label,
            "message": a.message,
            "data": a.data,
        }
        for a in Activity.objects.filter(lead_id__in=lead_ids).order_by("created_at", "pk")
    ]


def list_lead_ids_past_retention(
    *, statuses: list[str], inactive_since: dt.datetime, limit: int = 1000
) -> list[int]:
    """Unerased leads in `statuses` with no change and no timeline entry since `inactive_since`:
    the ones a retention rule erases (oldest first)."""
    recent = Activity.objects.filter(lead_id=OuterRef("pk"), created_at__gte=inactive_since)
    return list(
        # A lead merged into another follows its survivor; it is erased with it.
        Lead.objects.filter(
            status__in=statuses,
            erased_at__isnull=True,
            merged_into__isnull=True,
            updated_at__lt=inactive_since,
        )
        .exclude(Exists(recent))
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def list_lead_family(lead_id: int) -> list[Lead]:
    """A lead and the unerased leads merged into it (its whole history as one person)."""
    return list(
        Lead.objects.filter(pk__in=merged_lead_ids(lead_id), erased_at__isnull=True).order_by("pk")
    )
