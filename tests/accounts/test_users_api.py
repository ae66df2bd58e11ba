"""/api/v1/users: admins list, add, change, deactivate and reactivate users."""

import pytest

from leadloop.accounts.models import AuditAction, AuditEvent, Role, User

USERS = "/api/v1/users"


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_other_roles_are_refused(request, api_client_for, who):
    client = api_client_for(request.getfixturevalue(who))

    assert client.get(USERS).status_code == 403
    made = client.post(USERS, {"username": "x", "role": "admin"}, content_type="application/json")
    assert made.status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_an_admin_lists_users(api_client_for, admin, rep):
    response = api_client_for(admin).get(USERS)

    assert response.status_code == 200
    assert {u["username"] for u in response.json()} == {"admin", "rep"}


def test_an_admin_adds_a_user_who_sets_a_password_once(api_client_for, client, admin, team):
    response = api_client_for(admin).post(
        USERS,
        {"username": "nina", "role": Role.SALES_REP, "team_id": team.pk, "language": "nl"},
        content_type="application/json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["user"]["team_id"], body["user"]["language"]) == (team.pk, "nl")
    path = body["set_password_path"]
    new = {"password": "long-passphrase-123", "password_again": "long-passphrase-123"}
    assert client.post(path, new).status_code == 302
    assert User.objects.get(username="nina").check_password("long-passphrase-123")
    assert client.get(path).status_code == 404


def test_an_unknown_team_is_a_field_error(api_client_for, admin):
    response = api_client_for(admin).post(
        USERS,
        {"username": "nina", "role": Role.SALES_REP, "team_id": 999999},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert not User.objects.filter(username="nina").exists()


def test_an_admin_changes_and_deactivates_a_user(api_client_for, admin, rep, other_team):
    client = api_client_for(admin)

    changed = client.patch(
        f"{USERS}/{rep.pk}",
        {"role": Role.SALES_MANAGER, "team_id": other_team.pk},
        content_type="application/json",
    )
    deactivated = client.post(f"{USERS}/{rep.pk}/deactivate")

    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["team_id"]) == (
        Role.SALES_MANAGER,
        other_team.pk,
    )
    assert deactivated.json()["is_active"] is False
    assert (
        AuditEvent.objects.filter(action=AuditAction.USER_CHANGED, target_id=str(rep.pk)).count()
        == 2
    )


def test_the_last_admin_cannot_deactivate_themself_over_the_api(api_client_for, admin):
    response = api_client_for(admin).post(f"{USERS}/{admin.pk}/deactivate")

    assert response.status_code == 422
    admin.refresh_from_db()
    assert admin.is_active
