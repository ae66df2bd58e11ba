"""Writes check what reads check: every related id resolves among what the writer may see, and a
role changes only its own fields. An id the writer cannot see is answered exactly like one that
does not exist, and the answer never names the other record."""

import json

import pytest

from leadloop.leads.models import Activity, ActivityKind, Lead, Organization
from tests.factories.leads import make_campaign, make_lead, make_organization, make_source

SECRET = "Secret Holding BV"
MISSING_ID = 2_000_000_000


def _json(response):
    return json.loads(response.content)


def _same_answer(first, second):
    """Two refusals that must not tell an existing record from a missing one."""
    a, b = _json(first), _json(second)
    a.pop("instance"), b.pop("instance")
    assert first.status_code == second.status_code
    assert a == b


@pytest.fixture
def secret_org(db):
    return make_organization(SECRET)


@pytest.fixture
def secret_campaign(db):
    return make_campaign(make_source("Partner fair"), name="Secret Spring Push")


@pytest.fixture
def partner_lead(source, partner_org):
    return make_lead(source, partner=partner_org, city="Delft")


def _patch(client, lead, body):
    return client.patch(f"/api/v1/leads/{lead.pk}", body, content_type="application/json")


# --- PATCH /api/v1/leads/{id} --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["organization_id", "campaign_id"])
def test_partner_cannot_point_its_lead_at_another_record(
    api_client_for, partner_user, partner_lead, secret_org, secret_campaign, field
):
    client = api_client_for(partner_user)
    foreign = {"organization_id": secret_org.pk, "campaign_id": secret_campaign.pk}[field]
    before = Activity.objects.filter(lead=partner_lead).count()

    existing = _patch(client, partner_lead, {field: foreign})
    missing = _patch(client, partner_lead, {field: MISSING_ID})

    assert existing.status_code == 403
    assert _json(existing)["errors"] == [
        {
            "field": field,
            "pointer": f"#/{field}",
            "detail": "Your role cannot change this field.",
        }
    ]
    _same_answer(existing, missing)
    assert SECRET.encode() not in existing.content
    assert b"Secret Spring Push" not in existing.content
    partner_lead.refresh_from_db()
    assert partner_lead.organization_id is None
    assert partner_lead.campaign_id is None
    assert Activity.objects.filter(lead=partner_lead).count() == before


@pytest.mark.parametrize(
    "body",
    [
        {"fit_grade": "A"},
        {"bant_budget": "met"},
        {"utm_source": "partner"},
        {"external_ref": "X-1"},
        {"consent_purpose": "marketing"},
        {"extra": {"vip": True}},
        {"city": "Leiden", "fit_grade": "A"},
    ],
)
def test_partner_cannot_change_the_companys_fields_of_its_own_lead(
    api_client_for, partner_user, partner_lead, body
):
    before = Activity.objects.filter(lead=partner_lead).count()

    response = _patch(api_client_for(partner_user), partner_lead, body)

    assert response.status_code == 403
    refused = {e["field"] for e in _json(response)["errors"]}
    assert refused == set(body) - {"city"}
    partner_lead.refresh_from_db()
    assert partner_lead.city == "Delft"
    assert partner_lead.fit_grade == ""
    assert partner_lead.extra == {}
    assert Activity.objects.filter(lead=partner_lead).count() == before


def test_partner_keeps_contact_details_and_deal_numbers_up_to_date(
    api_client_for, partner_user, partner_lead
):
    response = _patch(
        api_client_for(partner_user),
        partner_lead,
        {"city": "Leiden", "phone": "06 12345678", "probability": 60},
    )

    assert response.status_code == 200
    partner_lead.refresh_from_db()
    assert (partner_lead.city, partner_lead.phone_e164, partner_lead.probability) == (
        "Leiden",
        "+31612345678",
        60,
    )
    change = partner_lead.activities.get(kind=ActivityKind.FIELD_CHANGED)
    assert change.actor_user == partner_user
    assert {c["field"] for c in change.data["changes"]} == {
        "city",
        "phone_raw",
        "phone_e164",
        "probability",
    }


def test_staff_sending_a_missing_organisation_gets_a_field_error_not_a_404(
    api_client_for, marketing, source
):
    lead = make_lead(source)

    response = _patch(api_client_for(marketing), lead, {"organization_id": MISSING_ID})

    assert response.status_code == 422
    assert _json(response)["errors"] == [
        {
            "field": "organization_id",
            "pointer": "#/organization_id",
            "detail": "Unknown organisation.",
        }
    ]
    assert not lead.activities.filter(kind=ActivityKind.FIELD_CHANGED).exists()


def test_rep_links_its_lead_to_an_organisation_and_a_campaign_of_the_source(
    api_client_for, rep, source, secret_org
):
    lead = make_lead(source, assigned_to=rep)
    campaign = make_campaign(source, name="Spring")

    response = _patch(
        api_client_for(rep), lead, {"organization_id": secret_org.pk, "campaign_id": campaign.pk}
    )

    assert response.status_code == 200
    assert _json(response)["organization"] == {"id": secret_org.pk, "name": SECRET}
    assert _json(response)["campaign"] == {"id": campaign.pk, "name": "Spring"}


# --- Other endpoints that take related ids -------------------------------------------------------


def test_partner_cannot_create_a_lead_in_a_source(api_client_for, partner_user, source):
    client = api_client_for(partner_user)

    existing = client.post(
        "/api/v1/leads", {"source_id": source.pk, "last_name": "X"}, content_type="application/json"
    )
    missing = client.post(
        "/api/v1/leads",
        {"source_id": MISSING_ID, "last_name": "X"},
        content_type="application/json",
    )

    assert existing.status_code == 422
    assert _json(existing)["errors"][0]["field"] == "source_id"
    assert _json(existing)["errors"][0]["detail"] == "Unknown source."
    _same_answer(existing, missing)
    assert b"Website" not in existing.content
    assert Lead.objects.count() == 0


def test_partner_cannot_hang_an_organisation_under_a_foreign_one(
    api_client_for, partner_user, secret_org
):
    client = api_client_for(partner_user)

    existing = client.post(
        "/api/v1/organizations",
        {"name": "Mine", "parent_id": secret_org.pk},
        content_type="application/json",
    )
    missing = client.post(
        "/api/v1/organizations",
        {"name": "Mine", "parent_id": MISSING_ID},
        content_type="application/json",
    )

    assert existing.status_code == 422
    assert _json(existing)["errors"][0]["field"] == "parent_id"
    _same_answer(existing, missing)
    assert SECRET.encode() not in existing.content
    assert list(Organization.objects.values_list("name", flat=True)) == [SECRET]


def test_partner_cannot_run_enrichment_for_another_partners_lead(
    api_client_for, partner_user, other_partner_org, source
):
    theirs = make_lead(source, partner=other_partner_org, last_name="Theirs")
    client = api_client_for(partner_user)
    before = Activity.objects.count()

    existing = client.post(
        "/api/v1/assessment/enrichment/run", {"lead_id": theirs.pk}, content_type="application/json"
    )
    missing = client.post(
        "/api/v1/assessment/enrichment/run",
        {"lead_id": MISSING_ID},
        content_type="application/json",
    )

    assert existing.status_code == 422
    assert _json(existing)["errors"][0] == {
        "field": "lead_id",
        "pointer": "#/lead_id",
        "detail": "Unknown lead.",
    }
    _same_answer(existing, missing)
    assert b"Theirs" not in existing.content
    assert Activity.objects.count() == before


def test_partner_cannot_import_into_a_source_or_campaign(
    api_client_for, partner_user, source, secret_campaign
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api_client_for(partner_user)

    def upload(source_id, campaign_id):
        data = {"source_id": source_id, "campaign_id": campaign_id}
        data["file"] = SimpleUploadedFile("leads.csv", b"email\nann@example.com\n", "text/csv")
        return client.post("/api/v1/intake/imports", data)

    existing = upload(source.pk, secret_campaign.pk)
    missing = upload(MISSING_ID, MISSING_ID)

    assert existing.status_code == 422
    _same_answer(existing, missing)
    assert b"Secret Spring Push" not in existing.content
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("target", ["user_id", "team_id"])
def test_rep_cannot_hand_a_lead_to_another_team_and_learns_nothing_about_it(
    api_client_for, rep, other_rep, other_team, source, target
):
    lead = make_lead(source, assigned_to=rep)
    client = api_client_for(rep)
    foreign = {"user_id": other_rep.pk, "team_id": other_team.pk}[target]
    before = Activity.objects.filter(lead=lead).count()

    existing = client.post(
        f"/api/v1/leads/{lead.pk}/assign", {target: foreign}, content_type="application/json"
    )
    missing = client.post(
        f"/api/v1/leads/{lead.pk}/assign", {target: MISSING_ID}, content_type="application/json"
    )

    assert existing.status_code == 422
    assert _json(existing)["errors"][0]["field"] == target
    _same_answer(existing, missing)
    assert other_rep.display_name.encode() not in existing.content
    assert b"South" not in existing.content
    lead.refresh_from_db()
    assert lead.assigned_to == rep
    assert Activity.objects.filter(lead=lead).count() == before


def test_source_key_cannot_put_its_lead_in_another_sources_campaign(secret_campaign, db):
    from django.test import Client

    from tests.factories.leads import make_source_with_key

    source, key = make_source_with_key("Reseller feed")
    source.field_mapping = {"fields": {"campaign_id": "campaign_id"}}
    source.save(update_fields=["field_mapping"])
    client = Client(headers={"X-API-Key": key})

    response = client.post(
        "/api/v1/leads",
        {"email": "ann@example.com", "campaign_id": secret_campaign.pk},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert _json(response)["campaign"] is None
    assert b"Secret Spring Push" not in response.content
    assert not Lead.objects.filter(campaign=secret_campaign).exists()


# --- The HTMX pages ------------------------------------------------------------------------------


def test_partner_form_posting_hidden_values_for_foreign_records_changes_only_allowed_fields(
    logged_in_client, partner_user, partner_lead, secret_org, secret_campaign
):
    client = logged_in_client(partner_user)

    response = client.post(
        f"/leads/{partner_lead.pk}/edit/",
        {
            "city": "Leiden",
            "last_name": partner_lead.last_name,
            "first_name": partner_lead.first_name,
            "organization_id": secret_org.pk,
            "campaign_id": secret_campaign.pk,
            "fit_grade": "A",
            "utm_source": "forged",
            "extra_key": "vip",
            "extra_value": "true",
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 302
    partner_lead.refresh_from_db()
    assert partner_lead.city == "Leiden"
    assert (partner_lead.organization_id, partner_lead.campaign_id) == (None, None)
    assert (partner_lead.fit_grade, partner_lead.utm_source, partner_lead.extra) == ("", "", {})
    change = partner_lead.activities.get(kind=ActivityKind.FIELD_CHANGED)
    assert [c["field"] for c in change.data["changes"]] == ["city"]


def test_partner_edit_form_shows_only_the_fields_it_may_change(
    logged_in_client, partner_user, partner_lead
):
    response = logged_in_client(partner_user).get(f"/leads/{partner_lead.pk}/edit/")

    form = response.context["form"]
    assert "city" in form.fields
    for name in ("organization_id", "campaign_id", "fit_grade", "utm_source", "extra"):
        assert name not in form.fields


def test_partner_bulk_actions_touch_no_lead_of_another_partner(
    logged_in_client, partner_user, other_partner_org, team, source
):
    theirs = make_lead(source, partner=other_partner_org)
    client = logged_in_client(partner_user)
    before = Activity.objects.count()

    client.post(
        "/leads/bulk/",
        {"ids": [theirs.pk], "action": "status", "bulk-to": "contacted"},
        headers={"HX-Request": "true"},
    )
    client.post(
        "/leads/bulk/",
        {"ids": [theirs.pk], "action": "assign", "bulk-assignee": f"team:{team.pk}"},
        headers={"HX-Request": "true"},
    )

    theirs.refresh_from_db()
    assert theirs.status == "assigned"
    assert theirs.owner_partner == other_partner_org
    assert Activity.objects.count() == before


def test_partner_bulk_assign_of_its_own_lead_is_refused(
    logged_in_client, partner_user, partner_lead, team
):
    before = Activity.objects.count()

    logged_in_client(partner_user).post(
        "/leads/bulk/",
        {"ids": [partner_lead.pk], "action": "assign", "bulk-assignee": f"team:{team.pk}"},
    )

    partner_lead.refresh_from_db()
    assert partner_lead.team_id is None
    assert Activity.objects.count() == before


def test_rep_bulk_assign_to_another_team_is_refused(logged_in_client, rep, other_team, source):
    lead = make_lead(source, assigned_to=rep)
    before = Activity.objects.count()

    logged_in_client(rep).post(
        "/leads/bulk/",
        {"ids": [lead.pk], "action": "assign", "bulk-assignee": f"team:{other_team.pk}"},
    )

    lead.refresh_from_db()
    assert lead.team_id == rep.team_id
    assert Activity.objects.count() == before
