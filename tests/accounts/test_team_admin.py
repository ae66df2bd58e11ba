"""Teams and partner organisations on the settings pages: admins only, audited."""

import pytest
from django.urls import reverse

from leadloop.accounts.models import AuditAction, AuditEvent, PartnerOrganization, Team
from leadloop.accounts.services import change_partner, change_team, create_partner, create_team
from leadloop.errors import NotAllowed, ValidationFailed


def test_an_admin_creates_a_team_with_a_manager(admin, manager):
    team = create_team(by=admin, name="  West  ", manager=manager)

    assert (team.name, team.manager) == ("West", manager)
    event = AuditEvent.objects.get(action=AuditAction.SETTING_CHANGED, target_type="team")
    assert event.data == {"change": "created", "manager": manager.pk}


def test_a_manager_cannot_create_a_team(manager):
    with pytest.raises(NotAllowed):
        create_team(by=manager, name="West")

    assert not Team.objects.filter(name="West").exists()


def test_a_rep_cannot_manage_a_team(admin, rep):
    with pytest.raises(ValidationFailed):
        create_team(by=admin, name="West", manager=rep)

    assert not Team.objects.filter(name="West").exists()


def test_changing_members_moves_users_between_teams(admin, team, other_team, rep, other_rep):
    change_team(team, by=admin, name="North", manager=None, members=[other_rep])

    rep.refresh_from_db()
    other_rep.refresh_from_db()
    assert rep.team is None
    assert other_rep.team == team
    event = AuditEvent.objects.get(target_type="team", target_id=str(team.pk))
    assert event.data["added"] == [other_rep.pk]
    assert event.data["removed"] == [rep.pk]


def test_a_partner_user_joins_no_team(admin, team, partner_user):
    with pytest.raises(ValidationFailed):
        change_team(team, by=admin, name="North", manager=None, members=[partner_user])

    partner_user.refresh_from_db()
    assert partner_user.team is None


def test_a_team_name_is_unique(admin, team, other_team):
    with pytest.raises(ValidationFailed):
        change_team(other_team, by=admin, name="north", manager=None, members=[])


def test_an_admin_creates_renames_and_deactivates_a_partner(admin):
    partner = create_partner(by=admin, name="Resello")

    changed = change_partner(partner, by=admin, name="Resello BV", is_active=False)

    assert (changed.name, changed.is_active) == ("Resello BV", False)
    events = AuditEvent.objects.filter(target_type="partner", target_id=str(partner.pk))
    assert [e.data["change"] for e in events.order_by("id")] == ["created", "changed"]


def test_marketing_cannot_create_a_partner(marketing):
    with pytest.raises(NotAllowed):
        create_partner(by=marketing, name="Resello")

    assert not PartnerOrganization.objects.filter(name="Resello").exists()


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
@pytest.mark.parametrize("name", ["accounts:teams", "accounts:partners"])
def test_other_roles_cannot_reach_teams_or_partners(request, logged_in_client, who, name):
    user = request.getfixturevalue(who)

    assert logged_in_client(user).get(reverse(name)).status_code == 403


def test_an_admin_creates_a_team_on_the_page(logged_in_client, admin, manager):
    client = logged_in_client(admin)

    response = client.post(reverse("accounts:teams"), {"name": "West", "manager": manager.pk})

    assert response.status_code == 302
    assert Team.objects.get(name="West").manager == manager
    assert "West" in client.get(reverse("accounts:teams")).text


def test_an_admin_sets_team_members_on_the_page(logged_in_client, admin, team, rep, other_rep):
    response = logged_in_client(admin).post(
        reverse("accounts:team-edit", args=[team.pk]),
        {"name": "North", "members": [rep.pk, other_rep.pk]},
    )

    assert response.status_code == 302
    assert set(team.members.all()) == {rep, other_rep}


def test_an_admin_deactivates_a_partner_on_the_page(logged_in_client, admin, partner_org):
    client = logged_in_client(admin)

    response = client.post(
        reverse("accounts:partner-edit", args=[partner_org.pk]), {"name": "Partner A"}
    )

    assert response.status_code == 302
    partner_org.refresh_from_db()
    assert not partner_org.is_active
