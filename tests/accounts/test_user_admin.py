"""User administration services: admins only, the last admin stays, one-time password links."""

import pytest
from django.test import override_settings

from leadloop.accounts.models import AuditAction, AuditEvent, Role, User
from leadloop.accounts.services import (
    add_user,
    change_user,
    create_password_link,
    set_password_from_link,
    set_user_active,
)
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from tests.factories.accounts import make_user

NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP])
def test_only_an_admin_adds_users(db, role):
    actor = make_user(role)

    with pytest.raises(NotAllowed):
        add_user(by=actor, username="newbie", role=Role.SALES_REP)

    assert not User.objects.filter(username="newbie").exists()


def test_an_admin_adds_a_user_and_the_audit_trail_says_so(admin, team):
    user = add_user(
        by=admin,
        username="newbie",
        role=Role.SALES_REP,
        team=team,
        language="nl",
        time_zone="Europe/Brussels",
    )

    assert (user.role, user.team, user.language, user.time_zone) == (
        Role.SALES_REP,
        team,
        "nl",
        "Europe/Brussels",
    )
    assert not user.has_usable_password()
    event = AuditEvent.objects.get(action=AuditAction.USER_CREATED, target_id=str(user.pk))
    assert event.actor_label == "admin"


def test_a_partner_user_needs_a_partner_organisation(admin):
    with pytest.raises(ValidationFailed) as caught:
        add_user(by=admin, username="p", role=Role.PARTNER)

    assert "partner" in caught.value.errors
    assert not User.objects.filter(username="p").exists()


def test_changing_role_and_team_is_audited_with_the_field_names(admin, rep, other_team):
    changed = change_user(rep, by=admin, role=Role.SALES_MANAGER, team=other_team)

    assert (changed.role, changed.team) == (Role.SALES_MANAGER, other_team)
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED, target_id=str(rep.pk))
    assert event.data["fields"] == ["role", "team"]


def test_a_rep_cannot_change_a_user(rep, teammate):
    with pytest.raises(NotAllowed):
        change_user(teammate, by=rep, role=Role.ADMIN)

    teammate.refresh_from_db()
    assert teammate.role == Role.SALES_REP


def test_the_last_admin_cannot_demote_themself(admin):
    with pytest.raises(ValidationFailed):
        change_user(admin, by=admin, role=Role.MARKETING)

    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_the_last_admin_cannot_deactivate_themself(admin):
    with pytest.raises(ValidationFailed):
        set_user_active(admin, active=False, by=admin)

    admin.refresh_from_db()
    assert admin.is_active


def test_an_admin_may_step_down_when_another_admin_remains(admin):
    make_user(Role.ADMIN, username="second")

    changed = change_user(admin, by=admin, role=Role.MARKETING)

    assert changed.role == Role.MARKETING
    assert not changed.is_superuser


def test_deactivating_and_reactivating_are_audited(admin, rep):
    set_user_active(rep, active=False, by=admin)
    rep.refresh_from_db()
    assert not rep.is_active

    set_user_active(rep, active=True, by=admin)
    rep.refresh_from_db()
    assert rep.is_active
    events = AuditEvent.objects.filter(target_id=str(rep.pk), action=AuditAction.USER_CHANGED)
    assert [e.data["is_active"] for e in events.order_by("id")] == [False, True]


def test_a_password_link_works_once(admin, rep):
    link = create_password_link(rep, by=admin)

    set_password_from_link(uidb64=link.uidb64, token=link.token, password=NEW_PASSWORD)

    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)
    with pytest.raises(NotFound):
        set_password_from_link(uidb64=link.uidb64, token=link.token, password="another-long-one-77")
    rep.refresh_from_db()
    assert rep.check_password(NEW_PASSWORD)


def test_a_password_link_expires(admin, rep):
    link = create_password_link(rep, by=admin)

    with override_settings(PASSWORD_RESET_TIMEOUT=-1), pytest.raises(NotFound):
        set_password_from_link(uidb64=link.uidb64, token=link.token, password=NEW_PASSWORD)

    rep.refresh_from_db()
    assert not rep.check_password(NEW_PASSWORD)


def test_only_an_admin_makes_password_links(rep, teammate):
    with pytest.raises(NotAllowed):
        create_password_link(teammate, by=rep)

    assert not AuditEvent.objects.filter(target_id=str(teammate.pk)).exclude(
        action=AuditAction.USER_CREATED
    )
