"""Country, time zone, line type and carrier from the phone."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_noop
from phonenumbers import PhoneNumber, PhoneNumberType, carrier
from phonenumbers.phonenumberutil import is_number_type_geographical
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from leadloop.assessment.context import Context
from leadloop.assessment.enrichment.base import _finding, fill, note
from leadloop.assessment.findings import Finding

LINE_TYPES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
_CALLING_CODES = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def number_from_e164(e164: str) -> PhoneNumber:
    """The PhoneNumber of a stored (valid) E.164 string, without phonenumbers' parser.

    `phonenumbers.parse` costs ~40 µs, most of the phone provider's budget; an E.164 string
    already says the calling code and the national number (checked against `parse` for every
    example number phonenumbers ships, in the tests).
    """
    digits = e164[1:] if e164.startswith("+") else ""
    if not digits.isdigit() or not 4 <= len(digits) <= 17:
        raise ValueError(e164)
    for size in (1, 2, 3):
        code = int(digits[:size])
        if code in _CALLING_CODES:
            break
    else:
        raise ValueError(e164)
    national = digits[size:]
    zeros = len(national) - len(national.lstrip("0"))
    return PhoneNumber(
        country_code=code,
        national_number=int(national),
        italian_leading_zero=True if zeros else None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )


def time_zones_of(e164: str, number: PhoneNumber, kind: int) -> tuple[str, ...]:
    """The time zones of a number: by its longest known prefix when the number type is tied to
    a place, by its country otherwise (what phonenumbers.timezone does, without re-validating
    and re-formatting the number)."""
    if number.country_code is not None and is_number_type_geographical(kind, number.country_code):
        for size in range(min(TIMEZONE_LONGEST_PREFIX, len(e164) - 1), 0, -1):
            zones = TIMEZONE_DATA.get(e164[1 : 1 + size])
            if zones is not None:
                return tuple(zones)
        return ()
    return tuple(TIMEZONE_DATA.get(str(number.country_code), ()))


class PhoneProvider:
    """Country (when the lead has none), time zone, line type and, for mobiles, the carrier.

    The carrier is the one that issued the number range; a number may have moved since.
    The area name (phonenumbers.geocoder) is not looked up: its data costs about 100 MB of
    memory and up to 2 s of start-up in every process (measured), for a place name that says
    where the line was issued rather than where the person is.
    """

    name = "phone"

    def append(self, ctx: Context) -> list[Finding]:
        e164 = ctx.lead.phone_e164
        if not e164:
            return []
        try:
            number = number_from_e164(e164)
        except ValueError:
            return []
        kind = phonenumbers.number_type(number)
        country = phonenumbers.region_code_for_number(number) or ""
        if country and country != "001":
            fill(ctx, "country", country, provider=self.name)
        line = LINE_TYPES.get(kind, "")
        if line:
            note(ctx, "line_type", line, provider=self.name)
        zones = [z for z in time_zones_of(e164, number, kind) if z != "Etc/Unknown"]
        if len(zones) == 1:
            note(ctx, "time_zone", zones[0], provider=self.name)
        if kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            name = carrier.name_for_valid_number(number, "en")
            if name:
                note(ctx, "carrier", name, provider=self.name)
        if not (line or zones):
            return []
        return [
            _finding(
                "phone_line",
                gettext_noop("Phone: %(line_type)s line in %(country)s, time zone %(time_zone)s"),
                line_type=line or "?",
                country=country or "?",
                time_zone=", ".join(zones) or "?",
            )
        ]
