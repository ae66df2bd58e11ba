"""The settings pages: admins manage users; every other role is refused."""

import re

import pytest
from django.urls import reverse

from leadloop.accounts.models import AuditAction, AuditEvent, Role, User

SETTINGS = reverse("accounts:settings")
USERS = reverse("accounts:users")


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
@pytest.mark.parametrize("url", [SETTINGS, USERS])
def test_other_roles_cannot_reach_the_settings(request, logged_in_client, who, url):
    user = request.getfixturevalue(who)

    response = logged_in_client(user).get(url)

    assert response.status_code == 403


def test_other_roles_cannot_create_users(logged_in_client, marketing):
    response = logged_in_client(marketing).post(USERS, {"username": "x", "role": Role.ADMIN})

    assert response.status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_the_menu_links_to_the_settings_for_admins_only(logged_in_client, admin, rep):
    link = f'href="{SETTINGS}"'
    assert link in logged_in_client(admin).get(reverse("leads:lead-list")).text
    assert link not in logged_in_client(rep).get(reverse("leads:lead-list")).text


def test_an_admin_sees_the_users(logged_in_client, admin, rep):
    response = logged_in_client(admin).get(USERS)

    assert response.status_code == 200
    assert rep.username in response.text


def test_an_admin_creates_a_user_and_the_link_sets_a_password(client, admin, team):
    client.force_login(admin)
    form = {
        "username": "newbie",
        "first_name": "New",
        "last_name": "Person",
        "email": "new@example.com",
        "role": Role.SALES_REP,
        "team": team.pk,
        "language": "nl",
        "time_zone": "Europe/Amsterdam",
    }

    response = client.post(USERS, form)

    assert response.status_code == 201
    user = User.objects.get(username="newbie")
    assert (user.team, user.language, user.email) == (team, "nl", "new@example.com")
    path = re.search(r"/set-password/[^/]+/[^/]+/", response.text).group(0)
    client.logout()
    assert client.get(path).status_code == 200
    done = client.post(
        path, {"password": "long-passphrase-123", "password_again": "long-passphrase-123"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("long-passphrase-123")
    assert client.get(path).status_code == 404


def test_an_invalid_user_is_shown_with_errors(logged_in_client, admin):
    response = logged_in_client(admin).post(
        USERS, {"username": "p", "role": Role.PARTNER, "time_zone": "Europe/Amsterdam"}
    )

    assert response.status_code == 422
    assert not User.objects.filter(username="p").exists()


def test_an_admin_changes_a_users_role(logged_in_client, admin, rep, team):
    response = logged_in_client(admin).post(
        reverse("accounts:user-edit", args=[rep.pk]),
        {"role": Role.SALES_MANAGER, "team": team.pk, "time_zone": "Europe/Amsterdam"},
    )

    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.role == Role.SALES_MANAGER


def test_deactivating_asks_to_confirm_first_and_changes_nothing(logged_in_client, admin, rep):
    response = logged_in_client(admin).post(
        reverse("accounts:user-set-active", args=[rep.pk]), {"active": "0"}
    )

    assert response.status_code == 200
    assert 'name="confirm" value="1"' in response.text
    rep.refresh_from_db()
    assert rep.is_active
    assert not AuditEvent.objects.filter(
        action=AuditAction.USER_CHANGED, target_id=str(rep.pk)
    ).exists()


def test_an_admin_deactivates_a_user(logged_in_client, admin, rep):
    response = logged_in_client(admin).post(
        reverse("accounts:user-set-active", args=[rep.pk]), {"active": "0", "confirm": "1"}
    )

    assert response.status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert AuditEvent.objects.filter(
        action=AuditAction.USER_CHANGED, target_id=str(rep.pk)
    ).exists()


def test_the_last_admin_cannot_deactivate_themself_in_the_ui(logged_in_client, admin):
    client = logged_in_client(admin)

    client.post(
        reverse("accounts:user-set-active", args=[admin.pk]), {"active": "0", "confirm": "1"}
    )

    admin.refresh_from_db()
    assert admin.is_active


def test_an_admin_gets_a_password_link_for_a_user(logged_in_client, admin, rep):
    response = logged_in_client(admin).post(reverse("accounts:user-password-link", args=[rep.pk]))

    assert response.status_code == 200
    assert "/set-password/" in response.text


def test_a_forged_link_answers_404(client, rep):
    assert client.get("/set-password/Zm9v/abc-def/").status_code == 404
