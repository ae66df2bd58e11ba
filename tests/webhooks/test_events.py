"""Which lead events reach a subscriber: routed, claimed from a pool, rejected by a partner,
assigned, each with what the event says and the lead as it stands. Issue 13, item 6."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution import services as distribution
from leadloop.leads import services as lead_services
from leadloop.webhooks.models import Message
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.factories.accounts import make_partner, make_user

pytestmark = pytest.mark.django_db


def _bodies(event_type: str) -> list[dict]:
    return [json.loads(m.body) for m in Message.objects.filter(type=event_type).order_by("id")]


def test_routing_tells_where_the_lead_went_and_by_which_rule(subscribe, source, team):
    rep = make_user(Role.SALES_REP, team=team, username="noor")
    subscribe("lead.routed", "lead.assigned")
    publish([{"name": "NL", "conditions": "country = NL", "action": team_push(team)}],
            team_push(team, "pool"))  # fmt: skip
    lead = ready_lead(source, country="NL")

    distribution.route_lead(lead.pk)

    (routed,) = _bodies("lead.routed")
    assert routed["data"]["lead_id"] == lead.pk
    assert routed["data"]["event"]["outcome"] == "assigned"
    assert routed["data"]["event"]["rule"] == "NL"
    assert routed["data"]["event"]["version"] == 1
    assert routed["data"]["event"]["user_id"] == rep.pk
    assert routed["data"]["lead"]["assigned_to"] == {"id": rep.pk, "username": "noor"}
    assert routed["data"]["by"] == "routing"
    (assigned,) = _bodies("lead.assigned")
    assert assigned["data"]["event"]["user_id"] == rep.pk


def test_a_claim_from_the_pool_is_told(subscribe, source, team):
    rep = make_user(Role.SALES_REP, team=team, username="daan")
    subscribe("lead.claimed")
    lead = lead_services.assign_lead(ready_lead(source), by=SYSTEM, team=team)
    assert _bodies("lead.claimed") == []

    distribution.claim_next(rep)

    (claimed,) = _bodies("lead.claimed")
    assert claimed["data"]["lead_id"] == lead.pk
    assert claimed["data"]["event"] == {"user_id": rep.pk, "team_id": team.pk}
    assert claimed["data"]["by"] == lead_services.actor_label(rep)


def test_a_partners_rejection_is_told_with_its_reason(subscribe, source, team):
    partner = make_partner("Installers BV")
    user = make_user(Role.PARTNER, partner=partner, username="ruben")
    subscribe("lead.partner_rejected")
    publish([{"name": "BE", "conditions": "country = BE",
              "action": {"kind": "partner", "partner_id": partner.pk}}],
            team_push(team, "pool"))  # fmt: skip
    lead = ready_lead(source, country="BE")
    distribution.route_lead(lead.pk)
    (offer,) = distribution.list_offers_for(user)

    distribution.reject_offer(user, offer.pk, reason="Outside our region <b>")

    (rejected,) = _bodies("lead.partner_rejected")
    assert rejected["data"]["lead_id"] == lead.pk
    assert rejected["data"]["event"]["partner_id"] == partner.pk
    assert rejected["data"]["event"]["reason"] == "Outside our region <b>"
    assert rejected["data"]["lead"]["partner"] is None  # given back to routing


def test_every_event_type_in_the_catalogue_has_a_producer():
    from leadloop.leads.webhook_feed import TYPES
    from leadloop.webhooks.catalog import EVENT_TYPES

    assert set(TYPES.values()) == set(EVENT_TYPES)
