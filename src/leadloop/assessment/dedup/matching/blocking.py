"""Candidates for one lead: the blocks it shares with others, read in one query, then scored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.db import connection
from rapidfuzz.distance import Indel

from leadloop.assessment.context import Match
from leadloop.assessment.dedup.matching.compare import score
from leadloop.assessment.dedup.matching.names import _FORMALS, name_key
from leadloop.assessment.dedup.matching.person import (
    BLOCK_LIMIT,
    CANDIDATE_AT,
    COLUMNS,
    NAME_BLOCK_LIMIT,
    NEIGHBOURS,
    ORGANIZATION_BLOCK_LIMIT,
    Person,
    email_key,
    person_of,
    postal_key,
    postal_variants,
)
from leadloop.assessment.models import DuplicatePair, PairState
from leadloop.leads.normalize import address_key, house_name_key, street_name_key

# --- Blocking ------------------------------------------------------------------------------------


def _blocks(person: Person, lead: Any) -> tuple[tuple[int, ...], list[Any]]:
    """Which blocks `person` has values for (e-mails, phone, postal codes, organisation, names:
    how many values each) and the values, in that order."""
    emails = sorted({v for v in (lead.email.strip(), person.email, person.email_key) if v})
    phones = [person.phone] if person.phone else []
    postals = postal_variants(lead.postal_code or "")
    orgs = [person.organization_id] if person.organization_id is not None else []
    first, last = lead.first_name or "", lead.last_name or ""
    direct = name_key(first, last)
    names = sorted({k for k in (direct, name_key(last, first)) if k})
    # A lead without an e-mail or phone has nothing but its name and address to be found by,
    # so its net is cast wider: the name keys just above and below its own in index order
    # (sorted neighbourhood: a typo late in the surname or in the initial) and the address key
    # (house number and street: names and postal code all mistyped). A lead with a contact value
    # is found through it, and its lookup stays as cheap as before; a twin stored without one
    # still finds it in a scan, from its own side.
    wide = not emails and not phones
    near_names = [direct, direct] if direct and wide else []
    place = address_key(lead.house_number or "", lead.street or "") if wide else None
    places = [place] if place else []
    # And the street key (street and surname: house number, postal code and the rest of the
    # surname all mistyped) and the house key (house number and first name: surname, street and
    # postal code changed or left out), each asked with either name for swapped names.
    streets: list[str] = []
    houses: list[str] = []
    if wide:
        street, house = lead.street or "", lead.house_number or ""
        streets = _keys(street_name_key(street, last, first), street_name_key(street, first, last))
        houses = _keys(house_name_key(house, first, last), house_name_key(house, last, first))
    shape = (
        len(emails),
        len(phones),
        len(postals),
        len(orgs),
        len(names),
        len(near_names),
        len(places),
        len(streets),
        len(houses),
    )
    values = [*emails, *phones, *postals, *orgs, *names, *near_names, *places, *streets, *houses]
    return shape, values


def _keys(*keys: str | None) -> list[str]:
    return sorted({k for k in keys if k})


@lru_cache(maxsize=512)
def _candidate_sql(shape: tuple[int, ...], excluded: int, qmark: bool, array: bool = False) -> str:
    """The one statement that reads every block's candidates (built once per shape)."""
    emails, phones, postals, orgs, names, near_names, places, streets, houses = shape
    parts: list[str] = []

    def block(where: str, order: str = "id DESC", limit: int = BLOCK_LIMIT) -> None:
        parts.append(
            f"SELECT id FROM (SELECT id FROM leads_lead WHERE {where} "  # noqa: S608
            f"ORDER BY {order} LIMIT {int(limit)}) b{len(parts)}"
        )

    def marks(n: int) -> str:
        return ", ".join(["%s"] * n)

    if emails:
        block(f"email IN ({marks(emails)})")
    if phones:
        block("phone_e164 = %s")
    if postals:
        # The NOT term repeats the partial index's condition, so SQLite may use the index.
        block(f"postal_code IN ({marks(postals)}) AND NOT (postal_code = '')")
    if orgs:
        block("organization_id = %s", order="created_at DESC", limit=ORGANIZATION_BLOCK_LIMIT)
    for _ in range(names):
        block("name_key = %s", limit=NAME_BLOCK_LIMIT)
    if near_names:
        block("name_key > %s", order="name_key", limit=NEIGHBOURS)
        block("name_key < %s", order="name_key DESC", limit=NEIGHBOURS)
    if places:
        block("address_key = %s", limit=NAME_BLOCK_LIMIT)
    if streets:
        block(f"street_name_key IN ({marks(streets)})", limit=NAME_BLOCK_LIMIT)
    if houses:
        block(f"house_name_key IN ({marks(houses)})", limit=NAME_BLOCK_LIMIT)
    not_in = f" AND id NOT IN ({marks(excluded)})" if excluded else ""
    # PostgreSQL: the blocks' ids as an array, read once (an InitPlan) before the rows are
    # fetched by primary key. As `id IN (…)`, a planner that takes the table for nearly empty
    # (no statistics yet: a bulk load before autovacuum's ANALYZE, or a test's own
    # transaction) ran the blocks again for every row of the table, each lookup growing with
    # the table: 117 ms at 400 leads instead of under 1 ms.
    ids, close = ("id = ANY(ARRAY(", "))") if array else ("id IN (", ")")
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM leads_lead WHERE {ids}"  # noqa: S608
        + " UNION ALL ".join(parts)
        + f"{close} AND merged_into_id IS NULL AND erased_at IS NULL{not_in}"
    )
    return sql.replace("%s", "?") if qmark else sql


def candidate_rows(
    lead: Any, person: Person, *, exclude: Iterable[int] = ()
) -> list[tuple[Any, ...]]:
    """The rows (in `COLUMNS` order) of unmerged leads sharing a block with `lead`; one query."""
    shape, params = _blocks(person, lead)
    if not any(shape):
        return []
    skip = [pk for pk in {person.id, *exclude} if pk is not None]
    if connection.vendor == "sqlite" and not connection.queries_logged:
        # The hottest read of the intake: straight to sqlite3, skipping the wrapper's rewrite of
        # "%s" parameters into "?" (measured in bench/dedup_lookups.py).
        connection.ensure_connection()
        sql = _candidate_sql(shape, len(skip), qmark=True)
        return connection.connection.execute(sql, [*params, *skip]).fetchall()
    with connection.cursor() as cursor:
        sql = _candidate_sql(shape, len(skip), qmark=False, array=connection.vendor == "postgresql")
        cursor.execute(sql, [*params, *skip])
        return cursor.fetchall()


def find_matches(
    lead: Any,
    *,
    min_score: float = CANDIDATE_AT,
    exclude: Iterable[int] = (),
    limit: int = 5,
) -> list[Match]:
    """Existing leads that may be `lead` (saved or not), best first, scoring at least `min_score`.

    Leads merged into another and `lead` itself are never candidates; `exclude` drops more ids
    (the partners of pairs a person dismissed as "not the same").
    """
    person = person_of(lead)
    return best_matches(person, candidate_rows(lead, person, exclude=exclude), min_score, limit)


def best_matches(
    person: Person, rows: Iterable[Sequence[Any]], min_score: float, limit: int
) -> list[Match]:
    matches = []
    quick = _Quick(person)
    for row in rows:
        if not quick.worth_scoring(row):
            continue
        value, reasons = score(person, Person(row))
        if value >= min_score:
            matches.append(Match(lead_id=row[0], score=value, reasons=reasons))
    matches.sort(key=lambda m: (-m.score, m.lead_id))
    return matches[:limit]


class _Quick:
    """A cheap first look at a candidate row, so only plausible ones get the full comparison.

    A row is skipped when it shares no e-mail or phone with the lead and neither name
    arrangement comes near (lower-cased, no folding: diacritics cost a little similarity,
    which the low bar of 0.5 allows for). Such a row cannot reach CANDIDATE_AT.
    """

    __slots__ = (
        "email",
        "email_key",
        "first",
        "house",
        "last",
        "phone",
        "phone_tail",
        "postal",
        "wide",
    )

    def __init__(self, person: Person) -> None:
        raw = person._raw
        self.first = (raw[1] or "").strip().lower()
        self.last = (raw[2] or "").strip().lower()
        self.email, self.email_key = person.email, person.email_key
        self.phone, self.phone_tail = person.phone, person.phone_tail
        self.postal = person.postal
        self.house = (raw[6] or "").strip().lower()
        self.wide = not (person.email or person.phone)

    def worth_scoring(self, row: Sequence[Any]) -> bool:
        email = row[3]
        if email and self.email:
            email = email.lower()
            if email == self.email or email_key(email) == self.email_key:
                return True
        phone = row[4]
        if phone and self.phone and (phone == self.phone or phone[-9:] == self.phone_tail):
            return True
        # Without a shared contact value only a name can make a match, weighed by the place: the
        # first names must be near, and the surnames too, unless the lead has no e-mail or phone
        # (then its name and address are all there is) and the postal code or the house number
        # is the same (a surname misspelt beyond recognition, or a new one).
        first, last = (row[1] or "").strip().lower(), (row[2] or "").strip().lower()
        if not (first or last) or not (self.first or self.last):
            return False
        wide = self.wide
        if _first_near(first, self.first) and (
            _near(last, self.last) or (wide and self._same_place(row))
        ):
            return True
        return _first_near(last, self.first) and (
            _near(first, self.last) or (wide and self._same_place(row))
        )

    def _same_place(self, row: Sequence[Any]) -> bool:
        postal = row[5]
        if postal and self.postal and postal_key(postal) == self.postal:
            return True
        house = row[6]
        return bool(house) and house.strip().lower() == self.house


def _near(a: str, b: str) -> bool:
    return a == b or Indel.normalized_similarity(a, b) >= 0.5


def _first_near(a: str, b: str) -> bool:
    if not a or not b:
        return True
    a, b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if a[0] == b[0] and (len(a) <= 2 or len(b) <= 2):  # an initial
        return True
    return (
        Indel.normalized_similarity(a, b) >= 0.5
        or b in _FORMALS.get(a, ())
        or a in _FORMALS.get(b, ())
    )


def dismissed_partners(lead_id: int) -> list[int]:
    """The leads a person said are not the same as `lead_id`."""
    pairs = DuplicatePair.objects.filter(state=PairState.DISMISSED)
    return [
        *pairs.filter(lead_id=lead_id).values_list("other_id", flat=True),
        *pairs.filter(other_id=lead_id).values_list("lead_id", flat=True),
    ]
