"""Reference data through the real services: users, teams, a partner, sources, campaigns."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from faker import Faker

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.lead_fields import default_visible_fields
from leadloop.accounts.models import Role, Team, User
from leadloop.demo.dataset.world import (
    CAMPAIGNS,
    COUNTRIES,
    DEMO_PASSWORD,
    INDUSTRIES,
    LEGAL_FORM,
    LOST_REASONS,
    PARTNER_FIELDS,
    PARTNER_NAME,
    PARTNER_USER,
    PRICE_PER_LEAD,
    SOURCES,
    TLD,
    USERS,
)
from leadloop.leads import services
from leadloop.leads.models import (
    ActorKind,
    Campaign,
    ChannelKind,
    CostEntry,
    LostReason,
    Organization,
    Source,
)
from leadloop.leads.normalize import tokens


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
    if partner.visible_fields == default_visible_fields():
        # A list an admin changed after an earlier demo run stays as they left it.
        partner = accounts_services.change_partner(
            partner,
            by=SYSTEM,
            name=partner.name,
            is_active=partner.is_active,
            visible_fields=PARTNER_FIELDS,
        )
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


# The demo's leads are Dutch and priced in euros: its defaults say so whatever the environment
# says, so their phones and postal codes read right. Keys: (user, name, revoked).
DEMO_DEFAULTS = {"country": "NL", "currency": "EUR", "time_zone": "Europe/Amsterdam"}
DEMO_KEYS = (
    ("marketing", "Web shop sync", False),
    ("manager.north", "Dialler export", False),
    ("manager.north", "Old dialler export", True),
)


def _settings(users: dict[str, User]) -> None:
    """The deployment's defaults, and a few API keys for Settings → API keys to show."""
    accounts_services.change_defaults(by=SYSTEM, **DEMO_DEFAULTS)
    for username, name, revoked in DEMO_KEYS:
        user = users[username]
        if user.api_keys.filter(name=name).exists():
            continue
        issued = accounts_services.create_api_key(user, name=name, by=SYSTEM)
        if revoked:
            accounts_services.revoke_api_key(issued.key, by=SYSTEM)


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
        if name in PRICE_PER_LEAD and source.cost_per_lead is None:
            services.set_source_cost(source, cost_per_lead=PRICE_PER_LEAD[name], by=SYSTEM)
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
    _settings(users)
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
