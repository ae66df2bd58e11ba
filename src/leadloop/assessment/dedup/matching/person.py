"""A person as the matcher sees one lead: normalised keys of e-mail, phone, place and company."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from leadloop.assessment.dedup.matching.fields import Keys
from leadloop.assessment.dedup.matching.names import _COMPANY_FORMS, _GMAIL_LIKE, _NON_ALNUM, _key

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
# Sorted neighbourhood: rows read on each side of the lead's own name key and postal code.
NEIGHBOURS = 1
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
    "region",
)


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
        "_keys",
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
        self._keys: Keys | None = None
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
    def keys(self) -> Keys:
        """The values the name-and-address comparisons read (fields.py)."""
        if self._keys is None:
            self._keys = Keys.folded(
                first=self.first,
                last=self.last,
                house=self.house,
                street=self.street,
                city=self.city,
                postal=self.postal,
                region=self._raw[11] or "",
            )
        return self._keys

    @property
    def company(self) -> str:
        if self._company is None:
            self._company = _company_key(self._raw[9] or "")
        return self._company


def person_of(lead: Any) -> Person:
    """The matching values of a lead (or anything with the lead's attributes)."""
    return Person(tuple(getattr(lead, column) for column in COLUMNS))
