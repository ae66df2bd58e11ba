"""Duplicates across the whole database: scan in batches and keep the pairs for review."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
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
from leadloop.leads.normalize import address_key, house_name_key, name_key, street_name_key

# --- The whole database --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scan of the whole database found: every pair at or above the score asked for."""

    leads: int
    pairs: int
    opened: int
    updated: int
    skipped: int
    keys_filled: int = 0  # leads whose name key was computed before the scan


class _LeadValues:
    """A row read as the attributes `_blocks` and `person_of` need (no model instance)."""

    __slots__ = COLUMNS

    def __init__(self, row: Sequence[Any]) -> None:
        for name, value in zip(COLUMNS, row, strict=True):
            setattr(self, name, value)


def scannable(selection: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    """The leads a scan walks: unmerged, not erased, and within `selection` when given."""
    leads = selection if selection is not None else Lead.objects.all()
    return leads.filter(merged_into__isnull=True, erased_at__isnull=True)


def fill_missing_name_keys(selection: QuerySet[Lead] | None = None, *, batch: int = 1000) -> int:
    """Compute the name key of leads that have a surname but no key yet; returns how many.

    The address key (house number and street), the street key (street and surname initial) and
    the house key (house number and first name) are filled the same way, uncounted.

    Leads written before the key existed, or by a tool that skipped the leads services, have
    none, and the name blocks would miss them without a word. Writing the key is bookkeeping,
    not a change to the lead: no timeline entry, no `updated_at`.
    """
    filled = _fill(
        scannable(selection).filter(name_key__isnull=True).exclude(last_name=""),
        "name_key", ("first_name", "last_name"), name_key, batch,
    )  # fmt: skip
    _fill(
        scannable(selection).filter(address_key__isnull=True).exclude(street=""),
        "address_key", ("house_number", "street"), address_key, batch,
    )  # fmt: skip
    _fill(
        scannable(selection).filter(street_name_key__isnull=True).exclude(street=""),
        "street_name_key", ("street", "last_name", "first_name"), street_name_key, batch,
    )  # fmt: skip
    _fill(
        scannable(selection).filter(house_name_key__isnull=True).exclude(house_number=""),
        "house_name_key", ("house_number", "first_name", "last_name"), house_name_key, batch,
    )  # fmt: skip
    return filled


def _fill(
    missing: QuerySet[Lead], key: str, sources: tuple[str, ...], make: Any, batch: int
) -> int:
    """Write the block key `key` (made from the `sources` columns) where it is computable."""
    filled = last_id = 0
    while True:
        rows = list(
            missing.filter(pk__gt=last_id).order_by("pk").values_list("pk", *sources)[:batch]
        )
        if not rows:
            return filled
        last_id = rows[-1][0]
        keyed = [
            Lead(pk=pk, **{key: value})
            for pk, *values in rows
            if (value := make(*values)) is not None
        ]
        Lead.objects.bulk_update(keyed, [key])
        filled += len(keyed)


def iter_scan(
    *,
    min_score: float = DUPLICATE_AT,
    batch_size: int = 1000,
    selection: QuerySet[Lead] | None = None,
    within: bool = False,
) -> Iterator[tuple[int, int, Match]]:
    """Walk the unmerged leads in id order (keyset batches) and yield (lead, other, match) for
    each pair at or above `min_score`: once per pair, the newer lead first.

    `selection` limits the walk (a source, a campaign, a filter); each lead is still compared
    with every lead, unless `within`, which keeps only pairs whose both leads are selected.
    """
    last_id = 0
    columns = list(COLUMNS)
    seen: set[tuple[int, int]] = set()
    walk = scannable(selection)
    while True:
        rows = list(walk.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:batch_size])
        if not rows:
            return
        last_id = rows[-1][0]
        matches: list[tuple[int, Match]] = []
        for row in rows:
            person = Person(row)
            rows_found = candidate_rows(_LeadValues(row), person)
            matches.extend(
                (row[0], match)
                for match in best_matches(person, rows_found, min_score, limit=BLOCK_LIMIT)
            )
        if within and selection is not None and matches:
            others = {match.lead_id for _lead, match in matches}
            inside = set(walk.filter(pk__in=others).values_list("pk", flat=True))
            matches = [(lead, match) for lead, match in matches if match.lead_id in inside]
        for lead_id, match in matches:
            # Each pair is usually seen from both sides (not always: blocks are capped).
            pair = (max(lead_id, match.lead_id), min(lead_id, match.lead_id))
            if pair not in seen:
                seen.add(pair)
                yield pair[0], pair[1], match


def find_duplicate_pairs(
    *,
    min_score: float = DUPLICATE_AT,
    batch_size: int = 1000,
    selection: QuerySet[Lead] | None = None,
    within: bool = False,
) -> tuple[ScanResult, list[DuplicatePair]]:
    """Scan the database (or `selection`, see `iter_scan`) and keep every likely pair as an
    open DuplicatePair.

    Leads with a surname but no name key yet get one first, so the name blocks see them.
    Idempotent: a pair found before gets its score and reasons refreshed while it is open; a
    pair a person dismissed ("not the same") or merged is left alone. Returns the counts and the
    pairs found in this scan (for an export).
    """
    keys_filled = fill_missing_name_keys(None if not within else selection)
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

    for item in iter_scan(
        min_score=min_score, batch_size=batch_size, selection=selection, within=within
    ):
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    flush()
    leads = scannable(selection).count()
    result = ScanResult(
        leads=leads,
        pairs=len(found) + skipped,
        opened=opened,
        updated=updated,
        skipped=skipped,
        keys_filled=keys_filled,
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
