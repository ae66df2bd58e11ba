"""The demo's routing: teams with strategies, capacity and an absence, two published versions of
routing rules, and leads routed, pooled and taken from a pool through the real services, so the
routing page, the pools and the leads' timelines show it working on the first login."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.distribution import selectors, services
from leadloop.distribution.models import OfferState, PartnerOffer, RuleSet, Strategy
from leadloop.errors import LeadloopError
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead

ROUTED = 30
POOLED_BY_HAND = 3


def _team(name: str) -> dict[str, object]:
    return {"kind": "team", "team": name}


def _rules(north: Team, south: Team, partner: PartnerOrganization) -> list[dict[str, object]]:
    return [
        {
            "name": "Slecht passend: eerst nurturen",
            "conditions": "grade = D",
            "action": {"kind": "nurture"},
        },
        {
            "name": "België: installatiepartner",
            "conditions": "country = BE",
            "action": {"kind": "partner", "partner": partner.name},
        },
        {
            "name": "Limburg: installatiepartner",
            "conditions": "country = NL\npostal_code between 6000 and 6599",
            "action": {"kind": "partner", "partner": partner.name},
        },
        {
            "name": "NL noord (1000–4999)",
            "conditions": "country = NL\npostal_code between 1000 and 4999",
            "action": {**_team(north.name), "mode": "push"},
        },
        {
            "name": "NL zuid (5000–9999)",
            "conditions": "country = NL\npostal_code between 5000 and 9999",
            "action": {**_team(south.name), "mode": "push"},
        },
        {
            "name": "Zonder postcode: pool Noord",
            "conditions": "country = NL\npostal_code is empty",
            "action": {**_team(north.name), "mode": "pool"},
        },
        {
            "name": "English-speaking",
            "conditions": "language = en",
            "action": {**_team(north.name), "mode": "push"},
        },
    ]


def routing_examples(*, seed: int, now: dt.datetime) -> None:
    """Set up routing once (a second demo run keeps what is there) and route a few leads."""
    if RuleSet.objects.exists():
        return
    north = Team.objects.filter(name="Sales North").first()
    south = Team.objects.filter(name="Sales South").first()
    partner = PartnerOrganization.objects.filter(is_active=True).order_by("pk").first()
    if north is None or south is None or partner is None:
        return
    users = {u.username: u for u in User.objects.filter(team__in=[north, south])}
    services.set_team_routing(north, by=SYSTEM, strategy=Strategy.ROUND_ROBIN, pool_alert_hours=4)
    services.set_team_routing(south, by=SYSTEM, strategy=Strategy.LOAD_BALANCED)
    # Managers lead; they take no pushed leads.
    for manager in (north.manager, south.manager):
        if manager is not None:
            services.set_capacity(manager, by=SYSTEM, accepts_leads=False)
    services.set_capacity(users["rep.noor"], by=SYSTEM, languages="nl, en", max_open=400)
    services.set_capacity(users["rep.liam"], by=SYSTEM, languages="en", weight=2)
    services.set_capacity(users["rep.lucas"], by=SYSTEM, daily_quota=5, claim_limit=10)
    today = now.date()
    services.add_absence(
        users["rep.daan"],
        by=SYSTEM,
        starts_on=today - dt.timedelta(days=2),
        ends_on=today + dt.timedelta(days=5),
        reason="Vakantie",
    )
    services.publish(
        by=SYSTEM,
        note="Eerste versie: alles naar de pool van Sales South",
        document={"rules": [], "default": {**_team(south.name), "mode": "pool"}},
    )
    services.publish(
        by=SYSTEM,
        note="Regio's, België naar de partner, D-leads nurturen",
        document={
            "rules": _rules(north, south, partner),
            "default": {**_team(south.name), "mode": "pool"},
        },
    )
    rng = random.Random(f"{seed}:routing")  # noqa: S311 - ties between reps, not security
    waiting = list(
        Lead.objects.filter(selectors.routable()).order_by("-created_at", "-id")[:ROUTED]
    )
    # The manager of Sales South put the oldest few in the pool by hand, before routing existed.
    for lead in waiting[-POOLED_BY_HAND:]:
        lead_services.assign_lead(
            lead,
            by=south.manager or SYSTEM,
            team=south,
            reason="Terug in de pool: klant is tot januari op vakantie",
        )
    for lead in waiting[:-POOLED_BY_HAND]:
        try:
            services.route_lead(lead.pk, rng=rng)
        except LeadloopError:
            continue
    with contextlib.suppress(LeadloopError):  # an empty pool: nothing to take
        services.claim_next(users["rep.julia"], team=south)
    _partner_answers(partner)


def _partner_answers(partner: PartnerOrganization) -> None:
    """The partner accepts its first offer and turns the second down; that lead routes on."""
    user = User.objects.filter(partner=partner, is_active=True).order_by("pk").first()
    if user is None:
        return
    offers = list(
        PartnerOffer.objects.filter(partner=partner, state=OfferState.OFFERED).order_by("pk")[:2]
    )
    if offers:
        services.accept_offer(user, offers[0].pk)
    if len(offers) > 1:
        services.reject_offer(user, offers[1].pk, reason="Buiten ons werkgebied")
        services.route_lead(offers[1].lead_id)
