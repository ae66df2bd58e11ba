"""/api/v1/privacy: export, erasure, objection and retention rules over HTTP."""

from __future__ import annotations

import json

from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.privacy.conftest import PERSON


def test_admin_exports_a_person_as_json(person, admin, api_client_for):
    response = api_client_for(admin).get("/api/v1/privacy/export", {"email": PERSON["email"]})

    assert response.status_code == 200
    doc = response.json()
    assert [lead["id"] for lead in doc["leads"]] == [person.lead.pk, person.second.pk]
    assert doc["deliveries"] == []


def test_rep_may_not_export(person, rep, api_client_for):
    response = api_client_for(rep).get("/api/v1/privacy/export", {"email": PERSON["email"]})

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_export_needs_exactly_one_way_to_find_the_person(person, admin, api_client_for):
    response = api_client_for(admin).get(
        "/api/v1/privacy/export", {"email": PERSON["email"], "lead_id": person.lead.pk}
    )

    assert response.status_code == 422


def test_erasure_over_the_api_needs_the_confirm_field(person, admin, api_client_for):
    client = api_client_for(admin)

    refused = client.post(
        "/api/v1/privacy/erasures",
        json.dumps({"email": PERSON["email"]}),
        content_type="application/json",
    )
    done = client.post(
        "/api/v1/privacy/erasures",
        json.dumps({"email": PERSON["email"], "confirm": PERSON["email"]}),
        content_type="application/json",
    )

    assert refused.status_code == 422
    assert done.status_code == 200
    assert done.json()["counts"]["leads"] == 2
    assert Lead.objects.get(pk=person.lead.pk).email == ""


def test_marketing_may_not_erase_over_the_api(person, marketing, api_client_for):
    response = api_client_for(marketing).post(
        "/api/v1/privacy/erasures",
        json.dumps({"email": PERSON["email"], "confirm": "ERASE"}),
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not Activity.objects.filter(kind=ActivityKind.ERASED).exists()


def test_objection_over_the_api_shows_on_the_lead(person, rep, admin, api_client_for):
    response = api_client_for(admin).post(
        f"/api/v1/privacy/leads/{person.lead.pk}/objection",
        json.dumps({"marketing": True, "source": "unsubscribe link"}),
        content_type="application/json",
    )
    lead = api_client_for(admin).get(f"/api/v1/leads/{person.lead.pk}").json()

    assert response.status_code == 200
    assert response.json()["can_receive_marketing"] is False
    assert lead["objection_source"] == "unsubscribe link"
    assert lead["can_receive_marketing"] is False
    assert lead["marketing_opt_out_at"] is not None


def test_retention_rules_are_read_and_set_over_the_api(db, admin, api_client_for):
    client = api_client_for(admin)

    changed = client.put(
        "/api/v1/privacy/retention-rules",
        json.dumps({"target": "lead", "state": "lost", "keep_days": 400}),
        content_type="application/json",
    )
    rules = client.get("/api/v1/privacy/retention-rules").json()
    dry = client.post(
        "/api/v1/privacy/retention/apply", json.dumps({}), content_type="application/json"
    )

    assert changed.status_code == 200
    assert {(r["target"], r["state"]): r["keep_days"] for r in rules}[("lead", "lost")] == 400
    assert dry.json()["dry_run"] is True
