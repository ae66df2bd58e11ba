"""What assessment keeps about a person outside the lead rows, for a privacy request: merge
snapshots, duplicate pairs and cached enrichment answers (erased), and merges (exported).

The privacy app reaches these through `assessment.services`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from leadloop.assessment.enrichment.web_call import build_request, request_hash
from leadloop.assessment.models import (
    DuplicatePair,
    EnrichmentCacheEntry,
    EnrichmentProvider,
    Merge,
    PairState,
)
from leadloop.leads.models import Lead


def forget_person_data(leads: Iterable[Lead]) -> dict[str, int]:
    """Remove what assessment keeps about the people of `leads` outside the lead rows: the merge
    snapshots that could restore their values (so those merges can no longer be undone), the
    reasons of their duplicate pairs, and the cached enrichment answers for their values.

    Call it before the leads' own values are blanked (the cache key is worked out from them),
    inside the caller's transaction. Returns how many rows of each kind changed.
    """
    leads = list(leads)
    ids = [lead.pk for lead in leads]
    merges = Merge.objects.filter(Q(survivor_id__in=ids) | Q(merged_id__in=ids)).update(
        survivor_before={}
    )
    pairs = DuplicatePair.objects.filter(Q(lead_id__in=ids) | Q(other_id__in=ids)).update(
        reasons=[]
    )
    # An open pair with an erased lead waits for a decision nobody can make any more.
    DuplicatePair.objects.filter(
        Q(lead_id__in=ids) | Q(other_id__in=ids), state=PairState.OPEN
    ).update(state=PairState.DISMISSED, decided_at=timezone.now())
    cached = 0
    for provider in EnrichmentProvider.objects.all():
        keys = {request_hash(provider, build_request(provider, lead)) for lead in leads}
        cached += EnrichmentCacheEntry.objects.filter(
            provider=provider, request_hash__in=keys
        ).delete()[0]
    return {"merges": merges, "duplicate_pairs": pairs, "enrichment_cache": cached}


def merge_records(lead_ids: list[int]) -> list[dict[str, Any]]:
    """The merges `lead_ids` took part in, for a person's copy of their data."""
    return [
        {
            "id": m.pk,
            "survivor_id": m.survivor_id,
            "merged_id": m.merged_id,
            "merged_at": m.merged_at.isoformat(),
            "undone_at": m.undone_at.isoformat() if m.undone_at else None,
            "values_before": m.survivor_before,
            "field_choices": m.field_choices,
        }
        for m in Merge.objects.filter(
            Q(survivor_id__in=lead_ids) | Q(merged_id__in=lead_ids)
        ).order_by("merged_at", "pk")
    ]
