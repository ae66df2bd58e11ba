"""Why true pairs are missed by the name-and-address scan: `bench/dedup_names.py --why`.

Each true pair the scan does not report at the default threshold falls in one cause, checked in
this order:

- `no shared block` — neither lead's blocks return the other (candidate recall); split by
  whether the pair would have scored at or above the threshold had it been a candidate;
- `no name on one side` — one record has neither a first name nor a surname: it matches nothing;
- `first names different` — both given and clearly different in either arrangement (no typo,
  slip, nickname, initial or spelling explains them): the family rule refuses the pair on
  purpose, as two people of one family share a surname and an address;
- `skipped by the quick look` — a candidate whose names are too far apart to be scored;
- `scored under the threshold` — with the most common level vectors (first name, surname, house
  number, street, city, postal code, region; 0 missing, 1 exact, 2 close, 3 similar,
  4 different).

It also prints the recall ceiling the family rule and nameless records leave: the share of true
pairs that are neither.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def explain(owner: dict[int, int], found: set[tuple[int, int]], threshold: float) -> None:
    from leadloop.assessment.dedup.matching.blocking import _Quick, candidate_rows
    from leadloop.assessment.dedup.matching.compare import name_and_address, score
    from leadloop.assessment.dedup.matching.fields import DIFFERENT, FIRST
    from leadloop.assessment.dedup.matching.person import COLUMNS, Person
    from leadloop.leads.models import Lead

    rows = {row[0]: row for row in Lead.objects.values_list(*COLUMNS)}
    people = {pk: Person(row) for pk, row in rows.items()}
    by_person: dict[int, list[int]] = {}
    for lead_id, pid in owner.items():
        by_person.setdefault(pid, []).append(lead_id)
    truth = [(a, b) for ids in by_person.values() for a in ids for b in ids if a > b]
    candidates: dict[int, set[int]] = {}

    def candidates_of(pk: int) -> set[int]:
        if pk not in candidates:
            values = _Values(rows[pk])
            candidates[pk] = {r[0] for r in candidate_rows(values, people[pk])}
        return candidates[pk]

    causes: Counter[str] = Counter()
    vectors: Counter[tuple[int, ...]] = Counter()
    refused = 0
    for a, b in truth:
        pa, pb = people[a], people[b]
        nameless = not (pa.first or pa.last) or not (pb.first or pb.last)
        different = not nameless and name_and_address(pa, pb)[1][FIRST] == DIFFERENT
        refused += nameless or different
        if (a, b) in found:
            continue
        if b not in candidates_of(a) and a not in candidates_of(b):
            scored = max(score(pa, pb)[0], score(pb, pa)[0]) >= threshold
            causes["no shared block" + (" (would score)" if scored else "")] += 1
        elif nameless:
            causes["no name on one side"] += 1
        elif different:
            causes["first names different (family rule)"] += 1
        elif not (_Quick(pa).worth_scoring(rows[b]) or _Quick(pb).worth_scoring(rows[a])):
            causes["skipped by the quick look"] += 1
        else:
            causes["scored under the threshold"] += 1
            vectors[name_and_address(pa, pb)[1]] += 1
    total = len(truth)
    print(f"  missed true pairs at {threshold}: {sum(causes.values()):,} of {total:,}")
    for cause, count in causes.most_common():
        print(f"    {cause:40} {count:6,}  {count / total:.3f} of the true pairs")
    for vector, count in vectors.most_common(5):
        print(f"      scored under: levels {vector} × {count}")
    ceiling = (total - refused) / total if total else 1.0
    print(
        f"  first names different or no name: {refused:,} ({refused / max(total, 1):.3f}); "
        f"recall ceiling {ceiling:.4f}, F1 ceiling at precision 1 {2 * ceiling / (1 + ceiling):.4f}"
    )


class _Values:
    """A row read as the attributes the blocks need."""

    def __init__(self, row: Any) -> None:
        from leadloop.assessment.dedup.matching.person import COLUMNS

        for name, value in zip(COLUMNS, row, strict=True):
            setattr(self, name, value)
