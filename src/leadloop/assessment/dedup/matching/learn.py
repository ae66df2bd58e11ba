"""The pairs the match model learns from: candidate pairs of the database, and people's decisions.

The unlabelled pairs are what the intake compares: for a sample of leads, the candidates their
blocks return. The labelled ones are the pairs people decided: a merge (not undone) is one person,
a dismissal ("not the same") is two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadloop.assessment.dedup.matching.blocking import candidate_rows
from leadloop.assessment.dedup.matching.compare import name_and_address
from leadloop.assessment.dedup.matching.fields import HOUSE
from leadloop.assessment.dedup.matching.model import MatchModel
from leadloop.assessment.dedup.matching.person import COLUMNS, Person
from leadloop.assessment.models import DuplicatePair, Merge, PairState
from leadloop.leads.models import Lead


class _LeadValues:
    __slots__ = COLUMNS

    def __init__(self, row: Sequence[Any]) -> None:
        for name, value in zip(COLUMNS, row, strict=True):
            setattr(self, name, value)


def _comparable(a: Person, b: Person) -> bool:
    """Both have a name: the model weighs names and address, and without a name it never
    applies."""
    return bool(a.first or a.last) and bool(b.first or b.last)


def candidate_vectors(model: MatchModel, *, sample: int) -> list[tuple[int, ...]]:
    """Level vectors of the candidate pairs of up to `sample` leads (spread over the ids)."""
    leads = Lead.objects.filter(merged_into__isnull=True, erased_at__isnull=True)
    total = leads.count()
    step = max(1, total // max(sample, 1))
    ids = list(leads.order_by("pk").values_list("pk", flat=True)[::step][:sample])
    seen: set[tuple[int, int]] = set()
    vectors = []
    for start in range(0, len(ids), 500):
        rows = leads.filter(pk__in=ids[start : start + 500]).values_list(*COLUMNS)
        for row in rows:
            person = Person(row)
            for other_row in candidate_rows(_LeadValues(row), person):
                pair = (min(row[0], other_row[0]), max(row[0], other_row[0]))
                other = Person(other_row)
                if pair in seen or not _comparable(person, other):
                    continue
                seen.add(pair)
                _weight, level_vector, _swapped = name_and_address(person, other, model)
                if any(level_vector[HOUSE:]):
                    vectors.append(level_vector)
    return vectors


def decided_vectors(model: MatchModel) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Level vectors of the pairs people merged (one person) and dismissed (two people)."""
    merged = list(
        Merge.objects.filter(undone_at__isnull=True).values_list("survivor_id", "merged_id")
    )
    dismissed = list(
        DuplicatePair.objects.filter(state=PairState.DISMISSED).values_list("lead_id", "other_id")
    )
    ids = {pk for pair in (*merged, *dismissed) for pk in pair}
    rows = {row[0]: Person(row) for row in Lead.objects.filter(pk__in=ids).values_list(*COLUMNS)}

    def vectors(pairs: list[tuple[int, int]]) -> list[tuple[int, ...]]:
        found = []
        for a, b in pairs:
            if a in rows and b in rows and _comparable(rows[a], rows[b]):
                found.append(name_and_address(rows[a], rows[b], model)[1])
        return found

    return vectors(merged), vectors(dismissed)
