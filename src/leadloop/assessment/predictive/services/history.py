"""The closed leads a model learns from: their records and outcomes."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.assessment.predictive.services.features import (
    AFTER_CONTACT_KINDS,
    BATCH,
    CLOSED,
    CONTACT_KINDS,
    EXTRA_KEYS_CAP,
    LEAD_COLUMNS,
    MAX_TRAINING,
    MIN_CLOSED,
    MIN_PER_CLASS,
    PRE_CONTACT_KINDS,
    PROFILE_FIELDS,
    WON,
    Record,
    record_of,
)
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, Lead

logger = logging.getLogger(__name__)


# --- History -------------------------------------------------------------------------------------


@dataclass
class History:
    records: list[Record]
    outcomes: np.ndarray  # 1 won, 0 lost or disqualified
    statuses: Counter[str]


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
    for lead in queryset.iterator(chunk_size=BATCH):
        batch.append(lead)
        if len(batch) >= BATCH:
            records.extend(_records(batch))
            batch = []
        outcomes.append(1 if lead.status == WON else 0)
        statuses[lead.status] += 1
    if batch:
        records.extend(_records(batch))
    return History(records, np.array(outcomes, dtype=int), statuses)


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
        keys.update(str(k)[:60] for k, v in record["extra"].items() if v not in (None, "", [], {}))
    minimum = max(5, round(len(records) * 0.01))
    extra = sorted(k for k, n in keys.most_common(EXTRA_KEYS_CAP) if n >= minimum)
    return [
        *PROFILE_FIELDS,
        *(f"extra.{k}" for k in extra),
        *(f"activity.{k}" for k in PRE_CONTACT_KINDS),
    ]
