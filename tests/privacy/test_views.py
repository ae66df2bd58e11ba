"""The privacy pages and the privacy panel on the lead page."""

from __future__ import annotations

import json

from leadloop.accounts.models import AuditAction, AuditEvent
from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.privacy.conftest import PERSON


def test_lead_page_shows_the_privacy_panel_with_buttons_for_admins(person, admin, logged_in_client):
    page = logged_in_client(admin).get(f"/leads/{person.lead.pk}/")

    html = page.content.decode()
    assert 'id="privacy-panel"' in html
    assert f"/privacy/export/?lead_id={person.lead.pk}" in html
    assert f"/privacy/?lead_id={person.lead.pk}" in html


def test_rep_sees_the_objection_form_but_no_export(web, rep, logged_in_client):
    from tests.factories.leads import make_lead

    lead = make_lead(web, email="r@example.org", assigned_to=rep)

    html = logged_in_client(rep).get(f"/leads/{lead.pk}/").content.decode()

    assert f"/privacy/leads/{lead.pk}/objection/" in html
    assert "/privacy/export/" not in html


def test_objection_from_the_lead_page(person, admin, logged_in_client):
    response = logged_in_client(admin).post(
        f"/privacy/leads/{person.lead.pk}/objection/",
        {"objection": "marketing", "source": "e-mail of 3 March"},
    )

    assert response.status_code == 302
    lead = Lead.objects.get(pk=person.lead.pk)
    assert (lead.marketing_opt_out_at is not None, lead.objection_source) == (
        True,
        "e-mail of 3 March",
    )


def test_requests_page_finds_the_person_and_downloads_their_data(
    person, marketing, logged_in_client
):
    client = logged_in_client(marketing)

    page = client.get("/privacy/", {"email": PERSON["email"]})
    download = client.get("/privacy/export/", {"email": PERSON["email"]})

    assert page.status_code == 200
    assert f"#{person.second.pk}" in page.content.decode()
    assert "Erase for good" not in page.content.decode()  # marketing does not erase
    assert download["Content-Disposition"] == 'attachment; filename="personal-data.json"'
    assert len(json.loads(download.content)["leads"]) == 2


def test_an_export_for_a_phone_that_names_nobody_is_a_404(person, marketing, logged_in_client):
    client = logged_in_client(marketing)

    download = client.get("/privacy/export/", {"phone": "not a phone"})

    assert download.status_code == 404
    assert "Content-Disposition" not in download
    assert not AuditEvent.objects.filter(action=AuditAction.PRIVACY_EXPORT).exists()


def test_admin_erases_from_the_requests_page_after_typing_the_address(
    person, admin, logged_in_client
):
    client = logged_in_client(admin)

    wrong = client.post("/privacy/erase/", {"email": PERSON["email"], "confirm": "yes"})
    right = client.post("/privacy/erase/", {"email": PERSON["email"], "confirm": PERSON["email"]})

    assert wrong.status_code == 422
    assert right.status_code == 302
    assert Activity.objects.filter(kind=ActivityKind.ERASED).count() == 2


def test_rep_cannot_open_the_privacy_pages(person, rep, logged_in_client):
    client = logged_in_client(rep)

    assert client.get("/privacy/", {"email": PERSON["email"]}).status_code == 404
    assert client.get("/privacy/export/", {"email": PERSON["email"]}).status_code == 404
    assert (
        client.post("/privacy/erase/", {"email": PERSON["email"], "confirm": "ERASE"}).status_code
        == 404
    )
    assert Lead.objects.get(pk=person.lead.pk).erased_at is None


def test_erased_lead_page_says_so(person, admin, logged_in_client):
    client = logged_in_client(admin)
    client.post("/privacy/erase/", {"lead_id": person.lead.pk, "confirm": "ERASE"})

    html = client.get(f"/leads/{person.lead.pk}/").content.decode()

    assert "Personal data erased on" in html
    assert "Quixwell" not in html


def test_retention_page_lists_rules_and_admin_saves_one(db, admin, logged_in_client):
    client = logged_in_client(admin)

    saved = client.post(
        "/privacy/retention/",
        {"target": "submission", "state": "rejected", "keep_days": "45", "is_active": "on"},
    )
    page = client.get("/privacy/retention/")
    dry = client.post("/privacy/retention/", {"dry_run": "1"})

    assert saved.status_code == 302
    assert "45" in page.content.decode()
    assert dry.status_code == 200
