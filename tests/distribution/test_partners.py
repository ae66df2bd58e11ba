"""Channel partners: a lead routed to a partner waits for its answer; accepted it stays,
rejected or unanswered it is routed again past that partner; the scorecard counts it all.
Issue 13, item 5."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import AuditEvent, Role
from leadloop.distribution import selectors, services
from leadloop.distribution.models import OfferState, Outcome, PartnerOffer, RouteDecision
from leadloop.errors import Conflict, NotFound, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.notifications.models import Notification
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.factories.accounts import make_partner, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners(team, reps):
    """Two partners for Belgian leads, in order, and team North's pool after them."""
    first, second = make_partner("Installers BV"), make_partner("Zonwering NV")
    publish(
        [
            {"name": "BE first", "conditions": "country = BE",
             "action": {"kind": "partner", "partner_id": first.pk}},
            {"name": "BE second", "conditions": "country = BE",
             "action": {"kind": "partner", "partner_id": second.pk}},
        ],
        team_push(team, "pool"),
    )  # fmt: skip
    return first, second


def _routed_to_first(source, first):
    lead = ready_lead(source, country="BE", last_name="Peeters")
    decision = services.route_lead(lead.pk)
    assert decision.partner_id == first.pk
    return lead, PartnerOffer.objects.get(lead=lead)


def test_a_lead_routed_to_a_partner_waits_for_its_answer(source, partners):
    first, _second = partners
    user = make_user(Role.PARTNER, partner=first, username="ruben")

    lead, offer = _routed_to_first(source, first)

    assert offer.state == OfferState.OFFERED
    assert offer.respond_by == offer.offered_at + dt.timedelta(hours=48)
    assert [o.pk for o in services.list_offers_for(user)] == [offer.pk]
    assert services.count_open_offers(user) == 1
    assert Notification.objects.get(user=user).title == f"New lead for your organisation: {lead}"


def test_accepting_keeps_the_lead_with_the_partner(source, partners):
    first, _second = partners
    user = make_user(Role.PARTNER, partner=first)
    lead, offer = _routed_to_first(source, first)

    services.accept_offer(user, offer.pk)

    offer.refresh_from_db()
    assert (offer.state, offer.responded_by) == (OfferState.ACCEPTED, user)
    assert Lead.objects.get(pk=lead.pk).owner_partner == first
    with pytest.raises(Conflict, match="already answered"):
        services.reject_offer(user, offer.pk, reason="changed my mind")


def test_a_rejected_lead_is_routed_to_the_next_partner(
    source, partners, django_capture_on_commit_callbacks
):
    first, second = partners
    user = make_user(Role.PARTNER, partner=first)
    lead, offer = _routed_to_first(source, first)

    with pytest.raises(ValidationFailed, match="Say why"):
        services.reject_offer(user, offer.pk, reason="  ")
    services.reject_offer(user, offer.pk, reason="Too far from us")
    lead.refresh_from_db()
    assert (lead.status, lead.owner_partner) == (LeadStatus.SALES_READY, None)

    decision = services.route_lead(lead.pk)

    assert decision.partner_id == second.pk
    assert decision.rule_name == "BE second"
    assert "“BE first” passed over: its partner turned the lead down" in decision.explanation
    timeline = list(lead.activities.order_by("id").values_list("message", flat=True))
    assert "Rejected by Installers BV: Too far from us" in timeline


def test_an_unanswered_offer_expires_and_the_lead_moves_on(source, partners, team):
    first, second = partners
    lead, offer = _routed_to_first(source, first)

    assert services.expire_offers(at=timezone.now() + dt.timedelta(hours=47)) == 0
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49)):
        assert services.expire_offers() == 1
        services.route_lead(lead.pk)
        second_offer = PartnerOffer.objects.get(lead=lead, partner=second)
        PartnerOffer.objects.filter(pk=second_offer.pk).update(
            respond_by=timezone.now() - dt.timedelta(minutes=1)
        )
        assert services.expire_offers() == 1
        last = services.route_lead(lead.pk)

    assert PartnerOffer.objects.get(pk=offer.pk).state == OfferState.EXPIRED
    # Both partners passed: the default rule's pool takes it.
    assert (last.outcome, last.team_id) == (Outcome.POOLED, team.pk)
    assert "did not answer in time" in " ".join(lead.activities.values_list("message", flat=True))


def test_a_partner_cannot_answer_another_partners_offer(source, partners):
    first, second = partners
    outsider = make_user(Role.PARTNER, partner=second)
    _lead, offer = _routed_to_first(source, first)

    with pytest.raises(NotFound):
        services.accept_offer(outsider, offer.pk)
    assert services.list_offers_for(outsider) == []
    assert PartnerOffer.objects.get(pk=offer.pk).state == OfferState.OFFERED


def test_the_scorecard_counts_answers_speed_and_revenue(source, partners, marketing):
    first, _second = partners
    user = make_user(Role.PARTNER, partner=first)
    accepted_lead, accepted = _routed_to_first(source, first)
    services.accept_offer(user, accepted.pk)
    lead_services.transition(accepted_lead, to=LeadStatus.CONTACTED, by=user)
    lead_services.transition(
        Lead.objects.get(pk=accepted_lead.pk), to=LeadStatus.WON, by=user,
        order_value=Decimal("1250.00"),
    )  # fmt: skip
    _rejected_lead, rejected = _routed_to_first(source, first)
    services.reject_offer(user, rejected.pk, reason="No capacity")

    rows = {row.partner.name: row for row in services.scorecard(marketing)}

    row = rows["Installers BV"]
    assert (row.received, row.accepted, row.rejected, row.expired, row.open) == (2, 1, 1, 0, 0)
    assert row.acceptance_rate == 0.5
    assert row.median_response_hours == 0.0
    assert (row.won, row.revenue) == (1, Decimal("1250.00"))
    assert rows["Zonwering NV"].received == 0


def test_the_partner_page_accepts_and_rejects(logged_in_client, source, partners):
    first, _second = partners
    user = make_user(Role.PARTNER, partner=first)
    lead_a, offer_a = _routed_to_first(source, first)
    _lead_b, offer_b = _routed_to_first(source, first)
    client = logged_in_client(user)

    page = client.get(reverse("distribution:offers"))
    accepted = client.post(reverse("distribution:offer-accept", args=[offer_a.pk]))
    rejected = client.post(
        reverse("distribution:offer-reject", args=[offer_b.pk]), {"reason": "<b>far</b>"}
    )
    after = client.get(reverse("distribution:offers"))

    assert page.status_code == 200
    assert accepted["Location"] == reverse("leads:lead-detail", args=[lead_a.pk])
    assert rejected.status_code == 302
    assert "&lt;b&gt;far&lt;/b&gt;" in after.content.decode()
    assert PartnerOffer.objects.get(pk=offer_b.pk).state == OfferState.REJECTED


def test_staff_do_not_see_the_partner_page_and_partners_not_the_scorecard(
    logged_in_client, rep, partner_user
):
    assert logged_in_client(rep).get(reverse("distribution:offers")).status_code == 404
    client = logged_in_client(partner_user)
    assert client.get(reverse("distribution:scorecard")).status_code == 404


def test_the_api_answers_offers(api_client_for, source, partners):
    first, _second = partners
    user = make_user(Role.PARTNER, partner=first)
    _lead, offer = _routed_to_first(source, first)
    client = api_client_for(user)

    listed = client.get("/api/v1/distribution/offers")
    rejected = client.post(
        f"/api/v1/distribution/offers/{offer.pk}/reject",
        {"reason": "Outside our area"},
        content_type="application/json",
    )
    again = client.post(f"/api/v1/distribution/offers/{offer.pk}/accept")

    assert [o["id"] for o in listed.json()] == [offer.pk]
    assert rejected.status_code == 200
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["lead"] == f"#{offer.lead_id}"
    assert again.status_code == 409
    assert RouteDecision.objects.filter(outcome=Outcome.PARTNER).count() == 1


def test_a_partner_that_is_not_shown_names_reads_leads_by_number(
    logged_in_client, api_client_for, source, partners
):
    first, _second = partners
    accounts_services.change_partner(
        first, by=SYSTEM, name=first.name, is_active=True, visible_fields=["city"]
    )
    user = make_user(Role.PARTNER, partner=first)

    lead = ready_lead(source, country="BE", last_name="Peeters", city="Gent")
    services.route_lead(lead.pk)
    page = logged_in_client(user).get(reverse("distribution:offers")).content.decode()
    offers = api_client_for(user).get("/api/v1/distribution/offers").json()

    assert Notification.objects.get(user=user).title == (
        f"New lead for your organisation: #{lead.pk}"
    )
    assert "Peeters" not in page
    assert f"#{lead.pk}" in page
    assert "Gent" in page
    assert offers[0]["lead"] == f"#{lead.pk}"


def test_marketing_sets_a_partners_hours_to_answer_on_the_scorecard(
    logged_in_client, marketing, partner_org
):
    client = logged_in_client(marketing)

    saved = client.post(
        reverse("distribution:partner-hours", args=[partner_org.pk]), {"response_hours": "24"}
    )
    unknown = client.post(
        reverse("distribution:partner-hours", args=[partner_org.pk + 1000]),
        {"response_hours": "24"},
    )

    assert saved.status_code == 302
    assert unknown.status_code == 404
    assert [row.response_hours for row in services.scorecard(marketing)] == [24]


def test_only_who_configures_routing_sets_a_partners_hours(
    logged_in_client, manager, marketing, partner_org
):
    refused = logged_in_client(manager).post(
        reverse("distribution:partner-hours", args=[partner_org.pk]), {"response_hours": "2"}
    )

    assert refused.status_code == 404
    assert list(selectors.list_routing_partners(manager)) == []
    assert selectors.get_routing_partner_for(marketing, partner_org.pk) == partner_org
    with pytest.raises(NotFound):
        selectors.get_routing_partner_for(manager, partner_org.pk)
    assert [row.response_hours for row in services.scorecard(marketing)] == [48]
    assert not AuditEvent.objects.filter(action="setting_changed").exists()
