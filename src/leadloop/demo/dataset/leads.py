"""Leads and their timelines, a chunk of rows at a time, as the services would write them."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from decimal import Decimal
from typing import Any

from leadloop.accounts.actors import SYSTEM
from leadloop.demo.dataset.reference import _Actor, _Country, _phone, _Reference
from leadloop.demo.dataset.sales import SalesMaker
from leadloop.demo.dataset.world import (
    CALLS,
    CENT,
    CLOSED,
    COUNTRIES,
    COUNTRY_ODDS,
    DEAL_SIZE,
    ENGAGEMENT_DETAILS,
    ENGAGEMENT_KEYS,
    ENGAGEMENT_RATES,
    GRADE_WEIGHTS,
    HOUR_WEIGHTS,
    JOBS,
    NOTES,
    OWNED,
    PATHS,
    PROBABILITY,
    PRODUCT_ODDS,
    PRODUCTS,
    SENIORITY,
    SIZE_ODDS,
    SOURCE_ODDS,
    STATUS_WEIGHTS,
    STEP_HOURS,
    UTM,
    WIN_BASE,
    S,
    _poisson,
)
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    ActorKind,
    ChannelKind,
    Lead,
    Organization,
    Source,
)
from leadloop.leads.normalize import tokens
from leadloop.leads.services.bulk import RawTable
from leadloop.leads.services.changes import derived_values

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
        self,
        rng: Any,
        first_id: int,
        local_start: int,
        count: int,
        sales: tuple[SalesMaker, Any] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The rows of `count` leads and their timelines; with `sales` (a maker and its own
        generator, so the leads stay what the seed gave before sales existed) their sales rows."""
        lead_rows, activity_rows = [], []
        for offset in range(count):
            values, events = self._lead(rng, first_id + offset, local_start + offset)
            if sales is not None:
                sales[0].add(sales[1], values, events)
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
        if source.name in DEAL_SIZE:
            for name in ("potential_revenue", "order_value"):
                if values.get(name) is not None:
                    values[name] = (values[name] * DEAL_SIZE[source.name]).quantize(CENT)
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
            if step == S.CONTACTED:
                # Most leads are called within a working day, some much later; the leads that
                # end won were mostly called fast (speed to lead pays: the follow-up impact).
                # A draw of its own (seeded by the lead), so the rest of the data set is drawn
                # as before this was added.
                speed = random.Random(values["id"])  # noqa: S311 - demo data, not security
                fast = 0.92 if status == S.WON else 0.78
                low, high = (0.5, 20) if speed.random() < fast else (20, 96)
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
