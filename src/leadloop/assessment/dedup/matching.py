"""De-duplication: which existing leads look like the same person, how sure we are, and why.

Two steps, so a lookup stays cheap at millions of leads:

1. **Blocking** — one SQL statement fetches a few dozen candidate rows through indexed columns
   only: the e-mail (`lead_email`), the E.164 phone (`lead_phone`), the postal code
   (`lead_postal_code`), the organisation (`lead_org_created`) and the folded last name
   (`lead_name_key`, asked for both the last and the first name so swapped names are found).
   Every block is capped at `BLOCK_LIMIT` rows (the newest), so a shared mailbox or a common
   surname cannot make one lookup slow.
2. **Scoring** — each candidate is compared field by field (rapidfuzz for names, streets and
   company names) into a score from 0 to 1 with short reasons ("same e-mail", "name 0.93 + same
   postal code and house number").

Device signals (IP address, device fingerprint) are never read here: two people behind one office
router are two people. They are fraud evidence only (stages/fraud.py).

Thresholds (measured with bench/dedup_quality.py, see docs/deduplication.md):
- `DUPLICATE_AT` (0.85): the same person. At intake the source's policy merges, flags or allows
  it; the database scan opens a pair for review.
- `CANDIDATE_AT` (0.60): similar enough to show as a candidate, never acted on by itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rapidfuzz.distance import Indel

from leadloop.assessment.context import Match
from leadloop.assessment.models import DuplicatePair, PairState
from leadloop.leads.models import Lead
from leadloop.leads.normalize import name_key as name_key

DUPLICATE_AT = 0.85
CANDIDATE_AT = 0.60
# Rows per block, the newest kept. Every candidate costs a row read and a comparison, so the
# blocks that can grow large are cut short: an organisation's newest 20 leads, a name key's
# (surname and initial, about 16 people at a million leads) newest 5. For a common name the
# e-mail, phone, postal-code and organisation blocks do the work. At 1M leads, 10 → 5 took the
# lookups from ~3,300 to ~3,750 a second with the same precision and recall on the quality set
# (bench/dedup_lookups.py, bench/dedup_quality.py).
BLOCK_LIMIT = 50
ORGANIZATION_BLOCK_LIMIT = 20
NAME_BLOCK_LIMIT = 5
# The columns the scorer reads, in this order (no model instances on the hot path).
COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone_e164",
    "postal_code",
    "house_number",
    "street",
    "city",
    "company_name",
    "organization_id",
)

# --- Names ---------------------------------------------------------------------------------------

# Formal first name → the short forms people also go by. A short form matches its formal name,
# not another short form of it ("Jan" is "Johannes" and "Hans" is "Johannes", but Jan is not Hans).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abraham": ("bram", "abe"),
    "adrianus": ("adrie", "arie", "ad", "janus"),
    "albert": ("bert", "al"),
    "alexander": ("alex", "sander", "xander", "sasha"),
    "alexandra": ("alex", "sandra", "sasha"),
    "andrew": ("andy", "drew"),
    "anna": ("anne", "annie", "anja", "ans"),
    "anthony": ("tony",),
    "antonius": ("toon", "ton", "teun", "antoon"),
    "barbara": ("barb", "babs"),
    "benjamin": ("ben", "benny"),
    "catharina": ("cathy", "toos", "tina", "ina", "rina", "karin"),
    "catherine": ("kate", "katie", "cathy", "kathy", "cat"),
    "charles": ("charlie", "chuck"),
    "christiaan": ("chris", "stijn"),
    "christina": ("chris", "tina", "christine"),
    "christopher": ("chris", "kit"),
    "cornelis": ("kees", "cor", "niels"),
    "cornelia": ("corrie", "cor", "nel", "nelly"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "dirk": ("dick", "dik"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elisabeth": ("lisa", "liz", "beth", "betty", "els", "elly", "lies", "elise", "liesbeth"),
    "elizabeth": ("liz", "lizzy", "beth", "betty", "eliza", "lisa"),
    "franciscus": ("frans", "frank", "sjef"),
    "frederik": ("fred", "freek", "frits", "rik"),
    "gerardus": ("gerard", "gert", "geert", "gerrit", "ger", "sjra"),
    "hendrik": ("henk", "henny", "rik", "hein", "dirk"),
    "henricus": ("henk", "harrie", "rik"),
    "henry": ("harry", "hank"),
    "jacobus": ("jaap", "koos", "sjaak", "co"),
    "jacob": ("jaap", "jake", "koos"),
    "james": ("jim", "jimmy", "jamie"),
    "johanna": ("hanna", "hannie", "anneke", "joke", "jo", "jannie", "annie"),
    "johannes": ("jan", "hans", "johan", "joop", "hannes", "jo", "john"),
    "john": ("johnny", "jack"),
    "joseph": ("joe", "joey", "jos"),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "lambertus": ("bert", "lammert"),
    "margaretha": ("greet", "grietje", "margriet", "marga", "gretha", "margo"),
    "margaret": ("maggie", "meg", "peggy", "marge", "greta"),
    "maria": ("marie", "mia", "mies", "ria", "marja", "mary"),
    "michael": ("mike", "mick", "micha"),
    "nicholas": ("nick", "nicky"),
    "nicolaas": ("klaas", "niek", "nico", "claes"),
    "patricia": ("pat", "patty", "trish"),
    "petrus": ("piet", "peter", "pieter", "peer"),
    "richard": ("rick", "dick", "rich", "richie"),
    "robert": ("bob", "rob", "robbie", "bert", "bobby"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"),
    "susanna": ("suzanne", "sanne", "sanna", "suus", "susan", "sue"),
    "theodorus": ("theo", "ted", "dorus", "door"),
    "thomas": ("tom", "tommy", "thijs"),
    "wilhelmina": ("willemijn", "mien", "wil", "mina", "willy"),
    "willem": ("wim", "pim", "wil"),
    "william": ("bill", "will", "billy", "willy", "liam"),
    "wilhelmus": ("wim", "willem", "pim"),
}
_FORMALS: dict[str, frozenset[str]] = {}
for _formal, _shorts in NICKNAMES.items():
    for _short in _shorts:
        _FORMALS[_short] = _FORMALS.get(_short, frozenset()) | {_formal}

# Family-name particles that are often left out or written in another place ("Berg, van den").
PARTICLES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "het",
        "ter",
        "ten",
        "te",
        "'t",
        "in",
        "op",
        "von",
        "zu",
        "la",
        "le",
        "du",
        "des",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "mc",
    ]
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
# Company forms that say nothing about which company it is.
_COMPANY_FORMS = frozenset(
    [
        "bv",
        "b",
        "v",
        "nv",
        "n",
        "v",
        "vof",
        "cv",
        "gmbh",
        "ag",
        "ltd",
        "limited",
        "inc",
        "llc",
        "plc",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bvba",
        "holding",
        "group",
        "groep",
        "the",
        "de",
        "het",
        "and",
        "en",
    ]
)
_GMAIL_LIKE = frozenset({"gmail.com", "googlemail.com"})


def fold(text: str) -> str:
    """Lower case without diacritics (fast path for plain ASCII, which most names are)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _key(text: str) -> str:
    """Folded, letters and digits only, single spaces: 'Van den Berg-Smit' → 'van den berg smit'."""
    folded = fold(text)
    if folded.replace(" ", "").isalnum() and folded.isascii():
        return " ".join(folded.split())
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", folded)).strip()


def _without_particles(name: str) -> str:
    words = [w for w in name.split(" ") if w not in PARTICLES]
    return " ".join(words) if words else name


def _similar(a: str, b: str) -> float:
    return 1.0 if a == b else Indel.normalized_similarity(a, b)


def _first_name_similarity(a: str, b: str) -> tuple[float, str]:
    """How alike two folded first names are, and a note when a nickname or initial decided it."""
    if a == b:
        return 1.0, ""
    first_a, first_b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if first_a == first_b:  # "anna maria" and "anna"
        return 0.95, ""
    if first_b in _FORMALS.get(first_a, ()) or first_a in _FORMALS.get(first_b, ()):
        return 0.95, "nickname"
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[:1] == first_b[:1]:
        return 0.85, "initial"
    return _similar(a, b), ""


def _last_name_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return max(_similar(a, b), _similar(_without_particles(a), _without_particles(b)))


# How far two names agree, for a shared e-mail or phone: a family shares a mailbox or a landline.
AGREE, UNSURE, CONFLICT = 2, 1, 0


def _name_pair(first_a: str, last_a: str, first_b: str, last_b: str) -> tuple[float, str, int]:
    """Both names known on both sides: first names must agree too (a family shares the rest)."""
    last = _last_name_similarity(last_a, last_b)
    first, note = _first_name_similarity(first_a, first_b)
    score = (last + first) / 2
    if first >= 0.7 and last >= 0.7:
        return score, note, AGREE
    agree = UNSURE if last >= 0.7 and first >= 0.5 else CONFLICT
    return min(score, 0.6), note, agree


def name_similarity(a: Person, b: Person) -> tuple[float, str, int]:
    """0–1, a note ("names swapped", "nickname", "initial") and how far the names agree; the
    score is 0 (and they agree) when either has no name."""
    if not (a.last or a.first) or not (b.last or b.first):
        return 0.0, "", AGREE
    if a.first and a.last and b.first and b.last:
        direct = _name_pair(a.first, a.last, b.first, b.last)
        if direct[0] >= 0.95:
            return direct
        swapped = _name_pair(a.first, a.last, b.last, b.first)
        if swapped[0] > direct[0]:
            return swapped[0], "names swapped", swapped[2]
        return direct
    # One side gave only one name: compare what is there, a little less sure.
    names_a = [n for n in (a.last, a.first) if n]
    names_b = [n for n in (b.last, b.first) if n]
    best = max(_last_name_similarity(x, y) for x in names_a for y in names_b)
    return best * 0.9, "", AGREE if best >= 0.7 else CONFLICT


# --- Contact values ------------------------------------------------------------------------------


def email_key(email: str) -> str:
    """The address as one mailbox: lower case, no +tag, and for Gmail no dots in the local part."""
    local, _, domain = email.strip().lower().rpartition("@")
    if not local:
        return ""
    local = local.split("+", 1)[0]
    if domain in _GMAIL_LIKE:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def postal_key(postal_code: str) -> str:
    """Upper case without spaces or hyphens: '1234 ab' → '1234AB'."""
    return postal_code.upper().replace(" ", "").replace("-", "")


def postal_variants(postal_code: str) -> list[str]:
    """Spellings under which the same postal code may be stored (the column is compared as is)."""
    key = postal_key(postal_code)
    if not key:
        return []
    variants = {postal_code.strip(), key}
    if len(key) == 6 and key[:4].isdigit() and key[4:].isalpha():  # NL 1234 AB
        variants.add(f"{key[:4]} {key[4:]}")
    elif len(key) >= 5 and not key.isdigit():  # UK SW1A 1AA, CA K1A 0B1
        variants.add(f"{key[:-3]} {key[-3:]}")
    return sorted(v for v in variants if v)


def _house_key(number: str) -> str:
    key = number.lower().replace(" ", "").replace("-", "")
    return key if key.isalnum() else _NON_ALNUM.sub("", key)


def _company_key(name: str) -> str:
    words = [w for w in _key(name).split(" ") if w and w not in _COMPANY_FORMS]
    return " ".join(words)


class Person:
    """The values of one lead that matching compares, each in its normal form.

    Street, city and company are normalised on first use: most candidates are decided before.
    """

    __slots__ = (
        "_city",
        "_company",
        "_raw",
        "_street",
        "email",
        "email_key",
        "first",
        "house",
        "id",
        "last",
        "organization_id",
        "phone",
        "phone_tail",
        "postal",
    )

    def __init__(self, row: Sequence[Any]) -> None:
        """From values in `COLUMNS` order (a database row, or a lead's attributes)."""
        self.id = row[0]
        self.first = _key(row[1] or "")
        self.last = _key(row[2] or "")
        email = (row[3] or "").strip().lower()
        self.email = email
        self.email_key = email_key(email) if email else ""
        phone = row[4] or ""
        self.phone = phone
        self.phone_tail = phone[-9:] if len(phone) >= 10 else ""
        self.postal = postal_key(row[5]) if row[5] else ""
        self.house = _house_key(row[6]) if row[6] else ""
        self.organization_id = row[10]
        self._street: str | None = None
        self._city: str | None = None
        self._company: str | None = None
        self._raw = row

    @property
    def street(self) -> str:
        if self._street is None:
            self._street = _key(self._raw[7] or "")
        return self._street

    @property
    def city(self) -> str:
        if self._city is None:
            self._city = _key(self._raw[8] or "")
        return self._city

    @property
    def company(self) -> str:
        if self._company is None:
            self._company = _company_key(self._raw[9] or "")
        return self._company


def person_of(lead: Any) -> Person:
    """The matching values of a lead (or anything with the lead's attributes)."""
    return Person(tuple(getattr(lead, column) for column in COLUMNS))


# --- Scoring -------------------------------------------------------------------------------------


def _contact(base: float, agree: int) -> float:
    """A shared e-mail or phone is the same person unless the names say otherwise (a family
    mailbox, a company switchboard); with names half alike it takes two such signs."""
    return base if agree == AGREE else 0.8 if agree == UNSURE else 0.7


def _place(a: Person, b: Person) -> tuple[float, str]:
    """How strongly address or employer ties two people together (to be weighed with the name)."""
    same_house = bool(a.house) and a.house == b.house
    if a.postal and a.postal == b.postal:
        if same_house:
            return 1.0, "same postal code and house number"
        if a.house and b.house:
            return 0.8, "same postal code"
        return 0.93, "same postal code"
    street = bool(a.street) and bool(b.street) and _similar(a.street, b.street) >= 0.85
    if street and same_house and (a.city == b.city or not (a.postal and b.postal)):
        return 0.98, "same address"
    if a.organization_id is not None and a.organization_id == b.organization_id:
        return 0.93, "same organisation"
    if a.company and b.company and _similar(a.company, b.company) >= 0.9:
        return 0.92, "same company"
    local_a, local_b = a.email_key.partition("@")[0], b.email_key.partition("@")[0]
    if len(local_a) >= 6 and local_a == local_b:
        return 0.9, "same e-mail name"
    if street and a.city and a.city == b.city:
        return 0.88, "same street"
    if a.city and a.city == b.city:
        return 0.7, "same city"
    return 0.6, ""


def score(a: Person, b: Person) -> tuple[float, tuple[str, ...]]:
    """How sure we are that `a` and `b` are one person (0–1), and the reasons, strongest first."""
    name, note, agree = name_similarity(a, b)
    evidence: list[tuple[float, str]] = []
    if a.email and a.email == b.email:
        evidence.append((_contact(0.97, agree), "same e-mail"))
    elif a.email_key and a.email_key == b.email_key:
        evidence.append((_contact(0.95, agree), "same e-mail (ignoring dots and +tags)"))
    if a.phone and a.phone == b.phone:
        evidence.append((_contact(0.95, agree), "same phone"))
    elif a.phone_tail and a.phone_tail == b.phone_tail:
        evidence.append((_contact(0.9, agree), "same phone (last 9 digits)"))
    if name:
        weight, where = _place(a, b)
        label = f"name {name:.2f}" + (f" ({note})" if note else "")
        evidence.append((weight * name, f"{label} + {where}" if where else label))
    if not evidence:
        return 0.0, ()
    evidence.sort(key=lambda e: e[0], reverse=True)
    best = evidence[0][0]
    if len(evidence) > 1 and evidence[1][0] >= 0.7:
        # A second, independent sign adds a little: never enough to lift a weak match alone.
        # A name that differs (at most 0.6) is no second sign: families share an address.
        best = min(0.99, best + (1 - best) * evidence[1][0] * 0.5)
    return round(best, 3), tuple(reason for _, reason in evidence)


# --- Blocking ------------------------------------------------------------------------------------


def _blocks(person: Person, lead: Any) -> tuple[tuple[int, ...], list[Any]]:
    """Which blocks `person` has values for (e-mails, phone, postal codes, organisation, names:
    how many values each) and the values, in that order."""
    emails = sorted({v for v in (lead.email.strip(), person.email, person.email_key) if v})
    phones = [person.phone] if person.phone else []
    postals = postal_variants(lead.postal_code or "")
    orgs = [person.organization_id] if person.organization_id is not None else []
    first, last = lead.first_name or "", lead.last_name or ""
    names = sorted({k for k in (name_key(first, last), name_key(last, first)) if k})
    shape = (len(emails), len(phones), len(postals), len(orgs), len(names))
    return shape, [*emails, *phones, *postals, *orgs, *names]


@lru_cache(maxsize=512)
def _candidate_sql(shape: tuple[int, ...], excluded: int, qmark: bool) -> str:
    """The one statement that reads every block's candidates (built once per shape)."""
    emails, phones, postals, orgs, names = shape
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
    not_in = f" AND id NOT IN ({marks(excluded)})" if excluded else ""
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM leads_lead WHERE id IN ("  # noqa: S608
        + " UNION ALL ".join(parts)
        + f") AND merged_into_id IS NULL AND erased_at IS NULL{not_in}"
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
        cursor.execute(_candidate_sql(shape, len(skip), qmark=False), [*params, *skip])
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

    __slots__ = ("email", "email_key", "first", "last", "phone", "phone_tail", "postal")

    def __init__(self, person: Person) -> None:
        raw = person._raw
        self.first = (raw[1] or "").strip().lower()
        self.last = (raw[2] or "").strip().lower()
        self.email, self.email_key = person.email, person.email_key
        self.phone, self.phone_tail = person.phone, person.phone_tail
        self.postal = person.postal

    def worth_scoring(self, row: Sequence[Any]) -> bool:
        email = row[3]
        if email and self.email:
            email = email.lower()
            if email == self.email or email_key(email) == self.email_key:
                return True
        phone = row[4]
        if phone and self.phone and (phone == self.phone or phone[-9:] == self.phone_tail):
            return True
        # Without a shared contact value only a name can make a match (weighed by the place).
        first, last = (row[1] or "").strip().lower(), (row[2] or "").strip().lower()
        if not (first or last) or not (self.first or self.last):
            return False
        direct = _near(last, self.last) and _first_near(first, self.first)
        return direct or (_near(first, self.last) and _first_near(last, self.first))


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
