"""Field comparisons for name-and-address matching: each field of two people falls in a level.

Levels (the same for every field, so the model is one table):

- `MISSING` — either side left the field empty: no evidence either way (weight 0).
- `EXACT` — the same after normalising (case, diacritics, particles, street abbreviations).
- `CLOSE` — Jaro-Winkler at least 0.92, a nickname, or one edit in a postal code or house number.
- `SIMILAR` — Jaro-Winkler at least 0.80, or an initial that fits.
- `DIFFERENT` — anything else.

Jaro-Winkler forgives typos and transposed letters and weighs the start of a word most, which
suits names (people misspell the end, rarely the first letter). A postal code or a house number
is a code: one typed digit too many or two digits swapped are one edit (OSA distance), anything
else is another place. First and last names are also compared swapped; the arrangement that agrees
best is used (`NAMES_SWAPPED` tells which).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler

from leadloop.assessment.dedup.matching.names import _FORMALS, PARTICLES, _key

MISSING, EXACT, CLOSE, SIMILAR, DIFFERENT = 0, 1, 2, 3, 4
LEVELS = 5
# The fields compared, in the order of the level vector (and of the model's tables).
FIELDS = ("first_name", "last_name", "house_number", "street", "city", "postal_code", "region")
FIRST, LAST, HOUSE, STREET, CITY, POSTAL, REGION = range(len(FIELDS))

# Street words written short: "st"/"str." → street/straat, "rd" → road, ….
_STREET_WORDS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "crt": "court",
    "pl": "place",
    "cres": "crescent",
    "cct": "circuit",
    "cl": "close",
    "tce": "terrace",
    "hwy": "highway",
    "pde": "parade",
    "sq": "square",
    "blvd": "boulevard",
    "stra": "strasse",
}
# Dutch and German street names end in a word joined to the name: "Dorpsstr." is "Dorpsstraat".
_JOINED_SUFFIXES = (("str", "straat"), ("strasse", "strasse"), ("stra", "strasse"), ("ln", "laan"))
_HOUSE = re.compile(r"[^0-9a-z]+")


def street_key(street: str) -> str:
    """Folded street name with abbreviations spelled out: 'Tullaroop St.' → 'tullaroop street',
    'Dorpsstr.' → 'dorpsstraat'."""
    return _spelled_out(_key(street))


def _spelled_out(folded: str) -> str:
    words = folded.split(" ")
    if not words or not words[0]:
        return ""
    spelled = [_STREET_WORDS.get(w, w) for w in words]
    last = spelled[-1]
    if len(spelled) == 1:
        for short, full in _JOINED_SUFFIXES:
            if last.endswith(short) and len(last) > len(short) + 2:
                spelled[-1] = last[: -len(short)] + full
                break
    return " ".join(spelled)


def house_key(number: str) -> str:
    return _HOUSE.sub("", number.lower())


def last_name_key(name: str) -> str:
    """Folded surname without particles ('van den Berg' → 'berg'; a lone particle stays)."""
    return _without_particles(_key(name))


def _without_particles(folded: str) -> str:
    if " " not in folded:
        return folded
    words = [w for w in folded.split(" ") if w and w not in PARTICLES]
    return " ".join(words) if words else folded


def _text_level(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return EXACT
    similarity = JaroWinkler.similarity(a, b)
    if similarity >= 0.92:
        return CLOSE
    if similarity >= 0.8:
        return SIMILAR
    return DIFFERENT


# Letters an OCR reader or a hurried typist puts for others: read both names through this
# before comparing again ('rnike' → 'mike', '5tacy' → 'stacy', '1ily' → 'lily').
_OCR: tuple[tuple[str, str], ...] = (("rn", "m"), ("cl", "d"), ("vv", "w"), ("0", "o"), ("1", "l"))
_OCR += (("5", "s"), ("9", "g"), ("8", "b"), ("6", "b"), ("3", "e"), ("4", "a"), ("7", "t"))


# Spellings of one sound that people write either way ('Carin'/'Karin', 'Stephanie'/'Stefanie',
# 'Mathijs'/'Matthijs', 'Elisabeth'/'Elizabeth'): written one way, with double letters single.
_SOUNDS: tuple[tuple[str, str], ...] = (("ph", "f"), ("ck", "k"), ("c", "k"), ("th", "t"))
_SOUNDS += (("ij", "i"), ("y", "i"), ("z", "s"))


def _ocr_read(name: str) -> str:
    for seen, meant in _OCR:
        if seen in name:
            name = name.replace(seen, meant)
    return name


def _sound_read(name: str) -> str:
    for seen, meant in _SOUNDS:
        if seen in name:
            name = name.replace(seen, meant)
    return "".join(ch for i, ch in enumerate(name) if i == 0 or ch != name[i - 1])


@lru_cache(maxsize=8192)
def _slip(a: str, b: str) -> bool:
    """Two first names that a slip of the hand, of the ear or of an OCR reader explains: two
    neighbouring letters swapped ('ned'/'nde', 'amy'/'aym'), letters misread ('rnike'/'mike',
    '5acy'/'stacy' is not: a letter is missing too) or the same sound spelt another way
    ('kim'/'cim', 'filip'/'phillip'). A letter changed into another is not a slip here: 'tim'
    and 'tom', 'jan' and 'jen' are names of their own, often in one family."""
    if len(a) == len(b) and sorted(a) == sorted(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        if len(differ) == 2 and differ[1] == differ[0] + 1:
            return True
    read_a, read_b = _ocr_read(a), _ocr_read(b)
    if (read_a != a or read_b != b) and read_a == read_b:
        return True
    return _sound_read(read_a) == _sound_read(read_b)


def first_name_level(a: str, b: str) -> int:
    """Two folded first names: nicknames are close, an initial or a slip (two letters swapped,
    letters misread) that fits is similar."""
    if not a or not b:
        return MISSING
    if a == b:
        return EXACT
    first_a, first_b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if (
        first_a == first_b
        or first_b in _FORMALS.get(first_a, ())
        or first_a in _FORMALS.get(first_b, ())
    ):
        return CLOSE
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[:1] == first_b[:1]:
        return SIMILAR
    level = _text_level(a, b)
    if level == DIFFERENT and _slip(first_a, first_b):
        return SIMILAR
    return level


def code_level(a: str, b: str) -> int:
    """Postal codes and house numbers: the same, one edit apart (a typo, two digits swapped),
    or different."""
    if not a or not b:
        return MISSING
    if a == b:
        return EXACT
    return CLOSE if OSA.distance(a, b) <= 1 and min(len(a), len(b)) >= 2 else DIFFERENT


def region_level(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    return EXACT if a == b else DIFFERENT


class Keys:
    """The normalised values of one person that the comparisons read (computed once)."""

    __slots__ = (
        "city",
        "first",
        "first_as_last",
        "house",
        "last",
        "last_as_first",
        "postal",
        "region",
        "street",
    )

    def __init__(
        self,
        *,
        first: str,
        last: str,
        house: str,
        street: str,
        city: str,
        postal: str,
        region: str,
    ) -> None:
        self._set(
            first=_key(first),
            last=_key(last),
            house=house_key(house),
            street=_key(street),
            city=_key(city),
            postal=postal.upper().replace(" ", "").replace("-", ""),
            region=region,
        )

    @classmethod
    def folded(
        cls,
        *,
        first: str,
        last: str,
        house: str,
        street: str,
        city: str,
        postal: str,
        region: str,
    ) -> Keys:
        """From values folded already (a Person's): names, street and city through `_key`, the
        house number and postal code as keys; only the region is raw."""
        keys = cls.__new__(cls)
        keys._set(
            first=first, last=last, house=house, street=street, city=city, postal=postal,
            region=region,
        )  # fmt: skip
        return keys

    def _set(
        self,
        *,
        first: str,
        last: str,
        house: str,
        street: str,
        city: str,
        postal: str,
        region: str,
    ) -> None:
        self.first = first
        self.last = _without_particles(last)
        # The same names read the other way round, for a record with first and last swapped.
        self.first_as_last = _without_particles(first)
        self.last_as_first = last
        self.house = house
        self.street = _spelled_out(street)
        self.city = city
        self.postal = postal
        self.region = region.strip().lower() if region.isascii() else _key(region)


def levels(a: Keys, b: Keys, *, swapped: bool = False) -> tuple[int, ...]:
    """The level of each field in `FIELDS` order (b's first and last name swapped if asked)."""
    return (*name_levels(a, b, swapped=swapped), *address_levels(a, b))


def name_levels(a: Keys, b: Keys, *, swapped: bool = False) -> tuple[int, int]:
    """The levels of first name and surname (b's swapped if asked)."""
    b_first, b_last = (b.last_as_first, b.first_as_last) if swapped else (b.first, b.last)
    return first_name_level(a.first, b_first), _text_level(a.last, b_last)


def address_levels(a: Keys, b: Keys) -> tuple[int, ...]:
    """The levels of the address fields, which do not depend on how the names are read."""
    return (
        code_level(a.house, b.house),
        _text_level(a.street, b.street),
        _text_level(a.city, b.city),
        code_level(a.postal, b.postal),
        region_level(a.region, b.region),
    )


def describe(level_vector: Sequence[int]) -> str:
    """The fields that agree, for a reason shown to people: 'first name, surname ~, postal code'."""
    labels = ("first name", "surname", "house number", "street", "city", "postal code", "region")
    shown = []
    for label, level in zip(labels, level_vector, strict=True):
        if level == EXACT:
            shown.append(label)
        elif level in (CLOSE, SIMILAR):
            shown.append(f"{label} ~")
    return ", ".join(shown)
