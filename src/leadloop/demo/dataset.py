"""The demo data set: a year of a Dutch/English lead business, the same data for the same seed.

Reference data (users, teams, a partner, sources, campaigns, costs, organisations) goes through the
real services. Leads and their timelines are written with raw multi-row inserts (COPY on
PostgreSQL) in chunks, because a million leads through the ORM would take an hour: Faker builds
small pools of names and addresses once, random.Random(seed) combines them, phone numbers come
from number ranges that libphonenumber accepts, and every row matches what the services would
have written (derived columns from leads' `derived_values`, status moves from
lifecycle.ALLOWED_MOVES, timeline entries in the shape `transition` and `assign_lead` write).
Each chunk publishes its `lead_created` events in one batch, as the batch import does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.audit import record_audit, record_audit_many
from leadloop.accounts.models import AuditAction, AuditTarget, Role, Team, User
from leadloop.leads import services
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    ActorKind,
    Campaign,
    ChannelKind,
    CostEntry,
    Lead,
    LeadStatus,
    LostReason,
    Organization,
    Source,
)
from leadloop.leads.normalize import tokens
from leadloop.leads.services.bulk import RawTable
from leadloop.leads.services.changes import derived_values

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "leadloop-demo"  # noqa: S105 (printed to the user on purpose)
CHUNK = 5_000
S = LeadStatus
CENT = Decimal("0.01")

# (username, role, first name, last name, team); every demo user gets DEMO_PASSWORD.
USERS = (
    ("admin", Role.ADMIN, "Ada", "Admin", None),
    ("marketing", Role.MARKETING, "Mila", "Jansen", None),
    ("manager.north", Role.SALES_MANAGER, "Sanne", "de Vries", "Sales North"),
    ("manager.south", Role.SALES_MANAGER, "Tom", "Bakker", "Sales South"),
    ("rep.noor", Role.SALES_REP, "Noor", "Visser", "Sales North"),
    ("rep.daan", Role.SALES_REP, "Daan", "Smit", "Sales North"),
    ("rep.emma", Role.SALES_REP, "Emma", "Meijer", "Sales North"),
    ("rep.liam", Role.SALES_REP, "Liam", "O'Brien", "Sales North"),
    ("rep.julia", Role.SALES_REP, "Julia", "Mulder", "Sales South"),
    ("rep.sem", Role.SALES_REP, "Sem", "de Boer", "Sales South"),
    ("rep.olivia", Role.SALES_REP, "Olivia", "Hughes", "Sales South"),
    ("rep.lucas", Role.SALES_REP, "Lucas", "Dekker", "Sales South"),
)
PARTNER_NAME = "Van Dijk Installatiepartners"
PARTNER_USER = ("partner", "Ruben", "van Dijk")

# (name, kind, default country, default language, share of all leads)
SOURCES = (
    ("Website contact form", ChannelKind.WEB_FORM, "NL", "nl", 34),
    ("LeadMarkt HTTP POST", ChannelKind.HTTP_POST, "NL", "nl", 18),
    ("info@ mailbox", ChannelKind.EMAIL, "NL", "nl", 9),
    ("Tender RSS feed", ChannelKind.RSS, "GB", "en", 3),
    ("Trade fair FTP drop", ChannelKind.FTP, "NL", "nl", 5),
    ("CRM import", ChannelKind.IMPORT, "NL", "nl", 8),
    ("Manual entry", ChannelKind.MANUAL, "NL", "nl", 6),
    ("Comparison site API", ChannelKind.API, "GB", "en", 17),
)
# Campaigns per source: (name, first day ago, length in days, budget, daily costs?)
CAMPAIGNS = {
    ChannelKind.WEB_FORM: (
        ("Google Ads zonnepanelen", 360, 360, 60_000, True),
        ("Google Ads warmtepompen", 300, 240, 45_000, True),
        ("LinkedIn B2B laadpalen", 250, 120, 18_000, True),
        ("Meta voorjaarsactie", 200, 60, 12_000, True),
        ("Nieuwsbrief Q3", 150, 90, 2_500, False),
        ("SEO landingspagina's", 365, 365, 9_000, False),
    ),
    ChannelKind.HTTP_POST: (
        ("LeadMarkt zonnepanelen", 340, 300, 40_000, True),
        ("LeadMarkt warmtepompen", 220, 200, 30_000, True),
        ("LeadMarkt isolatie", 120, 110, 8_000, True),
        ("LeadMarkt zakelijk", 90, 80, 10_000, True),
    ),
    ChannelKind.EMAIL: (
        ("Winter mailing", 330, 45, 3_000, False),
        ("Summer mailing", 150, 45, 3_000, False),
        ("Reactivation mailing", 60, 50, 1_500, False),
    ),
    ChannelKind.API: (
        ("Comparison UK heat pumps", 300, 290, 35_000, True),
        ("Comparison UK solar", 200, 190, 25_000, True),
        ("Comparison US pilot", 100, 90, 15_000, True),
    ),
    ChannelKind.RSS: (("Public tenders 2025", 365, 365, 1_200, False),),
    ChannelKind.FTP: (("Energiebeurs Utrecht", 180, 4, 14_000, False),),
    ChannelKind.IMPORT: (("Legacy CRM migration", 365, 30, 0, False),),
    ChannelKind.MANUAL: (("Referrals", 365, 365, 0, False),),
}
UTM = {
    ChannelKind.WEB_FORM: (("google", "cpc"), ("linkedin", "social"), ("facebook", "social")),
    ChannelKind.HTTP_POST: (("leadmarkt", "affiliate"),),
    ChannelKind.EMAIL: (("newsletter", "email"),),
    ChannelKind.API: (("comparison", "referral"),),
}
LOST_REASONS = (
    "Price too high",
    "Chose a competitor",
    "No budget",
    "No response",
    "Timing not right",
    "Not the decision maker",
)
PRODUCTS = ("solar panels", "heat pump", "home battery", "charging station", "insulation")
JOBS = (
    "Directeur",
    "Eigenaar",
    "Facilitair manager",
    "Inkoper",
    "Office manager",
    "Operations manager",
    "Financieel manager",
    "Homeowner",
    "Facilities manager",
    "Procurement lead",
    "Managing director",
    "Sustainability officer",
    "",
)
INDUSTRIES = ("Retail", "Logistics", "Hospitality", "Healthcare", "Agriculture", "Real estate")
NOTES = (
    "Wants a second quote for comparison.",
    "Roof faces south-west; asked for photos.",
    "Decision expected after the board meeting.",
    "Interested in subsidy options.",
    "Prefers contact by e-mail.",
)
CALLS = (
    "Discussed requirements and planning.",
    "Voicemail left, will try again.",
    "Went through the offer line by line.",
    "Agreed on a site visit.",
)

# Country profiles: Faker locale, share of B2C leads, language, trunk prefix, e-mail domains, and
# phone ranges as (country code, leading digits, random digits to add) that libphonenumber accepts.
COUNTRIES = {
    "NL": (
        "nl_NL",
        58,
        "nl",
        "0",
        ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com"),
        (("31", "61", 7), ("31", "62", 7), ("31", "64", 7), ("31", "20", 7), ("31", "30", 7)),
    ),
    "BE": (
        "nl_BE",
        10,
        "nl",
        "0",
        ("gmail.com", "telenet.be", "skynet.be", "hotmail.com"),
        (("32", "47", 7), ("32", "48", 7), ("32", "49", 7)),
    ),
    "GB": (
        "en_GB",
        18,
        "en",
        "0",
        ("gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk"),
        (("44", "74", 8), ("44", "75", 8), ("44", "78", 8), ("44", "203", 7)),
    ),
    "US": (
        "en_US",
        14,
        "en",
        "",
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        # An American exchange code starts with 2-9, hence the fourth digit in each range.
        (("1", "2125", 6), ("1", "2127", 6), ("1", "4153", 6), ("1", "6174", 6), ("1", "3128", 6)),
    ),
}
TLD = {"NL": "nl", "BE": "be", "GB": "co.uk", "US": "com"}
LEGAL_FORM = {"NL": " B.V.", "BE": " BV", "GB": " Ltd", "US": " Inc."}

# Status weights by the lead's age (under 2 days, under 2 weeks, older), in LeadStatus order.
STATUS_WEIGHTS = (
    (35, 20, 15, 15, 8, 0, 0, 0, 7),
    (5, 25, 5, 12, 18, 10, 5, 8, 12),
    (1, 22, 2, 3, 7, 6, 14, 25, 20),
)
# Possible histories per final status; "@" is the routing step (assigned entry + move to assigned).
PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    S.NEW: ((),),
    S.NURTURING: ((S.NURTURING,),),
    S.SALES_READY: ((S.SALES_READY,), (S.NURTURING, S.SALES_READY)),
    S.ASSIGNED: ((S.SALES_READY, "@"), ("@",)),
    S.CONTACTED: ((S.SALES_READY, "@", S.CONTACTED),),
    S.QUOTED: ((S.SALES_READY, "@", S.CONTACTED, S.QUOTED),),
    S.WON: (
        (S.SALES_READY, "@", S.CONTACTED, S.QUOTED, S.WON),
        (S.SALES_READY, "@", S.CONTACTED, S.WON),
    ),
    S.LOST: (
        (S.NURTURING, S.LOST),
        (S.SALES_READY, "@", S.LOST),
        (S.SALES_READY, "@", S.CONTACTED, S.LOST),
        (S.SALES_READY, "@", S.CONTACTED, S.QUOTED, S.LOST),
    ),
    S.DISQUALIFIED: ((S.DISQUALIFIED,), (S.NURTURING, S.DISQUALIFIED)),
}
# Hours before each step, (low, high): the pipeline is quick, people take days.
STEP_HOURS = {
    S.NURTURING: (0.01, 0.2),
    S.SALES_READY: (0.01, 0.5),
    S.DISQUALIFIED: (0.01, 48),
    "@": (0.2, 8),
    S.CONTACTED: (2, 72),
    S.QUOTED: (24, 240),
    S.WON: (48, 720),
    S.LOST: (48, 720),
}
OWNED = frozenset({S.ASSIGNED, S.CONTACTED, S.QUOTED, S.WON, S.LOST})
PROBABILITY: dict[str, int] = {S.ASSIGNED: 20, S.CONTACTED: 40, S.QUOTED: 60}


@dataclass(frozen=True)
class DemoResult:
    leads: int
    activities: int
    organizations: int
    seconds: float
    skipped: bool
    users: tuple[tuple[str, str], ...]  # (username, role)
    password: str = DEMO_PASSWORD


@dataclass(frozen=True)
class _Actor:
    kind: str
    user_id: int | None
    label: str


@dataclass(frozen=True)
class _Owner:
    user_id: int | None
    team_id: int | None
    partner_id: int | None
    team_name: str | None
    actor: _Actor
    before_after: dict[str, Any]


@dataclass
class _Country:
    code: str
    language: str
    trunk: str
    first: list[tuple[str, str]]  # (name, slug)
    last: list[tuple[str, str]]
    streets: list[str]
    cities: list[str]
    postcodes: list[str]
    regions: list[str]
    mail_domains: tuple[str, ...]
    phones: tuple[tuple[str, str, int], ...]


def _slug(text: str) -> str:
    return "".join(tokens(text))


def _pool(make: Callable[[], str], size: int) -> list[str]:
    # Sorted, so the pool does not depend on set order (string hashes differ per process).
    return sorted({make() for _ in range(size)})


def _countries(seed: int) -> dict[str, _Country]:
    result = {}
    for code, (locale, _, language, trunk, domains, phones) in COUNTRIES.items():
        fake = Faker(locale)
        fake.seed_instance(seed)
        region = getattr(fake, "administrative_unit", None) or (lambda: "")
        result[code] = _Country(
            code=code,
            language=language,
            trunk=trunk,
            first=[(n, _slug(n)) for n in _pool(fake.first_name, 500)],
            last=[(n, _slug(n)) for n in _pool(fake.last_name, 600)],
            streets=_pool(fake.street_name, 400),
            cities=_pool(fake.city, 250),
            postcodes=_pool(fake.postcode, 500),
            regions=_pool(region, 60),
            mail_domains=domains,
            phones=phones,
        )
    return result


def _phone(rng: Any, country: _Country) -> tuple[str, str]:
    """A valid number as (raw as typed, E.164), from ranges libphonenumber accepts."""
    cc, lead_digits, extra = rng.choice(country.phones)
    national = lead_digits + str(rng.randrange(10**extra)).zfill(extra)
    e164 = f"+{cc}{national}"
    style = rng.random()
    if style < 0.2:
        return e164, e164
    if style < 0.45:
        return f"+{cc} {national[:3]} {national[3:6]} {national[6:]}", e164
    if cc == "1":
        return f"({national[:3]}) {national[3:6]}-{national[6:]}", e164
    if style < 0.75:
        return f"{country.trunk}{national[: len(lead_digits)]}-{national[len(lead_digits) :]}", e164
    return f"{country.trunk}{national[:4]} {national[4:]}", e164


# --- Reference data ------------------------------------------------------------------------------


@dataclass
class _Reference:
    marketing: _Actor
    sources: list[tuple[Source, _Actor]]
    source_weights: list[int]
    campaigns_by_day: dict[tuple[int, int], list[Campaign]]
    owners: list[_Owner]
    pools: list[_Owner]  # team pools for sales-ready leads
    lost_reasons: list[LostReason]
    organizations: list[tuple[int, str, str, str]]  # (id, name, domain, country)


def _user_actor(user: User) -> _Actor:
    kind = ActorKind.PARTNER if user.role == Role.PARTNER else ActorKind.USER
    return _Actor(kind, user.pk, user.display_name)


def _users() -> dict[str, User]:
    users: dict[str, User] = {}
    teams: dict[str, Team] = {}
    created: list[int] = []
    for username, role, first, last, team_name in USERS:
        team = None
        if team_name:
            team = teams.get(team_name) or accounts_services.get_or_create_team(name=team_name)
            teams[team_name] = team
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts_services.create_user(
                username=username, role=role, first_name=first, last_name=last, team=team
            )
            created.append(user.pk)
        users[username] = user
        if role == Role.SALES_MANAGER and team is not None:
            accounts_services.get_or_create_team(name=team.name, manager=user)
    partner = accounts_services.get_or_create_partner(name=PARTNER_NAME)
    username, first, last = PARTNER_USER
    existing = User.objects.filter(username=username).first()
    if existing is None:
        existing = accounts_services.create_user(
            username=username, role=Role.PARTNER, first_name=first, last_name=last, partner=partner
        )
        created.append(existing.pk)
    users[username] = existing
    # One hash for all: PBKDF2 takes a third of a second, and the demo password is shared anyway.
    # Only users made here get it: an existing "admin" keeps the password its owner chose.
    User.objects.filter(pk__in=created).update(password=make_password(DEMO_PASSWORD))
    return users


def _owners(users: dict[str, User]) -> tuple[list[_Owner], list[_Owner]]:
    empty = {"assigned_to": None, "team": None, "partner": None}
    owners, pools = [], []
    for user in users.values():
        if user.role not in (Role.SALES_REP, Role.SALES_MANAGER):
            continue
        team = user.team
        after = {"assigned_to": user.display_name, "team": team.name if team else None}
        owner = _Owner(
            user.pk,
            user.team_id,
            None,
            team.name if team else None,
            _user_actor(user),
            {"before": empty, "after": {**after, "partner": None}},
        )
        # Reps carry most of the load; managers take a few leads themselves.
        owners.extend([owner] * (1 if user.role == Role.SALES_MANAGER else 6))
        if user.role == Role.SALES_MANAGER and team is not None:
            pool_after = {"assigned_to": None, "team": team.name, "partner": None}
            pools.append(
                _Owner(
                    None,
                    team.pk,
                    None,
                    team.name,
                    _user_actor(user),
                    {"before": empty, "after": pool_after},  # type: ignore[dict-item]
                )
            )
    partner_user = users[PARTNER_USER[0]]
    partner = partner_user.partner
    assert partner is not None
    owners.extend(
        [
            _Owner(
                None,
                None,
                partner.pk,
                None,
                _user_actor(partner_user),
                {
                    "before": empty,
                    "after": {"assigned_to": None, "team": None, "partner": partner.name},
                },
            )
        ]
        * 5
    )
    return owners, pools


def _sources_and_campaigns(
    rng: Any, today: dt.date, marketing: _Actor
) -> tuple[list[tuple[Source, _Actor]], dict[tuple[int, int], list[Campaign]]]:
    sources = []
    by_day: dict[tuple[int, int], list[Campaign]] = {}
    costs = []
    for index, (name, kind, country, language, _) in enumerate(SOURCES):
        source = Source.objects.filter(name=name).first() or (
            services.create_source(
                name=name, kind=kind, by=SYSTEM, default_country=country, default_language=language
            ).source
        )
        if kind in (ChannelKind.HTTP_POST, ChannelKind.API):
            creator = _Actor(ActorKind.SOURCE, None, source.name)
        elif kind in (ChannelKind.IMPORT, ChannelKind.MANUAL):
            creator = marketing
        else:
            creator = _Actor(ActorKind.SYSTEM, None, SYSTEM.label)
        sources.append((source, creator))
        for cname, ago, days, budget, daily in CAMPAIGNS[kind]:
            starts = today - dt.timedelta(days=ago)
            ends = starts + dt.timedelta(days=days - 1)
            campaign = Campaign.objects.filter(source=source, name=cname).first()
            if campaign is None:
                campaign = services.create_campaign(
                    source=source,
                    name=cname,
                    by=SYSTEM,
                    starts_on=starts,
                    ends_on=ends,
                    budget_amount=Decimal(budget),
                )
                step = 1 if daily else 7
                spend_days = list(range(0, min(days, ago + 1), step))
                for offset in spend_days:
                    share = Decimal(budget) / max(days // step, 1)
                    amount = (share * Decimal(str(round(rng.uniform(0.7, 1.3), 2)))).quantize(
                        Decimal("0.01")
                    )
                    costs.append(
                        CostEntry(
                            campaign=campaign,
                            incurred_on=starts + dt.timedelta(days=offset),
                            amount=amount,
                            note="media" if daily else "weekly invoice",
                        )
                    )
            for day in range(max(0, (today - ends).days), min(366, ago + 1)):
                by_day.setdefault((index, day), []).append(campaign)
    CostEntry.objects.bulk_create(costs, batch_size=2000)
    return sources, by_day


def _organizations(
    rng: Any, countries: dict[str, _Country], count: int
) -> list[tuple[int, str, str, str]]:
    """A few holdings with branches (through the service, so paths are real), then companies."""
    result = []
    codes = list(COUNTRIES)
    country_weights = [COUNTRIES[c][1] for c in codes]
    for index in range(min(6, count)):
        code = "NL" if index < 4 else rng.choice(codes)
        family = rng.choice(countries[code].last)[0]
        name = f"{family} Groep" if code in ("NL", "BE") else f"{family} Holdings"
        domain = f"{_slug(family)}groep.{TLD[code]}"
        holding = services.create_organization(
            name=name + LEGAL_FORM[code],
            by=SYSTEM,
            country=code,
            domain=domain,
            website=f"https://www.{domain}",
            industry=rng.choice(INDUSTRIES),
        )
        result.append((holding.pk, holding.name, domain, code))
        parent = holding
        for city in rng.sample(countries[code].cities, rng.randint(2, 4)):
            branch = services.create_organization(
                name=f"{name} {city}{LEGAL_FORM[code]}",
                by=SYSTEM,
                parent=holding if index % 2 else parent,  # every other holding nests two deep
                country=code,
                domain=domain,
                website=f"https://www.{domain}",
                industry=holding.industry,
            )
            parent = branch if branch.depth < 2 else parent
            result.append((branch.pk, branch.name, domain, code))
    flat = max(count - len(result), 0)
    start = (Organization.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = []
    for pk in range(start, start + flat):
        code = rng.choices(codes, weights=country_weights)[0]
        family = rng.choice(countries[code].last)[0]
        trade = rng.choice(("Bouw", "Techniek", "Logistiek", "Vastgoed", "Zorg", "Retail"))
        if code in ("GB", "US"):
            trade = rng.choice(("Building", "Engineering", "Logistics", "Property", "Care"))
        name = f"{family} {trade}{LEGAL_FORM[code]}"
        domain = f"{_slug(family)}{_slug(trade)}.{TLD[code]}"
        rows.append(
            Organization(
                pk=pk,
                name=name,
                path=f"/{pk}/",
                domain=domain,
                website=f"https://www.{domain}",
                industry=rng.choice(INDUSTRIES),
                employees=rng.choice((5, 12, 40, 85, 250, 1200)),
                country=code,
                registration_number=str(rng.randrange(10**7, 10**8)) if code == "NL" else "",
                vat_number=f"NL{rng.randrange(10**8, 10**9)}B01" if code == "NL" else "",
            )
        )
        result.append((pk, name, domain, code))
    Organization.objects.bulk_create(rows, batch_size=2000)
    return result


def _reference(
    seed: int, today: dt.date, org_count: int, countries: dict[str, _Country]
) -> _Reference:
    rng = random.Random(f"{seed}:reference")  # noqa: S311 (demo data, not secrets)
    users = _users()
    marketing = _user_actor(users["marketing"])
    owners, pools = _owners(users)
    sources, by_day = _sources_and_campaigns(rng, today, marketing)
    lost = [services.get_or_create_lost_reason(name) for name in LOST_REASONS]
    orgs = _organizations(rng, countries, org_count)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Organization]):
            cursor.execute(sql)
    return _Reference(
        marketing=marketing,
        sources=sources,
        source_weights=[s[4] for s in SOURCES],
        campaigns_by_day=by_day,
        owners=owners,
        pools=pools,
        lost_reasons=lost,
        organizations=orgs,
    )


# --- Leads and timelines -------------------------------------------------------------------------


class _LeadMaker:
    """Builds one chunk of leads and their timelines from a seeded random generator."""

    def __init__(
        self, ref: _Reference, countries: dict[str, _Country], now: dt.datetime, total: int
    ) -> None:
        self.ref = ref
        self.countries = countries
        self.country_codes = list(COUNTRIES)
        self.country_weights = [COUNTRIES[c][1] for c in self.country_codes]
        self.now = now
        self.start = (now - dt.timedelta(days=365)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.total = total
        self.status_values = list(S.values)
        self.leads = RawTable(Lead, with_pk=True)
        self.activities = RawTable(Activity, with_pk=False)
        self.system = _Actor(ActorKind.SYSTEM, None, SYSTEM.label)
        self.extra = {p: json.dumps({"product_interest": p}) for p in PRODUCTS}
        self.lost_by_name = {r.name: r for r in ref.lost_reasons}
        self.employees: dict[int, int | None] = dict(
            Organization.objects.values_list("pk", "employees")
        )

    def _created_at(self, rng: Any, local_index: int) -> dt.datetime:
        # Density grows over the year (t = u^(1/1.3)), and leads arrive mostly in office hours.
        u = (local_index + rng.random()) / self.total
        day = int(365 * u ** (1 / 1.3))
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        created = self.start + dt.timedelta(
            days=day, hours=hour, seconds=rng.randrange(3600), microseconds=rng.randrange(10**6)
        )
        if created >= self.now:
            created = self.now - dt.timedelta(seconds=rng.randrange(60, 7200))
        return created

    def chunk(
        self, rng: Any, first_id: int, local_start: int, count: int
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        lead_rows, activity_rows = [], []
        for offset in range(count):
            values, events = self._lead(rng, first_id + offset, local_start + offset)
            lead_rows.append(self.leads.row(values))
            lead_id = values["id"]
            for at, kind, actor, message, data in events:
                activity_rows.append(
                    self.activities.row(
                        {
                            "lead_id": lead_id,
                            "kind": kind,
                            "actor_kind": actor.kind,
                            "actor_user_id": actor.user_id,
                            "actor_label": actor.label,
                            "message": message,
                            "data": data,
                            "created_at": at,
                        }
                    )
                )
        return lead_rows, activity_rows

    def _person(self, rng: Any, values: dict[str, Any]) -> None:
        ref = self.ref
        b2b = rng.random() < 0.55 and ref.organizations
        if b2b:
            # A few big customers send many leads: skew the pick towards the first organisations.
            org_id, org_name, domain, code = ref.organizations[
                int(len(ref.organizations) * rng.random() ** 2)
            ]
            values["organization_id"] = org_id
            values["company_name"] = org_name
        else:
            code = rng.choices(self.country_codes, weights=self.country_weights)[0]
            domain = rng.choice(self.countries[code].mail_domains)
        country = self.countries[code]
        first, first_slug = rng.choice(country.first)
        last, last_slug = rng.choice(country.last)
        if rng.random() < 0.96:
            style = rng.random()
            if b2b and style < 0.6:
                local = (
                    f"{first_slug}.{last_slug}" if style < 0.4 else f"{first_slug[0]}.{last_slug}"
                )
            elif b2b:
                local = first_slug
            else:
                local = f"{first_slug}.{last_slug}{rng.randrange(1, 100) if style < 0.7 else ''}"
            values["email"] = f"{local}@{domain}"
        if rng.random() < 0.9:
            values["phone_raw"], values["phone_e164"] = _phone(rng, country)
        values.update(
            first_name=first,
            last_name=last,
            country=code,
            language=country.language,
            street=rng.choice(country.streets),
            house_number=str(rng.randint(1, 240)) + ("" if rng.random() < 0.85 else "a"),
            postal_code=rng.choice(country.postcodes),
            city=rng.choice(country.cities),
            region=rng.choice(country.regions) if country.regions else "",
            job_title=rng.choice(JOBS),
            currency={"GB": "GBP", "US": "USD"}.get(code, "EUR"),
        )
        values.update(derived_values(values))

    def _origin(
        self, rng: Any, values: dict[str, Any], created: dt.datetime
    ) -> tuple[Source, _Actor, str]:
        ref = self.ref
        index = rng.choices(range(len(ref.sources)), weights=ref.source_weights)[0]
        source, creator = ref.sources[index]
        values["source_id"] = source.pk
        kind = source.kind
        campaigns = ref.campaigns_by_day.get((index, (self.now - created).days))
        campaign = rng.choice(campaigns) if campaigns and rng.random() < 0.8 else None
        product = rng.choice(PRODUCTS)
        if campaign is not None:
            values["campaign_id"] = campaign.pk
            if kind in UTM:
                utm_source, utm_medium = rng.choice(UTM[kind])
                values.update(
                    utm_source=utm_source,
                    utm_medium=utm_medium,
                    utm_campaign="-".join(tokens(campaign.name)),
                    utm_term=product if utm_medium == "cpc" else "",
                    utm_content=rng.choice(("", "banner-a", "banner-b", "text")),
                )
        if kind in (ChannelKind.WEB_FORM, ChannelKind.HTTP_POST, ChannelKind.API):
            values["extra"] = self.extra[product]
        else:
            product = ""  # these channels do not say what the person is interested in
        if kind == ChannelKind.WEB_FORM:
            values["referrer"] = rng.choice(
                (
                    "https://www.google.com/",
                    "https://www.linkedin.com/",
                    "https://www.bing.com/",
                    "",
                )
            )
            values["landing_page"] = f"https://www.zonenwarmte.example/{'-'.join(tokens(product))}"
        if kind in (
            ChannelKind.HTTP_POST,
            ChannelKind.API,
            ChannelKind.FTP,
            ChannelKind.RSS,
            ChannelKind.IMPORT,
        ):
            values["external_ref"] = f"{kind[:2].upper()}-{rng.getrandbits(64):016x}"
        if kind in (
            ChannelKind.WEB_FORM,
            ChannelKind.HTTP_POST,
            ChannelKind.API,
            ChannelKind.EMAIL,
        ):
            values.update(
                consent_purpose=rng.choice(("Contact about my request", "Offers by e-mail")),
                consent_at=created,
                consent_text_version=rng.choice(("2024-06", "2025-01")),
            )
        if creator.kind == ActorKind.USER:
            values["created_by_id"] = creator.user_id
        return source, creator, product

    def _lead(self, rng: Any, lead_id: int, local_index: int) -> tuple[dict[str, Any], list[Any]]:
        created = self._created_at(rng, local_index)
        values: dict[str, Any] = {"id": lead_id, "created_at": created}
        self._person(rng, values)
        source, creator, product = self._origin(rng, values, created)
        age_days = (self.now - created).days
        bucket = 0 if age_days < 2 else 1 if age_days < 14 else 2
        status = rng.choices(self.status_values, weights=STATUS_WEIGHTS[bucket])[0]
        # How keen the person is: it shows in their behaviour before sales calls, and in the odds.
        interest = rng.gauss(0.0, 1.0)
        if status in CLOSED:
            status = self._outcome(rng, values, source, product, interest)
        if status == S.WON and rng.random() < 0.95:
            # Filled in by sales when the contract is signed: a field that gives the outcome
            # away, so the predictive model's leakage check has something real to catch.
            extra = json.loads(values.get("extra") or "{}")
            extra["contract_number"] = f"CN-{created.year}-{rng.randrange(10**6):06d}"
            values["extra"] = json.dumps(extra)
        self._assessment(rng, values, status)
        events = self._history(rng, values, status, created, source, creator)
        self._engagement(rng, values, events, source, interest)
        return values, events

    def _outcome(
        self, rng: Any, values: dict[str, Any], source: Source, product: str, interest: float
    ) -> str:
        """Won, lost or disqualified: the odds follow the profile and the behaviour, noisily."""
        title = values.get("job_title", "")
        employees = self.employees.get(values.get("organization_id") or 0)
        log_odds = (
            WIN_BASE
            + next((odds for word, odds in SENIORITY if word in title.lower()), -0.4)
            + (SIZE_ODDS.get(employees, 0.0) if employees else 0.0)
            + (0.2 if values.get("organization_id") else 0.0)
            + COUNTRY_ODDS.get(values["country"], 0.0)
            + SOURCE_ODDS.get(source.name, 0.0)
            + PRODUCT_ODDS.get(product, 0.0)
            + 0.8 * interest
        )
        if rng.random() < 1 / (1 + math.exp(-log_odds)):
            return S.WON
        return rng.choices((S.LOST, S.DISQUALIFIED), weights=(25, 20))[0]

    def _engagement(
        self,
        rng: Any,
        values: dict[str, Any],
        events: list[Any],
        source: Source,
        interest: float,
    ) -> None:
        """Behaviour before a salesperson's first contact: repeat form posts, mail opens and
        clicks, page visits, survey answers; keener people do more. Timestamps fall between the
        creation and the first call (or the last entry), and the timeline stays in order."""
        first, last = events[0][0], events[-1][0]
        contact = next(
            (at for at, kind, *_rest in events if kind in (ActivityKind.CALL, ActivityKind.EMAIL)),
            None,
        )
        end = contact if contact is not None else max(last, first + dt.timedelta(hours=2))
        end = min(end, self.now - dt.timedelta(seconds=1))
        span = (end - first).total_seconds()
        if span <= 2:
            return
        keen = math.exp(0.6 * interest)
        person = _Actor(ActorKind.LEAD, None, f"{values['first_name']} {values['last_name']}")
        sender = _Actor(ActorKind.SOURCE, None, source.name)
        added: list[tuple[dt.datetime, str, _Actor, str, str]] = []
        for kind, rate in ENGAGEMENT_RATES:
            if kind in (ActivityKind.EMAIL_OPENED, ActivityKind.EMAIL_CLICKED) and not values.get(
                "email"
            ):
                continue
            for _ in range(_poisson(rng, rate * keen)):
                at = first + dt.timedelta(seconds=rng.uniform(1, span - 1))
                if kind == ActivityKind.FORM_SUBMITTED:
                    data = {"touchpoint": True, "source": source.name}
                    added.append((at, kind, sender, source.name, json.dumps(data)))
                else:
                    detail = rng.choice(ENGAGEMENT_DETAILS[kind])
                    data = {ENGAGEMENT_KEYS[kind]: detail}
                    added.append((at, kind, person, detail, json.dumps(data)))
        if added:
            events.extend(added)
            events.sort(key=lambda event: event[0])
            values["updated_at"] = events[-1][0]

    def _history(
        self,
        rng: Any,
        values: dict[str, Any],
        status: str,
        created: dt.datetime,
        source: Source,
        creator: _Actor,
    ) -> list[Any]:
        path = rng.choice(PATHS[status])
        owner = rng.choice(self.ref.owners) if "@" in path else None
        pool = (
            rng.choice(self.ref.pools) if status == S.SALES_READY and rng.random() < 0.5 else None
        )
        # (hours after creation, kind, actor, message, data) — made relative first, scaled to fit.
        events: list[list[Any]] = [
            [0.0, ActivityKind.CREATED, creator, "", json.dumps({"source": source.name})]
        ]
        hours, previous = 0.0, S.NEW
        lost_reason = None
        for step in path:
            low, high = STEP_HOURS[step]
            hours += rng.uniform(low, high)
            if step == "@":
                assert owner is not None
                events.append([hours, ActivityKind.ASSIGNED, self.system, "", owner.before_after])
                step = S.ASSIGNED
                actor = self.system
            elif step in (S.CONTACTED, S.QUOTED, S.WON, S.LOST) and owner is not None:
                actor = owner.actor
            elif step == S.DISQUALIFIED and rng.random() < 0.3:
                actor = self.ref.marketing
            else:
                actor = self.system
            data: dict[str, Any] = {"from": previous, "to": step}
            if step == S.CONTACTED:
                events.append([hours, ActivityKind.CALL, actor, rng.choice(CALLS), "{}"])
            if step == S.QUOTED:
                events.append([hours, ActivityKind.QUOTE, actor, "Quote sent.", "{}"])
            if step == S.LOST:
                lost_reason = (
                    self.lost_by_name["No response"]
                    if owner is None
                    else rng.choice(self.ref.lost_reasons)
                )
                data["lost_reason"] = lost_reason.name
            if step == S.WON:
                data["order_value"] = str(values["order_value"])
            events.append([hours, ActivityKind.STATUS_CHANGED, actor, "", data])
            if step == S.CONTACTED and owner is not None:
                for _ in range(rng.choice((0, 1, 1, 2, 3))):
                    hours += rng.uniform(4, 96)
                    kind = rng.choice((ActivityKind.CALL, ActivityKind.NOTE, ActivityKind.EMAIL))
                    message = rng.choice(NOTES if kind == ActivityKind.NOTE else CALLS)
                    events.append([hours, kind, owner.actor, message, "{}"])
            previous = step
        if pool is not None:
            hours += rng.uniform(0.5, 24)
            events.append([hours, ActivityKind.ASSIGNED, pool.actor, "", pool.before_after])
        # Leads from last week cannot have a month of history: squeeze the timeline to fit.
        room = (self.now - created).total_seconds() / 3600 * 0.95
        scale = min(1.0, room / hours) if hours > 0 else 1.0
        result = []
        last_status_at = None
        assigned_at = None
        contacted_at = None
        for rel, kind, actor, message, data in events:
            at = created + dt.timedelta(hours=rel * scale)
            if kind == ActivityKind.STATUS_CHANGED:
                last_status_at = at
                if data["to"] == S.ASSIGNED:
                    assigned_at = at
            if kind in (ActivityKind.CALL, ActivityKind.EMAIL):
                contacted_at = at
            result.append(
                (at, kind, actor, message, data if isinstance(data, str) else json.dumps(data))
            )
        who = owner or pool
        values.update(
            status=status,
            status_changed_at=last_status_at,
            updated_at=result[-1][0],
            last_contacted_at=contacted_at,
            assigned_to_id=who.user_id if who else None,
            team_id=who.team_id if who else None,
            owner_partner_id=who.partner_id if who else None,
            lost_reason_id=lost_reason.pk if lost_reason else None,
        )
        if status in (S.WON, S.LOST, S.DISQUALIFIED):
            values["closed_at"] = last_status_at
        if assigned_at is not None:
            values["first_contact_due_at"] = assigned_at + dt.timedelta(hours=24)
        if status in PROBABILITY:
            values["next_follow_up_at"] = result[-1][0] + dt.timedelta(days=rng.randint(1, 14))
        return result

    def _assessment(self, rng: Any, values: dict[str, Any], status: str) -> None:
        rank = self.status_values.index(status)
        if status != S.NEW or rng.random() < 0.4:
            weights = GRADE_WEIGHTS.get(status, (25, 30, 30, 15))
            values["fit_grade"] = rng.choices("ABCD", weights=weights)[0]
            values["predictive_score"] = round(rng.random() ** (1.5 if status == S.WON else 3), 3)
        advanced = status in OWNED
        for name in ("bant_budget", "bant_authority", "bant_need", "bant_timeframe"):
            roll = rng.random()
            if advanced:
                values[name] = "met" if roll < 0.6 else "not_met" if roll < 0.75 else ""
            else:
                values[name] = "met" if roll < 0.15 else "not_met" if roll < 0.25 else ""
        values["engagement_score"] = min(100, rng.randint(0, 40) + rank * rng.randint(0, 8))
        values["priority"] = rng.choice((0, 0, 0, 1, 1, 2, 3))
        if status in OWNED:
            base = rng.randrange(20, 400) * 50
            if values.get("organization_id"):
                base *= 3
            values["potential_revenue"] = Decimal(base)
            if status == S.WON:
                values["order_value"] = (Decimal(base) * rng.randint(85, 105) / 100).quantize(CENT)
        if status in PROBABILITY:
            values["probability"] = PROBABILITY[status] + rng.randint(-10, 10)


# The odds of a closed lead being won (log-odds, added up): most leads are lost or disqualified;
# seniority, company size, country, source, product and keenness move the odds.
WIN_BASE = -1.8
SENIORITY = (
    ("directeur", 1.0),
    ("director", 1.0),
    ("eigenaar", 0.9),
    ("manager", 0.4),
    ("inkoper", 0.2),
    ("procurement", 0.2),
    ("sustainability", 0.3),
    ("homeowner", 0.0),
)
SIZE_ODDS = {5: -0.3, 12: 0.0, 40: 0.2, 85: 0.3, 250: 0.5, 1200: 0.6}
COUNTRY_ODDS = {"NL": 0.3, "BE": 0.1, "GB": -0.1, "US": -0.5}
SOURCE_ODDS = {
    "Website contact form": 0.3,
    "LeadMarkt HTTP POST": -0.5,
    "info@ mailbox": 0.1,
    "Tender RSS feed": -0.4,
    "Trade fair FTP drop": 0.5,
    "Manual entry": 0.7,
    "Comparison site API": -0.3,
}
PRODUCT_ODDS = {
    "heat pump": 0.3,
    "solar panels": 0.2,
    "home battery": 0.0,
    "charging station": -0.2,
    "insulation": -0.4,
}
# Behaviour before the first contact: (kind, mean count for an average person).
ENGAGEMENT_RATES = (
    (ActivityKind.FORM_SUBMITTED, 0.15),
    (ActivityKind.EMAIL_OPENED, 0.3),
    (ActivityKind.EMAIL_CLICKED, 0.1),
    (ActivityKind.PAGE_VISIT, 0.3),
    (ActivityKind.SURVEY_ANSWERED, 0.05),
)
ENGAGEMENT_KEYS = {
    ActivityKind.EMAIL_OPENED: "mailing",
    ActivityKind.EMAIL_CLICKED: "link",
    ActivityKind.PAGE_VISIT: "path",
    ActivityKind.SURVEY_ANSWERED: "survey",
}
ENGAGEMENT_DETAILS = {
    ActivityKind.EMAIL_OPENED: ("Welcome", "Subsidies 2025", "Customer stories"),
    ActivityKind.EMAIL_CLICKED: ("/offerte", "/subsidie", "/klantverhalen"),
    ActivityKind.PAGE_VISIT: ("/prijzen", "/warmtepompen", "/zonnepanelen", "/contact"),
    ActivityKind.SURVEY_ANSWERED: ("Roof and house", "Energy use"),
}
CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})


def _audit_events() -> None:
    """A few audit entries, so the admin's audit log is not empty on the first visit: logins, a
    source change, lead views and an export, the way the app itself records them."""
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in USERS])}
    admin, marketing, rep = users.get("admin"), users.get("marketing"), users.get("rep.noor")
    record_audit(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        target_type=AuditTarget.USER,
        target_id=rep.pk if rep else None,
        target_label=rep.username if rep else "",
        data={"known_user": rep is not None},
    )
    for user in (marketing, rep, admin):
        if user is not None:
            record_audit(
                actor=user,
                action=AuditAction.LOGIN,
                target_type=AuditTarget.USER,
                target_id=user.pk,
                target_label=user.username,
            )
    source = Source.objects.order_by("pk").first()
    if marketing is not None and source is not None:
        services.audit_source(source, by=marketing, change="mapping", sections=["fields"])
    if rep is not None:
        for lead_id in (
            Lead.objects.filter(assigned_to=rep).order_by("-pk").values_list("pk", flat=True)[:3]
        ):
            record_audit(
                actor=rep,
                action=AuditAction.LEAD_VIEWED,
                target_type=AuditTarget.LEAD,
                target_id=lead_id,
            )
    if marketing is not None:
        record_audit_many(
            actor=marketing,
            action=AuditAction.LEAD_EXPORTED,
            target_type=AuditTarget.LEAD,
            count=Lead.objects.filter(status=LeadStatus.WON).count(),
            data={"format": "xlsx", "filters": {"status": ["won"]}},
        )


def _poisson(rng: Any, mean: float) -> int:
    """A Poisson draw for a small mean (Knuth), from the seeded generator."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 14, 12, 14, 15, 14, 12, 9, 7, 7, 6, 4, 3, 2)
GRADE_WEIGHTS: dict[str, tuple[int, int, int, int]] = {
    S.WON: (40, 35, 20, 5),
    S.LOST: (10, 25, 35, 30),
    S.DISQUALIFIED: (2, 8, 30, 60),
    S.QUOTED: (35, 35, 25, 5),
}


# --- Loading -------------------------------------------------------------------------------------


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(size, total - start)


def _privacy_examples(first_id: int, now: dt.datetime) -> None:
    """Two people who objected (an unsubscribe and an objection to processing) and one lost
    lead erased on request, so a newcomer sees what privacy requests leave behind."""
    from leadloop.accounts.actors import SYSTEM
    from leadloop.leads.services import erase_lead_personal_data, record_objection

    ours = Lead.objects.filter(pk__gte=first_id).exclude(email="").order_by("pk")
    nurtured = list(ours.filter(status=LeadStatus.NURTURING)[:2])
    for lead, kind, where in zip(
        nurtured,
        ("marketing", "processing"),
        ("Unsubscribe link in the newsletter", "E-mail to the privacy desk"),
        strict=False,
    ):
        record_objection(lead, by=SYSTEM, source=where, at=now, **{kind: True})
    lost = ours.filter(status=LeadStatus.LOST).first()
    if lost is not None:
        with transaction.atomic():
            erase_lead_personal_data(lost, by=SYSTEM, reason="request", at=now)


def load_demo(
    *,
    leads: int = 20_000,
    seed: int = 1,
    now: dt.datetime | None = None,
    if_empty: bool = False,
    chunk_size: int = CHUNK,
) -> DemoResult:
    """Load the demo data set: users, sources, campaigns, organisations and `leads` leads.

    The same seed on the same day gives the same data (`now` defaults to today 00:00 UTC). Running
    it again on a database with data reuses the users, sources and campaigns and adds more leads;
    with `if_empty` it does nothing when any lead exists.
    """
    began = time.perf_counter()
    users = (*((u[0], str(u[1])) for u in USERS), (PARTNER_USER[0], str(Role.PARTNER)))
    if if_empty and Lead.objects.exists():
        return DemoResult(0, 0, 0, time.perf_counter() - began, True, users)
    if now is None:
        now = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    now = now.astimezone(dt.UTC)
    countries = _countries(seed)
    existing = Lead.objects.count()
    org_count = min(max(leads // 40, 20), 25_000)
    with transaction.atomic():
        ref = _reference(seed, now.date(), org_count, countries)
    logger.info(
        "demo: reference data ready in %.1f s (%d organisations)",
        time.perf_counter() - began,
        len(ref.organizations),
    )
    maker = _LeadMaker(ref, countries, now, leads)
    first_id = (Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    activity_count = 0
    pk, status, source = (maker.leads.attnames.index(n) for n in ("id", "status", "source_id"))
    for start, count in _chunks(leads, chunk_size):
        # A generator per chunk, seeded by the chunk's global position: chunks are independent,
        # and a second run on a non-empty database continues the sequence instead of repeating it.
        rng = random.Random(f"{seed}:{existing + start}")  # noqa: S311
        lead_rows, activity_rows = maker.chunk(rng, first_id + start, start, count)
        with transaction.atomic():
            maker.leads.insert(lead_rows)
            maker.activities.insert(activity_rows)
            services.publish_created(
                [(row[pk], row[status], row[source]) for row in lead_rows], by=SYSTEM, at=now
            )
        activity_count += len(activity_rows)
        elapsed = time.perf_counter() - began
        logger.info(
            "demo: %d/%d leads, %d activities, %.0f leads/s",
            start + count,
            leads,
            activity_count,
            (start + count) / elapsed,
        )
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Lead]):
            cursor.execute(sql)
    _privacy_examples(first_id, now)
    with connection.cursor() as cursor:
        # Fresh statistics, so the planner sees a million rows and not an empty table.
        cursor.execute("ANALYZE leads_lead" if connection.vendor == "postgresql" else "ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE leads_activity")
    _audit_events()
    seconds = time.perf_counter() - began
    logger.info("demo: done, %d leads and %d activities in %.1f s", leads, activity_count, seconds)
    return DemoResult(leads, activity_count, len(ref.organizations), seconds, False, users)
