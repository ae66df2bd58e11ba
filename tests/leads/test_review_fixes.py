"""Holes a review found: assignment scope, lost attribution, bad input that answered 500."""

import base64
import json

import pytest

from leadloop.errors import ValidationFailed
from leadloop.leads import services
from leadloop.leads.models import Activity, LeadStatus, LostReason
from leadloop.leads.services.leads import _save_checked
from tests.factories.leads import make_campaign, make_lead, make_organization, make_source


def _json(response):
    return json.loads(response.content)


def _post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_rep_cannot_send_a_lead_to_another_teams_pool_or_a_partner(
    api_client_for, rep, other_team, partner_org, source
):
    lead = make_lead(source, assigned_to=rep)
    client = api_client_for(rep)
    before = Activity.objects.count()

    to_other_pool = _post(client, f"/api/v1/leads/{lead.pk}/assign", {"team_id": other_team.pk})
    to_partner = _post(client, f"/api/v1/leads/{lead.pk}/assign", {"partner_id": partner_org.pk})

    assert to_other_pool.status_code == 422
    assert to_partner.status_code == 403
    assert Activity.objects.count() == before
    lead.refresh_from_db()
    assert (lead.assigned_to, lead.owner_partner) == (rep, None)


def test_rep_hands_an_assigned_lead_back_to_the_pool_as_sales_ready(api_client_for, rep, source):
    lead = make_lead(source, assigned_to=rep)

    response = _post(
        api_client_for(rep), f"/api/v1/leads/{lead.pk}/assign", {"team_id": rep.team_id}
    )

    body = _json(response)
    assert response.status_code == 200
    assert body["assigned_to"] is None
    assert body["status"] == LeadStatus.SALES_READY


def test_manager_routes_a_lead_to_a_partner_and_gets_the_result_back(
    api_client_for, manager, partner_org, source
):
    lead = make_lead(source, team=manager.team)

    response = _post(
        api_client_for(manager), f"/api/v1/leads/{lead.pk}/assign", {"partner_id": partner_org.pk}
    )

    assert response.status_code == 200
    assert _json(response)["owner_partner"]["id"] == partner_org.pk


def test_a_team_and_a_partner_at_once_is_refused(api_client_for, admin, team, partner_org, source):
    lead = make_lead(source)

    response = _post(
        api_client_for(admin),
        f"/api/v1/leads/{lead.pk}/assign",
        {"team_id": team.pk, "partner_id": partner_org.pk},
    )

    assert response.status_code == 422


def test_unknown_lost_reason_is_a_field_error_and_creates_no_reason(api_client_for, rep, source):
    lead = make_lead(source, assigned_to=rep)
    reasons = LostReason.objects.count()

    response = _post(
        api_client_for(rep),
        f"/api/v1/leads/{lead.pk}/transition",
        {"to": "lost", "lost_reason": "EVIL"},
    )

    assert response.status_code == 422
    assert _json(response)["errors"][0]["field"] == "lost_reason"
    assert LostReason.objects.count() == reasons


def test_patch_to_a_used_external_reference_is_a_field_error(api_client_for, admin, source):
    make_lead(source, external_ref="ext-1")
    lead = make_lead(source, external_ref="ext-2")

    response = api_client_for(admin).patch(
        f"/api/v1/leads/{lead.pk}", {"external_ref": "ext-1"}, content_type="application/json"
    )

    assert response.status_code == 422
    assert _json(response)["errors"][0]["field"] == "external_ref"


def test_patch_to_another_sources_campaign_is_refused(api_client_for, admin, source):
    foreign = make_campaign(make_source("Elsewhere"), "Foreign")
    lead = make_lead(source)

    response = api_client_for(admin).patch(
        f"/api/v1/leads/{lead.pk}", {"campaign_id": foreign.pk}, content_type="application/json"
    )

    assert response.status_code == 422
    lead.refresh_from_db()
    assert lead.campaign_id is None


def test_a_lost_race_on_the_external_reference_is_a_field_error_not_a_500(source):
    from django.db import connection

    make_lead(source, external_ref="ext-9")
    lead = make_lead(source)
    lead.external_ref = "ext-9"

    with pytest.raises(ValidationFailed):
        _save_checked(lead)

    assert connection.is_usable()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/leads?sort=priority&cursor="
        + base64.urlsafe_b64encode(b"[1e999,1]").decode().rstrip("="),
        "/api/v1/organizations?limit=-5",
        "/api/v1/leads?limit=100000",
    ],
)
def test_hostile_paging_parameters_are_422_problems(api_client_for, admin, url):
    response = api_client_for(admin).get(url)

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_a_body_over_the_limit_is_413(api_client_for, admin, source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"source_id": source.pk, "last_name": "x" * 5000})

    response = api_client_for(admin).post("/api/v1/leads", body, content_type="application/json")

    assert response.status_code == 413
    assert _json(response)["title"] == "Content too large"


def test_partners_are_offered_only_moves_they_can_make(
    api_client_for, partner_user, partner_org, source
):
    lead = make_lead(source, partner=partner_org)

    body = _json(api_client_for(partner_user).get(f"/api/v1/leads/{lead.pk}"))

    assert body["allowed_transitions"] == ["contacted", "lost"]


def test_only_configurators_restructure_organizations(api_client_for, rep, marketing):
    holding = make_organization("Holding")
    branch = make_organization("Branch")

    refused = _post(
        api_client_for(rep), f"/api/v1/organizations/{branch.pk}/move", {"parent_id": holding.pk}
    )
    moved = _post(
        api_client_for(marketing),
        f"/api/v1/organizations/{branch.pk}/move",
        {"parent_id": holding.pk},
    )

    assert refused.status_code == 403
    assert _json(moved)["parent_id"] == holding.pk


def test_partner_editing_a_lead_in_the_ui_keeps_its_campaign(
    logged_in_client, partner_user, partner_org, source
):
    campaign = make_campaign(source, "Spring")
    lead = make_lead(source, partner=partner_org, campaign_id=campaign.pk, job_title="Buyer")
    client = logged_in_client(partner_user)
    form = client.get(f"/leads/{lead.pk}/edit/")

    response = client.post(
        f"/leads/{lead.pk}/edit/",
        {
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "job_title": "Head buyer",
            "currency": "EUR",
        },
    )

    lead.refresh_from_db()
    assert form.status_code == 200
    assert 'name="campaign_id"' not in form.text
    assert response.status_code in (200, 302)
    assert (lead.job_title, lead.campaign_id) == ("Head buyer", campaign.pk)


def test_api_list_of_leads_with_organizations_and_lost_reasons_has_no_n_plus_one(
    api_client_for, admin, source, rep, django_assert_num_queries
):
    for i in range(6):
        lead = make_lead(source, assigned_to=rep, organization_id=make_organization(f"Org {i}").pk)
        services.transition(
            lead, to="lost", by=rep, lost_reason=LostReason.objects.get(name="Price")
        )
    client = api_client_for(admin)

    with django_assert_num_queries(4):
        response = client.get("/api/v1/leads?limit=50")

    assert len(_json(response)["items"]) == 6


def test_rep_is_offered_only_their_own_pool_in_the_ui_and_a_forged_choice_changes_nothing(
    logged_in_client, rep, other_team, partner_org, source
):
    lead = make_lead(source, assigned_to=rep)
    client = logged_in_client(rep)
    before = Activity.objects.count()

    page = client.get(f"/leads/{lead.pk}/")
    forged = client.post(f"/leads/{lead.pk}/assign/", {"assignee": f"team:{other_team.pk}"})

    assert f'value="team:{rep.team_id}"' in page.text
    assert f'value="team:{other_team.pk}"' not in page.text
    assert f'value="partner:{partner_org.pk}"' not in page.text
    assert forged.status_code in (200, 302, 422)
    assert Activity.objects.count() == before
    lead.refresh_from_db()
    assert lead.team_id == rep.team_id
