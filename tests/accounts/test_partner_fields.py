"""Admins set which lead fields a partner organisation's users see: on its settings page, through
the API and with `leadloop partners fields`. Unknown keys are refused; every change is audited.
Issue 13, item 5."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leadloop.accounts.lead_fields import DEFAULT_VISIBLE, KEYS
from leadloop.accounts.models import AuditAction, AuditEvent, PartnerOrganization
from tests.factories.accounts import make_partner

pytestmark = pytest.mark.django_db

JSON = "application/json"


def _audits(partner):
    return AuditEvent.objects.filter(
        action=AuditAction.SETTING_CHANGED, target_type="partner", target_id=str(partner.pk)
    )


def test_a_new_partner_gets_the_default_list(db):
    partner = make_partner("Fresh BV")

    assert partner.visible_fields == list(DEFAULT_VISIBLE)
    assert "phone" in partner.visible_fields
    for never in ("source", "scores", "findings", "fraud", "device", "original", "staff_notes"):
        assert never not in partner.visible_fields


# --- Settings page -------------------------------------------------------------------------------


def test_an_admin_sets_the_fields_on_the_partner_page(logged_in_client, admin, partner_org):
    url = reverse("accounts:partner-edit", args=[partner_org.pk])
    client = logged_in_client(admin)

    page = client.get(url)
    response = client.post(
        url, {"name": partner_org.name, "is_active": "on", "lead_fields": ["phone", "name"]}
    )

    assert page.status_code == 200
    assert 'value="scores"' in page.content.decode()
    assert response.status_code == 302
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == ["name", "phone"]
    event = _audits(partner_org).get()
    assert event.data["visible_fields"] == ["name", "phone"]
    assert "email" in event.data["hidden"]
    assert event.data["shown"] == []


def test_the_partner_page_refuses_an_unknown_key(logged_in_client, admin, partner_org):
    url = reverse("accounts:partner-edit", args=[partner_org.pk])

    response = logged_in_client(admin).post(
        url, {"name": partner_org.name, "is_active": "on", "lead_fields": ["name", "salary"]}
    )

    assert response.status_code == 422
    assert "salary" in response.content.decode()
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == list(
        DEFAULT_VISIBLE
    )
    assert not _audits(partner_org).exists()


def test_marketing_cannot_open_the_partner_page(logged_in_client, marketing, partner_org):
    response = logged_in_client(marketing).get(
        reverse("accounts:partner-edit", args=[partner_org.pk])
    )

    assert response.status_code in (403, 404)


# --- API -----------------------------------------------------------------------------------------


def test_an_admin_sets_the_fields_through_the_api(api_client_for, admin, partner_org):
    response = api_client_for(admin).patch(
        f"/api/v1/partners/{partner_org.pk}",
        {"visible_fields": ["email", "name", "email"]},
        content_type=JSON,
    )

    assert response.status_code == 200
    assert response.json()["visible_fields"] == ["name", "email"]
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == ["name", "email"]
    assert _audits(partner_org).count() == 1


def test_the_api_refuses_an_unknown_key_with_a_problem_document(api_client_for, admin, partner_org):
    response = api_client_for(admin).patch(
        f"/api/v1/partners/{partner_org.pk}",
        {"visible_fields": ["name", "salary"]},
        content_type=JSON,
    )

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "salary" in response.json()["detail"]
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == list(
        DEFAULT_VISIBLE
    )
    assert not _audits(partner_org).exists()


def test_a_partner_made_through_the_api_takes_its_list(api_client_for, admin):
    response = api_client_for(admin).post(
        "/api/v1/partners", {"name": "Lean BV", "visible_fields": ["name"]}, content_type=JSON
    )

    assert response.status_code == 201
    assert PartnerOrganization.objects.get(name="Lean BV").visible_fields == ["name"]


def test_the_api_lists_the_choosable_fields(api_client_for, admin):
    rows = api_client_for(admin).get("/api/v1/partners/fields").json()

    assert [row["key"] for row in rows] == list(KEYS)
    phone = next(row for row in rows if row["key"] == "phone")
    assert phone == {
        "key": "phone",
        "label": "Phone",
        "group": "contact",
        "group_label": "Contact",
        "is_default": True,
    }


def test_a_partner_user_cannot_change_its_own_list(api_client_for, partner_user, partner_org):
    response = api_client_for(partner_user).patch(
        f"/api/v1/partners/{partner_org.pk}", {"visible_fields": list(KEYS)}, content_type=JSON
    )

    assert response.status_code == 403
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == list(
        DEFAULT_VISIBLE
    )


# --- CLI -----------------------------------------------------------------------------------------


def test_the_cli_sets_and_shows_the_fields(partner_org, capsys):
    call_command("partners", "fields", partner_org.name, "--set", "name, city", "--json")

    shown = json.loads(capsys.readouterr().out)
    assert shown["visible_fields"] == ["name", "city"]
    assert PartnerOrganization.objects.get(pk=partner_org.pk).visible_fields == ["name", "city"]
    assert _audits(partner_org).get().actor_label != ""


def test_the_cli_refuses_an_unknown_key(partner_org):
    with pytest.raises(CommandError, match="Unknown field keys: salary"):
        call_command("partners", "fields", partner_org.name, "--set", "name,salary")

    assert not _audits(partner_org).exists()


def test_the_cli_names_an_unknown_partner(db):
    with pytest.raises(CommandError, match="No partner organisation called"):
        call_command("partners", "fields", "Nobody BV")
