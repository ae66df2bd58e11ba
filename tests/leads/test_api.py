import json

import pytest

from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads import services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.factories.leads import make_campaign, make_lead, make_organization, make_source_with_key


def _json(response):
    return json.loads(response.content)


def test_create_lead_answers_201_with_the_normalised_lead(api_client_for, admin, source):
    client = api_client_for(admin)

    response = client.post(
        "/api/v1/leads",
        {
            "source_id": source.pk,
            "first_name": "Ann",
            "email": "ANN@EXAMPLE.COM",
            "phone": "0612345678",
        },
        content_type="application/json",
    )

    assert response.status_code == 201
    body = _json(response)
    assert body["email"] == "ANN@example.com"
    assert body["phone_e164"] == "+31612345678"
    assert body["source"] == {"id": source.pk, "name": "Website"}
    # Assessed at creation: no grade and no BANT answers, so the readiness rule says nurturing.
    assert body["status"] == "nurturing"
    assert body["allowed_transitions"] == ["sales_ready", "lost", "disqualified"]  # no owner yet


def test_unknown_field_is_a_422_problem_document(api_client_for, admin, source):
    client = api_client_for(admin)

    response = client.post(
        "/api/v1/leads",
        {"source_id": source.pk, "first_name": "Ann", "shoe_size": 42},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = _json(response)
    assert body["status"] == 422
    assert body["errors"] == [
        {"field": "shoe_size", "pointer": "#/shoe_size", "detail": "Unknown field."}
    ]
    assert Lead.objects.count() == 0


def test_invalid_email_and_phone_get_field_errors_and_nothing_is_saved(
    api_client_for, admin, source
):
    client = api_client_for(admin)

    response = client.post(
        "/api/v1/leads",
        {"source_id": source.pk, "email": "not-an-email", "phone": "123"},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert {e["field"] for e in _json(response)["errors"]} == {"email", "phone"}
    assert Lead.objects.count() == 0
    assert Activity.objects.count() == 0


def test_malformed_json_is_a_problem_document(api_client_for, admin):
    response = api_client_for(admin).post(
        "/api/v1/leads", "{not json", content_type="application/json"
    )

    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_no_credentials_is_401_problem(client, db):
    response = client.get("/api/v1/leads")

    assert response.status_code == 401
    assert _json(response)["title"] == "Not authenticated"


def test_bearer_header_works_like_the_api_key_header(admin, client):
    from leadloop.accounts.services import issue_api_key

    key = issue_api_key(admin).raw

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})

    assert _json(response)["role"] == "admin"


def test_source_key_submits_to_its_own_source_only(client, db):
    own, own_key = make_source_with_key("Provider A")
    other, _ = make_source_with_key("Provider B")
    headers = {"X-API-Key": own_key}

    created = client.post(
        "/api/v1/leads",
        {"last_name": "Jansen", "email": "jansen@example.com"},
        content_type="application/json",
        headers=headers,
    )
    refused = client.post(
        "/api/v1/leads",
        {"source_id": other.pk, "last_name": "Smit", "email": "smit@example.com"},
        content_type="application/json",
        headers=headers,
    )
    listed = client.get("/api/v1/leads", headers=headers)

    assert created.status_code == 201
    assert _json(created)["source"]["id"] == own.pk
    assert refused.status_code == 403
    assert Lead.objects.filter(last_name="Smit").count() == 0
    assert _json(listed)["items"] == []


def test_a_source_key_post_goes_through_the_intake_and_keeps_the_raw_body(client, db):
    _, key = make_source_with_key("Provider E")
    body = json.dumps({"first_name": "Ann", "email": "ann@example.com", "phone": "0612345678"})

    first = client.post(
        "/api/v1/leads", body, content_type="application/json", headers={"X-API-Key": key}
    )
    repeat = client.post(
        "/api/v1/leads", body, content_type="application/json", headers={"X-API-Key": key}
    )

    stored, repeated = RawSubmission.objects.order_by("pk")
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert _json(repeat)["id"] == _json(first)["id"] == stored.lead_id == repeated.lead_id
    assert (stored.disposition, repeated.disposition) == ("accepted", "duplicate")
    assert bytes(stored.body) == body.encode()
    assert stored.meta["via"] == "api"
    assert Lead.objects.get().phone_e164 == "+31612345678"


def test_a_source_key_post_without_a_contact_is_refused_and_kept_for_review(client, db):
    _, key = make_source_with_key("Provider F")

    response = client.post(
        "/api/v1/leads",
        {"last_name": "Jansen"},
        content_type="application/json",
        headers={"X-API-Key": key},
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in _json(response)["errors"]] == ["email"]
    assert Lead.objects.count() == 0
    held = RawSubmission.objects.get()
    assert (held.state, held.disposition) == (SubmissionState.QUARANTINED, "review")


def test_revoked_source_key_is_401(client, admin):
    source, key = make_source_with_key("Provider C")
    services.revoke_source_key(source, by=admin)

    response = client.post(
        "/api/v1/leads",
        {"last_name": "Jansen"},
        content_type="application/json",
        headers={"X-API-Key": key},
    )

    assert response.status_code == 401
    assert "revoked" in _json(response)["detail"]
    assert Lead.objects.count() == 0


def test_rotated_source_key_replaces_the_old_one(client, admin):
    source, old_key = make_source_with_key("Provider D")
    new_key = services.rotate_source_key(source, by=admin)

    old = client.get("/api/v1/me", headers={"X-API-Key": old_key})
    new = client.get("/api/v1/me", headers={"X-API-Key": new_key})

    assert old.status_code == 401
    assert _json(new) == {
        "kind": "source",
        "id": source.pk,
        "name": "Provider D",
        "role": None,
        "team_id": None,
        "partner_id": None,
    }


def test_list_filters_searches_sorts_and_pages(api_client_for, admin, source):
    campaign = make_campaign(source, "Spring")
    for name in ["Bakker", "Visser", "Smit", "Bakker-Mol"]:
        make_lead(source, last_name=name, campaign_id=campaign.pk)
    make_lead(source, last_name="Bakkum")
    client = api_client_for(admin)

    first = _json(client.get(f"/api/v1/leads?q=bakk&campaign={campaign.pk}&sort=last_name&limit=1"))
    second = _json(
        client.get(
            f"/api/v1/leads?q=bakk&campaign={campaign.pk}&sort=last_name&limit=1&cursor={first['next_cursor']}"
        )
    )

    assert [i["last_name"] for i in first["items"]] == ["Bakker"]
    assert [i["last_name"] for i in second["items"]] == ["Bakker-Mol"]
    assert second["next_cursor"] is None


def test_list_does_a_fixed_number_of_queries(
    api_client_for, admin, source, rep, django_assert_num_queries
):
    for _ in range(15):
        make_lead(source, assigned_to=rep)
    client = api_client_for(admin)

    # key lookup, last_used stamp, the page's ids, the rows with their relations
    with django_assert_num_queries(4):
        response = client.get("/api/v1/leads?limit=50")

    assert len(_json(response)["items"]) == 15


def test_transition_and_timeline_through_the_api(api_client_for, rep, source):
    lead = make_lead(source, assigned_to=rep)
    client = api_client_for(rep)

    moved = client.post(
        f"/api/v1/leads/{lead.pk}/transition", {"to": "contacted"}, content_type="application/json"
    )
    refused = client.post(
        f"/api/v1/leads/{lead.pk}/transition", {"to": "new"}, content_type="application/json"
    )
    timeline = _json(client.get(f"/api/v1/leads/{lead.pk}/timeline"))

    assert _json(moved)["status"] == "contacted"
    assert refused.status_code == 409
    assert _json(refused)["errors"][0]["field"] == "to"
    assert [e["kind"] for e in timeline] == [
        "status_changed",
        "status_changed",
        "assigned",
        "created",
    ]
    assert timeline[0]["data"] == {"from": "assigned", "to": "contacted"}


def test_lost_through_the_api_needs_a_reason(api_client_for, rep, source):
    lead = make_lead(source, assigned_to=rep)
    client = api_client_for(rep)

    missing = client.post(
        f"/api/v1/leads/{lead.pk}/transition", {"to": "lost"}, content_type="application/json"
    )
    given = client.post(
        f"/api/v1/leads/{lead.pk}/transition",
        {"to": "lost", "lost_reason": "Price"},
        content_type="application/json",
    )

    assert missing.status_code == 422
    assert _json(given)["lost_reason"] == "Price"


def test_patch_records_the_change(api_client_for, marketing, source):
    lead = make_lead(source, city="Delft")

    response = api_client_for(marketing).patch(
        f"/api/v1/leads/{lead.pk}", {"city": "Leiden"}, content_type="application/json"
    )

    assert _json(response)["city"] == "Leiden"
    entry = lead.activities.get(kind=ActivityKind.FIELD_CHANGED)
    assert entry.data == {"changes": [{"field": "city", "old": "Delft", "new": "Leiden"}]}
    assert entry.actor_user == marketing


def test_assign_through_the_api(api_client_for, manager, rep, source):
    lead = make_lead(source, team=manager.team)

    response = api_client_for(manager).post(
        f"/api/v1/leads/{lead.pk}/assign", {"user_id": rep.pk}, content_type="application/json"
    )

    body = _json(response)
    assert body["assigned_to"]["id"] == rep.pk
    assert body["status"] == LeadStatus.ASSIGNED


def test_session_post_without_csrf_token_is_refused(source, admin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    response = client.post(
        "/api/v1/leads", {"source_id": source.pk, "last_name": "X"}, content_type="application/json"
    )

    assert response.status_code in (401, 403)
    assert Lead.objects.count() == 0


def test_organization_tree_through_the_api(api_client_for, admin, source):
    client = api_client_for(admin)
    holding = _json(
        client.post("/api/v1/organizations", {"name": "Holding"}, content_type="application/json")
    )
    branch = _json(
        client.post(
            "/api/v1/organizations",
            {"name": "Branch", "parent_id": holding["id"]},
            content_type="application/json",
        )
    )
    make_lead(source, organization_id=branch["id"])

    tree = _json(client.get(f"/api/v1/organizations/{holding['id']}"))
    cycle = client.post(
        f"/api/v1/organizations/{holding['id']}/move",
        {"parent_id": branch["id"]},
        content_type="application/json",
    )

    assert tree["lead_count"] == 1
    assert [d["name"] for d in tree["descendants"]] == ["Branch"]
    assert cycle.status_code == 422


def test_marketing_creates_sources_and_campaigns_reps_cannot(api_client_for, marketing, rep):
    created = api_client_for(marketing).post(
        "/api/v1/sources",
        {"name": "Partner feed", "kind": "http_post", "default_country": "NL"},
        content_type="application/json",
    )
    body = _json(created)
    campaign = api_client_for(marketing).post(
        "/api/v1/campaigns",
        {
            "source_id": body["source"]["id"],
            "name": "Autumn",
            "starts_on": "2026-09-01",
            "ends_on": "2026-08-01",
        },
        content_type="application/json",
    )
    refused = api_client_for(rep).post(
        "/api/v1/sources", {"name": "Sneaky", "kind": "http_post"}, content_type="application/json"
    )

    assert created.status_code == 201
    assert body["key"].startswith("lls_")
    assert campaign.status_code == 422
    assert _json(campaign)["errors"][0]["field"] == "ends_on"
    assert refused.status_code == 403


def test_openapi_document_is_served(client, db):
    response = client.get("/api/v1/openapi.json")

    paths = _json(response)["paths"]
    assert "/api/v1/leads" in paths
    assert "/api/v1/leads/{lead_id}/transition" in paths


@pytest.mark.parametrize("field", ["first_name", "last_name", "company_name", "city", "job_title"])
def test_html_and_sql_are_stored_as_given(api_client_for, admin, source, field):
    hostile = "<script>alert(1)</script>'; DROP TABLE leads_lead; --"

    response = api_client_for(admin).post(
        "/api/v1/leads", {"source_id": source.pk, field: hostile}, content_type="application/json"
    )

    assert response.status_code == 201
    assert getattr(Lead.objects.get(), field) == hostile


def test_organizations_api_is_closed_to_partners(api_client_for, partner_user):
    org = make_organization("Holding")

    assert api_client_for(partner_user).get(f"/api/v1/organizations/{org.pk}").status_code == 404
    assert _json(api_client_for(partner_user).get("/api/v1/organizations")) == []


def test_a_source_cannot_be_created_with_a_password_in_its_mapping(api_client_for, marketing):
    client = api_client_for(marketing)
    body = {
        "name": "Drop",
        "kind": "ftp",
        "field_mapping": {"fields": {"Password": "extra.pw"}, "ftp": {"password": "s3cret"}},
    }

    response = client.post("/api/v1/sources", body, content_type="application/json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["field_mapping.ftp.password"]
    assert "s3cret" not in response.text
    assert client.get("/api/v1/sources").json() == []


def test_a_password_left_in_an_old_mapping_is_never_returned(api_client_for, rep, source):
    # A row as an older version wrote it (the migration moves these out; this is the last guard).
    type(source).objects.filter(pk=source.pk).update(
        field_mapping={"fields": {"Password": "extra.pw"}, "imap": {"host": "h", "password": "pw1"}}
    )
    client = api_client_for(rep)

    listed = client.get("/api/v1/sources")
    one = client.get(f"/api/v1/sources/{source.pk}")

    assert one.json()["field_mapping"] == {
        "fields": {"Password": "extra.pw"},
        "imap": {"host": "h"},
    }
    assert "pw1" not in listed.text
