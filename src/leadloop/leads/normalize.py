"""Pure normalisation of lead values: e-mail, phone, country, and the search tokens."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from babel import Locale
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

# Letters and digits of every script are word characters, as for FTS5's unicode61 tokenizer.
_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\D+")


class InvalidValue(ValueError):
    """A value that cannot be normalised; the message is shown to the user next to the field."""


def normalize_email(raw: str) -> str:
    """The normalised address (domain lower-cased, IDNA); InvalidValue with a readable reason."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        info = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        # email-validator explains in English only; the first sentence carries the verdict.
        raise InvalidValue(
            _("Not a valid e-mail address (%(reason)s)") % {"reason": str(exc).rstrip(".")}
        ) from exc
    return str(info.normalized)


def normalize_phone(raw: str, *, region: str) -> str:
    """The E.164 form of `raw`, read with `region` as default country; InvalidValue if invalid."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region.upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue(_("Not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(_("Not a valid phone number for its country."))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    _remember(e164, number)
    return e164


# The numbers behind the E.164 strings this process made or read lately. A lead's number is
# read when it is cleaned, again for its search tokens and again by the assessment (region,
# line type, country mismatch): `phonenumbers.parse` (~40 µs) then runs once, not three times.
_NUMBERS: dict[str, phonenumbers.PhoneNumber] = {}
_NUMBERS_MAX = 4096


def _remember(e164: str, number: phonenumbers.PhoneNumber) -> None:
    if len(_NUMBERS) >= _NUMBERS_MAX:
        _NUMBERS.clear()
    _NUMBERS[e164] = number


def parse_e164(e164: str) -> phonenumbers.PhoneNumber | None:
    """The PhoneNumber of an E.164 string (shared: do not change it), None if it is not one."""
    number = _NUMBERS.get(e164)
    if number is None:
        try:
            number = phonenumbers.parse(e164)
        except phonenumbers.NumberParseException:
            return None
        _remember(e164, number)
    return number


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(code for code in codes if len(code) == 2 and code.isalpha())


def normalize_country(raw: str) -> str:
    """An ISO 3166-1 alpha-2 code in upper case; InvalidValue for an unknown code."""
    code = raw.strip().upper()
    if not code:
        return ""
    if code == "UK":
        code = "GB"
    if code not in _countries():
        raise InvalidValue(
            _("Unknown country code %(code)r; use ISO 3166 codes like NL or DE.")
            % {"code": raw.strip()}
        )
    return code


def country_name(code: str, language: str = "en") -> str:
    """The country's name in `language` (Babel's CLDR data), or the code when unknown."""
    return Locale.parse(language or "en").territories.get(code, code)


def fold(text: str) -> str:
    """Lower case without diacritics: 'Ödön Brühl' → 'odon bruhl'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_key(first_name: str, last_name: str) -> str | None:
    """The name block's key: folded surname and the first letter of the first name
    ('Jan de Vries' → 'de vries|j'). A surname alone is too common a key at a million leads
    (hundreds share one, and a capped block then sees an arbitrary few); with the initial a
    block is a dozen people, so the cap rarely cuts. Swapped names are found by asking for the
    key both ways round."""
    last = _fold_name(last_name.strip())[:140]
    if not last:
        return None
    return f"{last}|{_fold_name(first_name.strip())[:1]}"


def address_key(house_number: str, street: str) -> str | None:
    """The address block's key: house number and the first five letters of the street name
    ('12', 'Dorpsstraat' → '12|dorps'). It meets a person again when both names and the postal
    code were mistyped; the start of a street name rarely is, and the street type after it
    ('st', 'street', 'str.') is left out of the key."""
    house = "".join(ch for ch in house_number.lower() if ch.isalnum())[:10]
    letters = "".join(ch for ch in _fold_name(street.strip()) if ch.isalpha())[:5]
    if not house or len(letters) < 3:
        return None
    return f"{house}|{letters}"


def street_name_key(street: str, last_name: str, first_name: str = "") -> str | None:
    """The street block's key: the first five letters of the street name and the surname's
    initial ('Kathner Street', 'Musolino' → 'kathn|m'; the first name's initial when there is no
    surname). It meets a person again when the house number, the postal code and the surname's
    spelling all changed: the start of the street and of the surname rarely are. Swapped names
    are found by asking for the key with both initials."""
    letters = "".join(ch for ch in _fold_name(street.strip()) if ch.isalpha())[:5]
    name = _fold_name(last_name.strip()) or _fold_name(first_name.strip())
    initial = next((ch for ch in name if ch.isalnum()), "")
    if len(letters) < 3 or not initial:
        return None
    return f"{letters}|{initial}"


def house_name_key(house_number: str, first_name: str, last_name: str = "") -> str | None:
    """The house block's key: house number and the first three letters of the first name
    ('60', 'Ashley' → '60|ash'; the surname's when there is no first name). It meets a person
    again when the surname was left out or changed and the street and postal code mistyped too;
    asked with both names for swapped ones."""
    house = "".join(ch for ch in house_number.lower() if ch.isalnum())[:10]
    name = _fold_name(first_name.strip()) or _fold_name(last_name.strip())
    letters = "".join(ch for ch in name if ch.isalpha())[:3]
    if not house or len(letters) < 2:
        return None
    return f"{house}|{letters}"


def _fold_name(text: str) -> str:
    # Most names are plain ASCII: lower() is the same as fold() there, and far cheaper.
    return text.lower() if text.isascii() else fold(text)


def tokens(text: str) -> list[str]:
    """The search tokens of a text: folded, split on everything that is not a letter or digit."""
    return [t for t in _NON_WORD.split(fold(text)) if t]


def phone_tokens(phone_e164: str, phone_raw: str) -> list[str]:
    """Phone search tokens: international digits, the national form with a leading 0, raw digits."""
    result = []
    if phone_e164:
        digits = phone_e164.lstrip("+")
        result.append(digits)
        number = parse_e164(phone_e164)
        if number is not None:
            result.append(f"0{number.national_number}")
    raw_digits = _DIGITS.sub("", phone_raw)
    if raw_digits:
        result.append(raw_digits)
    return result


def build_search_text(
    *,
    first_name: str,
    last_name: str,
    email: str,
    company_name: str,
    phone_e164: str,
    phone_raw: str,
) -> str:
    """The token string the search index reads, with a space before every token.

    The leading space lets PostgreSQL match a word prefix with LIKE '% tok%' (trigram index) exactly
    as SQLite's FTS5 matches "tok"*, so both databases answer the same query the same way.
    """
    words: list[str] = []
    for part in (first_name, last_name, email, company_name):
        words.extend(tokens(part))
    words.extend(phone_tokens(phone_e164, phone_raw))
    seen: dict[str, None] = dict.fromkeys(words)
    return "".join(f" {w}" for w in seen) + (" " if seen else "")


def query_tokens(query: str) -> list[str]:
    """The tokens of a search query; phone-like input stays one digit run ('06 123' → '06123')."""
    stripped = query.strip()
    if stripped and re.fullmatch(r"[\d\s()+\-./]{4,}", stripped):
        digits = _DIGITS.sub("", stripped)
        return [digits] if digits else []
    return tokens(stripped)[:8]
