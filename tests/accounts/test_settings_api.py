"""/api/v1/teams, /partners, /lost-reasons and /defaults: admins list, add and change; every
other role gets 403 and nothing changes."""

import pytest

from leadloop.accounts.lead_fields import DEFAULT_VISIBLE
from leadloop.accounts.models import AuditAction, AuditEvent, PartnerOrganization, Team
from leadloop.leads.models import LostReason

JSON = "application/json"


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/teams", {"name": "Sneaky"}),
        ("/api/v1/partners", {"name": "Sneaky"}),
        ("/api/v1/lost-reasons", {"name": "Sneaky"}),
    ],
)
def test_other_roles_are_refused(request, api_client_for, who, path, body):
    client = api_client_for(request.getfixturevalue(who))

    listed = client.get(path)
    made = client.post(path, body, content_type=JSON)

    assert (listed.status_code, made.status_code) == (403, 403)
    assert made.headers["Content-Type"] == "application/problem+json"
    assert not Team.objects.filter(name="Sneaky").exists()
    assert not PartnerOrganization.objects.filter(name="Sneaky").exists()
    assert not LostReason.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_other_roles_cannot_read_or_change_the_defaults(request, api_client_for, who):
    client = api_client_for(request.getfixturevalue(who))

    assert client.get("/api/v1/defaults").status_code == 403
    assert client.patch("/api/v1/defaults", {"country": "BE"}, content_type=JSON).status_code == 403
    assert not AuditEvent.objects.filter(target_type="defaults").exists()


def test_an_admin_adds_a_team_and_sets_its_manager_and_members(
    api_client_for, admin, manager, rep, teammate
):
    client = api_client_for(admin)

    made = client.post("/api/v1/teams", {"name": "South"}, content_type=JSON)
    team_id = made.json()["id"]
    changed = client.patch(
        f"/api/v1/teams/{team_id}",
        {"manager_id": manager.pk, "member_ids": [rep.pk, teammate.pk]},
        content_type=JSON,
    )

    assert made.status_code == 201
    assert changed.status_code == 200
    assert changed.json() == {
        "id": team_id,
        "name": "South",
        "manager_id": manager.pk,
        "member_ids": sorted([rep.pk, teammate.pk]),
    }
    assert any(t["name"] == "South" for t in client.get("/api/v1/teams").json())


def test_a_team_member_who_is_a_partner_user_is_a_field_error(api_client_for, admin, partner_user):
    client = api_client_for(admin)
    team_id = client.post("/api/v1/teams", {"name": "South"}, content_type=JSON).json()["id"]

    response = client.patch(
        f"/api/v1/teams/{team_id}", {"member_ids": [partner_user.pk]}, content_type=JSON
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["member_ids"]
    assert not Team.objects.get(pk=team_id).members.exists()


def test_an_admin_adds_and_deactivates_a_partner(api_client_for, admin):
    client = api_client_for(admin)

    made = client.post("/api/v1/partners", {"name": "Acme Leads"}, content_type=JSON)
    partner_id = made.json()["id"]
    changed = client.patch(
        f"/api/v1/partners/{partner_id}", {"is_active": False}, content_type=JSON
    )

    assert made.status_code == 201
    assert changed.json() == {
        "id": partner_id,
        "name": "Acme Leads",
        "is_active": False,
        "visible_fields": list(DEFAULT_VISIBLE),
    }
    assert AuditEvent.objects.filter(target_type="partner", target_id=str(partner_id)).count() == 2


def test_a_duplicate_partner_name_is_a_problem_document(api_client_for, admin, partner_org):
    response = api_client_for(admin).post(
        "/api/v1/partners", {"name": partner_org.name}, content_type=JSON
    )

    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert PartnerOrganization.objects.filter(name=partner_org.name).count() == 1


def test_an_admin_adds_renames_and_retires_a_lost_reason(api_client_for, admin):
    client = api_client_for(admin)

    made = client.post("/api/v1/lost-reasons", {"name": "Too dear"}, content_type=JSON)
    reason_id = made.json()["id"]
    changed = client.patch(
        f"/api/v1/lost-reasons/{reason_id}",
        {"name": "Too expensive", "is_active": False},
        content_type=JSON,
    )

    assert made.status_code == 201
    assert changed.json() == {
        "id": reason_id,
        "name": "Too expensive",
        "is_active": False,
        "lead_count": 0,
    }
    events = AuditEvent.objects.filter(target_type="lost_reason", target_id=str(reason_id))
    assert events.count() == 3
    listed = {r["name"]: r["is_active"] for r in client.get("/api/v1/lost-reasons").json()}
    assert listed["Too expensive"] is False


def test_an_admin_reads_and_changes_the_defaults(api_client_for, admin):
    client = api_client_for(admin)

    changed = client.patch(
        "/api/v1/defaults", {"country": "be", "time_zone": "Europe/Brussels"}, content_type=JSON
    )
    refused = client.patch("/api/v1/defaults", {"currency": "XYZ"}, content_type=JSON)

    assert changed.status_code == 200
    assert changed.json()["country"] == "BE"
    assert client.get("/api/v1/defaults").json() == changed.json()
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["currency"]
    event = AuditEvent.objects.get(target_type="defaults")
    assert event.action == AuditAction.SETTING_CHANGED
    assert event.data["country"]["after"] == "BE"
