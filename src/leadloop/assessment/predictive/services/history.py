"""The closed leads a model learns from: their records and outcomes."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Min, QuerySet
from django.utils.translation import gettext as _

from leadloop.assessment.predictive.services.features import (
    AFTER_CONTACT_KINDS,
    BATCH,
    CLOSED,
    CONTACT_KINDS,
    EXTRA_KEYS_CAP,
    LEAD_COLUMNS,
    LEAKAGE_SAMPLE,
    MAX_TRAINING,
    MIN_CLOSED,
    MIN_PER_CLASS,
    PRE_CONTACT_KINDS,
    PROFILE_FIELDS,
    WON,
    Record,
    is_missing,
    record_of,
)
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, ActivityKind, Lead

logger = logging.getLogger(__name__)


# --- History -------------------------------------------------------------------------------------


@dataclass
class History:
    records: list[Record]
    outcomes: np.ndarray  # 1 won, 0 lost or disqualified
    statuses: Counter[str]
    # The leads the model will score, for comparison (their profile and extra fields only).
    open_records: list[Record] = field(default_factory=list)
    # Per closed record: the fields its timeline shows first filled after the first contact.
    filled_late: list[frozenset[str]] = field(default_factory=list)


def _leads_with_organisation(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    return queryset.select_related("organization").only(
        *(c for c in LEAD_COLUMNS if c != "id"),
        "first_contact_due_at",
        "last_contacted_at",
        "engagement_score",
        "predictive_score",
        "fraud_score",
        "hold",
    )


def activity_counts(lead_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per lead: behaviour before the first contact by sales, and sales' own activity by kind."""
    rows = (
        Activity.objects.filter(
            lead_id__in=lead_ids, kind__in=(*PRE_CONTACT_KINDS, *AFTER_CONTACT_KINDS)
        )
        .order_by()
        .values_list("lead_id", "kind", "created_at")
    )
    contact: dict[int, dt.datetime] = {}
    events: list[tuple[int, str, dt.datetime]] = []
    for lead_id, kind, at in rows:
        events.append((lead_id, kind, at))
        if kind in CONTACT_KINDS and (lead_id not in contact or at < contact[lead_id]):
            contact[lead_id] = at
    counts: dict[int, dict[str, int]] = {}
    for lead_id, kind, at in events:
        if kind in PRE_CONTACT_KINDS and lead_id in contact and at >= contact[lead_id]:
            continue
        per_lead = counts.setdefault(lead_id, {})
        per_lead[kind] = per_lead.get(kind, 0) + 1
    return counts


def _filled(change: dict[str, Any]) -> list[str]:
    """The fields a timeline change filled in (empty or placeholder before, a value after)."""
    name = str(change.get("field", ""))
    old, new = change.get("old"), change.get("new")
    if name == "extra":  # update_lead records the whole extra dict, old → new
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        return [
            f"extra.{str(k)[:60]}"
            for k, v in new.items()
            if not is_missing(v) and is_missing(old.get(k))
        ]
    return [name] if name and is_missing(old) and not is_missing(new) else []


def filled_after_contact(lead_ids: Sequence[int]) -> dict[int, set[str]]:
    """Per lead: the fields first filled in at or after sales' first contact, by the timeline
    ("Fields changed" entries, from people, imports of updates and enrichment alike)."""
    contact = dict(
        Activity.objects.filter(lead_id__in=lead_ids, kind__in=CONTACT_KINDS)
        .order_by()
        .values("lead_id")
        .annotate(first=Min("created_at"))
        .values_list("lead_id", "first")
    )
    if not contact:
        return {}
    rows = (
        Activity.objects.filter(lead_id__in=list(contact), kind=ActivityKind.FIELD_CHANGED)
        .order_by()
        .values_list("lead_id", "created_at", "data")
    )
    late: dict[int, set[str]] = {}
    for lead_id, at, data in rows:
        if at < contact[lead_id] or not isinstance(data, dict):
            continue
        for change in data.get("changes") or ():
            if isinstance(change, dict):
                late.setdefault(lead_id, set()).update(_filled(change))
    return late


def _records(leads: list[Lead]) -> list[Record]:
    counts = activity_counts([lead.pk for lead in leads])
    return [record_of(lead, activity=counts.get(lead.pk)) for lead in leads]


def load_history() -> History:
    """The closed leads to learn from (most recently closed first, at most MAX_TRAINING)."""
    queryset = _leads_with_organisation(
        Lead.objects.filter(status__in=CLOSED, merged_into__isnull=True)
    ).order_by("-closed_at", "-id")[:MAX_TRAINING]
    records: list[Record] = []
    outcomes: list[int] = []
    statuses: Counter[str] = Counter()
    batch: list[Lead] = []
    filled_late: list[frozenset[str]] = []

    def flush(batch: list[Lead]) -> None:
        records.extend(_records(batch))
        late = filled_after_contact([lead.pk for lead in batch])
        filled_late.extend(frozenset(late.get(lead.pk, ())) for lead in batch)

    for lead in queryset.iterator(chunk_size=BATCH):
        batch.append(lead)
        if len(batch) >= BATCH:
            flush(batch)
            batch = []
        outcomes.append(1 if lead.status == WON else 0)
        statuses[lead.status] += 1
    if batch:
        flush(batch)
    open_leads = _leads_with_organisation(
        Lead.objects.exclude(status__in=CLOSED).filter(merged_into__isnull=True)
    ).order_by("-id")[:LEAKAGE_SAMPLE]
    open_records = [record_of(lead) for lead in open_leads.iterator(chunk_size=BATCH)]
    return History(records, np.array(outcomes, dtype=int), statuses, open_records, filled_late)


def _check_enough(history: History) -> None:
    won = int(history.outcomes.sum())
    other = len(history.outcomes) - won
    if len(history.outcomes) >= MIN_CLOSED and won >= MIN_PER_CLASS and other >= MIN_PER_CLASS:
        return
    message = _(
        "Too little history to learn from: %(total)d closed leads (%(won)d won, %(other)d lost "
        "or disqualified). At least %(min_total)d closed leads are needed, with at least "
        "%(min_class)d won and %(min_class)d lost or disqualified. Import historical leads with "
        "their outcome (a status column) or wait for more leads to close."
    ) % {
        "total": len(history.outcomes),
        "won": won,
        "other": other,
        "min_total": MIN_CLOSED,
        "min_class": MIN_PER_CLASS,
    }
    raise ValidationFailed(message)


def candidate_fields(records: Sequence[Record]) -> list[str]:
    """Profile fields, the extra fields enough leads have, and the pre-contact behaviour."""
    keys: Counter[str] = Counter()
    for record in records:
        keys.update(str(k)[:60] for k, v in record["extra"].items() if not is_missing(v))
    minimum = max(5, round(len(records) * 0.01))
    extra = sorted(k for k, n in keys.most_common(EXTRA_KEYS_CAP) if n >= minimum)
    return [
        *PROFILE_FIELDS,
        *(f"extra.{k}" for k in extra),
        *(f"activity.{k}" for k in PRE_CONTACT_KINDS),
    ]
