"""Duplicates across the whole database: scan in batches and keep the pairs for review."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadloop.assessment.context import Match
from leadloop.assessment.dedup.matching.blocking import best_matches, candidate_rows
from leadloop.assessment.dedup.matching.person import (
    BLOCK_LIMIT,
    COLUMNS,
    DUPLICATE_AT,
    Person,
)
from leadloop.assessment.models import DuplicatePair, PairState
from leadloop.leads.models import Lead

# --- The whole database --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scan of the whole database found: every pair at or above the score asked for."""

    leads: int
    pairs: int
    opened: int
    updated: int
    skipped: int


class _LeadValues:
    """A row read as the attributes `_blocks` and `person_of` need (no model instance)."""

    __slots__ = COLUMNS

    def __init__(self, row: Sequence[Any]) -> None:
        for name, value in zip(COLUMNS, row, strict=True):
            setattr(self, name, value)


def iter_scan(
    *, min_score: float = DUPLICATE_AT, batch_size: int = 1000
) -> Iterator[tuple[int, int, Match]]:
    """Walk every unmerged lead in id order (keyset batches) and yield (lead, other, match) for
    each pair at or above `min_score`: once per pair, the newer lead first."""
    last_id = 0
    columns = list(COLUMNS)
    seen: set[tuple[int, int]] = set()
    while True:
        rows = list(
            Lead.objects.filter(pk__gt=last_id, merged_into__isnull=True, erased_at__isnull=True)
            .order_by("pk")
            .values_list(*columns)[:batch_size]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        for row in rows:
            person = Person(row)
            rows_found = candidate_rows(_LeadValues(row), person)
            for match in best_matches(person, rows_found, min_score, limit=BLOCK_LIMIT):
                # Each pair is usually seen from both sides (not always: blocks are capped).
                pair = (max(row[0], match.lead_id), min(row[0], match.lead_id))
                if pair not in seen:
                    seen.add(pair)
                    yield pair[0], pair[1], match


def find_duplicate_pairs(
    *, min_score: float = DUPLICATE_AT, batch_size: int = 1000
) -> tuple[ScanResult, list[DuplicatePair]]:
    """Scan the whole database and keep every likely pair as an open DuplicatePair.

    Idempotent: a pair found before gets its score and reasons refreshed while it is open; a
    pair a person dismissed ("not the same") or merged is left alone. Returns the counts and the
    pairs found in this scan (for an export).
    """
    now = timezone.now()
    leads = opened = updated = skipped = 0
    found: list[DuplicatePair] = []
    batch: list[tuple[int, int, Match]] = []

    def flush() -> None:
        nonlocal opened, updated, skipped
        o, u, s, pairs = _write_pairs(batch, now=now)
        opened, updated, skipped = opened + o, updated + u, skipped + s
        found.extend(pairs)
        batch.clear()

    for item in iter_scan(min_score=min_score, batch_size=batch_size):
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    flush()
    leads = Lead.objects.filter(merged_into__isnull=True).count()
    result = ScanResult(
        leads=leads, pairs=len(found) + skipped, opened=opened, updated=updated, skipped=skipped
    )
    return result, found


@transaction.atomic
def _write_pairs(
    items: list[tuple[int, int, Match]], *, now: Any
) -> tuple[int, int, int, list[DuplicatePair]]:
    if not items:
        return 0, 0, 0, []
    ids = {pk for lead_id, other_id, _ in items for pk in (lead_id, other_id)}
    existing: dict[frozenset[int], DuplicatePair] = {
        frozenset((p.lead_id, p.other_id)): p
        for p in DuplicatePair.objects.select_for_update().filter(lead_id__in=ids, other_id__in=ids)
    }
    opened = updated = skipped = 0
    pairs = []
    for lead_id, other_id, match in items:
        key = frozenset((lead_id, other_id))
        pair = existing.get(key)
        if pair is None:
            pair = DuplicatePair.objects.create(
                lead_id=lead_id,
                other_id=other_id,
                score=match.score,
                reasons=list(match.reasons),
                found_at=now,
            )
            existing[key] = pair
            opened += 1
        elif pair.state != PairState.OPEN:
            skipped += 1
            continue
        else:
            pair.score, pair.reasons = match.score, list(match.reasons)
            pair.save(update_fields=["score", "reasons"])
            updated += 1
        pairs.append(pair)
    return opened, updated, skipped, pairs
