"""The team pages: the manager's view with reassigning in place (HTMX), the team's rules and
targets, and who is refused."""

import pytest
import time_machine
from django.urls import reverse

from leadloop.accounts.models import Role
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.sales.models import SlaTarget, TeamSla
from leadloop.sales.services import rules
from leadloop.sales.views import team as team_views
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead
from tests.sales.team_world import NOW, build

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


@pytest.fixture
def world(source, team, manager, rep, teammate, other_rep):
    return build(source=source, team=team, rep=rep, teammate=teammate, other_rep=other_rep)


@pytest.fixture
def at_noon():
    with time_machine.travel(NOW, tick=False):
        yield


def _assigned_entries(lead):
    return Activity.objects.filter(lead_id=lead.pk, kind=ActivityKind.ASSIGNED).count()


def test_the_manager_sees_the_teams_measures_people_and_lists(
    world, logged_in_client, manager, at_noon
):
    response = logged_in_client(manager).get(reverse("sales:team"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Follow-up of North" in html
    assert "25%" in html  # overdue share of the four leads being worked
    assert "75%" in html  # followed up
    assert "1 waiting in the pool" in html
    for lead in (world.overdue, world.bare):
        assert f'name="ids" value="{lead.pk}"' in html
    assert str(world.south) not in html
    assert 'id="team-pick"' not in html  # one team: no picker
    assert reverse("sales:team-rules", args=[world.bare.team_id]) in html


def test_a_list_draws_its_first_rows_and_shows_the_rest_on_asking(
    world, logged_in_client, manager, rep, source, at_noon, monkeypatch
):
    monkeypatch.setattr(team_views, "FIRST_ROWS", 1)
    for name in ("Bare two", "Bare three"):
        make_lead(source, assigned_to=rep, last_name=name)
    client = logged_in_client(manager)
    url = reverse("sales:team")

    page = client.get(url).content.decode()
    bare = client.get(url, {"team": world.bare.team_id, "list": "bare"}, **HTMX)
    no_script = client.get(url, {"team": world.bare.team_id, "list": "bare"}).content.decode()
    hostile = client.get(url, {"list": "<script>"}, **HTMX)

    more = f"{url}?team={world.bare.team_id}&amp;list=bare"
    assert f'hx-get="{more}" hx-target="#list-bare"' in page
    assert "Show 2 more" in page
    html = bare.content.decode()
    assert html.lstrip().startswith('<section class="card" id="list-bare"')
    assert html.count('name="ids"') == 3
    assert "Show" not in html
    drawn = no_script[no_script.index('id="list-bare"') :].split("</section>")[0]
    assert drawn.count('name="ids"') == 3
    assert "<html" in no_script
    assert hostile.status_code == 200
    assert "<html" in hostile.content.decode()
    assert "&lt;script&gt;" not in hostile.content.decode()


def test_a_manager_of_two_teams_gets_a_picker(
    world, logged_in_client, manager, other_team, at_noon
):
    from tests.factories.accounts import make_team

    make_team(other_team.name, manager=manager)

    response = logged_in_client(manager).get(reverse("sales:team"), {"team": other_team.pk})

    html = response.content.decode()
    assert 'id="team-pick"' in html
    assert "Follow-up of South" in html
    assert f'value="{world.south.pk}"' in html


@pytest.mark.parametrize("who", ["rep", "partner_user"])
def test_reps_and_partners_are_refused(request, world, logged_in_client, team, who):
    client = logged_in_client(request.getfixturevalue(who))

    assert client.get(reverse("sales:team")).status_code == 403
    assert client.get(reverse("sales:team-rules", args=[team.pk])).status_code == 403
    response = client.post(
        reverse("sales:team-reassign", args=[team.pk]),
        {"ids": [world.bare.pk], "assignee": "pool", "reason": "x"},
    )
    assert response.status_code == 403
    assert Lead.objects.get(pk=world.bare.pk).assigned_to_id is not None


def test_anonymous_visitors_are_sent_to_log_in(client, team):
    response = client.get(reverse("sales:team"))

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_another_teams_page_is_not_found_for_a_manager(
    world, logged_in_client, manager, other_team
):
    client = logged_in_client(manager)

    assert client.get(reverse("sales:team"), {"team": other_team.pk}).status_code == 404
    assert client.get(reverse("sales:team-rules", args=[other_team.pk])).status_code == 404


def test_a_lead_name_that_is_html_is_shown_as_text(source, logged_in_client, manager, rep, at_noon):
    make_lead(source, assigned_to=rep, first_name="<script>alert(1)</script>", last_name="X")

    html = logged_in_client(manager).get(reverse("sales:team")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_manager_hands_several_leads_to_a_teammate_in_place(
    world, logged_in_client, manager, teammate, team, at_noon
):
    response = logged_in_client(manager).post(
        reverse("sales:team-reassign", args=[team.pk]),
        {
            "ids": [world.overdue.pk, world.bare.pk],
            "assignee": f"user:{teammate.pk}",
            "reason": "Daan is on leave",
        },
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="team-board"')
    assert "2 leads handed on." in html
    for lead in (world.overdue, world.bare):
        moved = Lead.objects.get(pk=lead.pk)
        assert moved.assigned_to_id == teammate.pk
        entry = Activity.objects.filter(lead_id=lead.pk, kind=ActivityKind.ASSIGNED).latest("id")
        assert entry.message == "Daan is on leave"


def test_the_manager_puts_a_lead_back_in_the_pool(world, logged_in_client, manager, team, at_noon):
    response = logged_in_client(manager).post(
        reverse("sales:team-reassign", args=[team.pk]),
        {"ids": [world.bare.pk], "assignee": "pool", "reason": "Nobody reached them"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('sales:team')}?team={team.pk}"
    lead = Lead.objects.get(pk=world.bare.pk)
    assert (lead.assigned_to_id, lead.team_id, lead.status) == (None, team.pk, "sales_ready")


def test_a_lead_outside_the_managers_teams_is_not_reassigned(
    world, logged_in_client, manager, teammate, team, at_noon
):
    before = _assigned_entries(world.south)

    response = logged_in_client(manager).post(
        reverse("sales:team-reassign", args=[team.pk]),
        {"ids": [world.south.pk], "assignee": f"user:{teammate.pk}", "reason": "Take it"},
        **HTMX,
    )

    assert response.status_code == 403
    assert "1 lead was not changed" in response.content.decode()
    south = Lead.objects.get(pk=world.south.pk)
    assert south.assigned_to.username == "other_rep"
    assert _assigned_entries(world.south) == before


def test_a_lead_of_another_team_cannot_be_moved_through_this_teams_page(
    world, logged_in_client, admin, team, teammate, at_noon
):
    # An admin sees every lead, but North's page acts on North's leads only.
    response = logged_in_client(admin).post(
        reverse("sales:team-reassign", args=[team.pk]),
        {
            "ids": [world.south.pk, world.bare.pk],
            "assignee": f"user:{teammate.pk}",
            "reason": "Tidy up",
        },
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 lead handed on." in html
    assert "1 lead was not changed" in html
    assert Lead.objects.get(pk=world.south.pk).assigned_to.username == "other_rep"
    assert Lead.objects.get(pk=world.bare.pk).assigned_to_id == teammate.pk


def test_a_person_outside_the_team_is_not_a_choice(
    world, logged_in_client, manager, other_rep, team, at_noon
):
    before = _assigned_entries(world.bare)

    response = logged_in_client(manager).post(
        reverse("sales:team-reassign", args=[team.pk]),
        {"ids": [world.bare.pk], "assignee": f"user:{other_rep.pk}", "reason": "x"},
        **HTMX,
    )

    assert response.status_code == 422
    assert Lead.objects.get(pk=world.bare.pk).assigned_to.username == "rep"
    assert _assigned_entries(world.bare) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"assignee": "pool", "reason": "x"}, "Tick one or more leads first."),
        ({"ids": ["BARE"], "assignee": "pool", "reason": ""}, "This field is required."),
    ],
)
def test_a_reassignment_needs_leads_and_a_reason(
    world, logged_in_client, manager, team, at_noon, data, message
):
    data = {k: ([world.bare.pk] if v == ["BARE"] else v) for k, v in data.items()}

    response = logged_in_client(manager).post(
        reverse("sales:team-reassign", args=[team.pk]), data, **HTMX
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert Lead.objects.get(pk=world.bare.pk).assigned_to.username == "rep"


# --- The rules page ----------------------------------------------------------------------------


def _rules_form(**changes):
    data = {
        "time_zone": "Europe/Amsterdam",
        "holiday_country": "NL",
        "holiday_subdivision": "",
        "work_days": ["0", "1", "2", "3", "4"],
        "opens": "09:00",
        "closes": "18:00",
        "target_hours": "",
        "remind_at_percent": "75",
        "on_breach": "alert",
    }
    data.update(changes)
    return data


def test_the_rules_page_shows_when_a_lead_received_now_is_due(logged_in_client, manager, team):
    # Friday 6 November 2026, 17:55: one business day later is Monday at 17:55.
    from tests.sales.team_world import ams

    with time_machine.travel(ams(2026, 11, 6, 17, 55), tick=False):
        response = logged_in_client(manager).get(reverse("sales:team-rules", args=[team.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "would be due for its first contact at <strong>Mon 9 Nov, 17:55</strong>" in html
    assert "these are the defaults" in html
    assert '<option value="NL" selected>' in html


def test_the_manager_saves_the_rules_with_the_target_in_hours(logged_in_client, manager, team):
    response = logged_in_client(manager).post(
        reverse("sales:team-rules", args=[team.pk]),
        _rules_form(
            holiday_country="BE",
            work_days=["0", "1", "2", "3"],
            target_hours="1.5",
            on_breach="pool",
            restart_on_reassign="on",
        ),
    )

    assert response.status_code == 302
    saved = TeamSla.objects.get(team=team)
    assert (saved.holiday_country, saved.work_days, saved.target_minutes) == ("BE", "0123", 90)
    assert (saved.on_breach, saved.restart_on_reassign) == ("pool", True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "Not a known time zone."),
        ({"opens": "18:00", "closes": "09:00"}, "The day must end after it begins."),
        ({"holiday_country": "XX"}, "No holiday calendar for this country and region."),
        ({"work_days": []}, "This field is required."),
        ({"target_hours": "0"}, "Ensure this value is greater than or equal to 0.25."),
    ],
)
def test_rules_that_make_no_sense_are_shown_in_the_form(
    logged_in_client, manager, team, changes, message
):
    response = logged_in_client(manager).post(
        reverse("sales:team-rules", args=[team.pk]), _rules_form(**changes)
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert 'class="field__errors"' in html
    assert not TeamSla.objects.exists()


def test_a_manager_who_does_not_manage_the_team_may_not_open_its_rules(logged_in_client, team):
    member = make_user(Role.SALES_MANAGER, team=team)
    client = logged_in_client(member)

    assert client.get(reverse("sales:team"), {"team": team.pk}).status_code == 200
    assert client.get(reverse("sales:team-rules", args=[team.pk])).status_code == 403
    response = client.post(reverse("sales:team-rules", args=[team.pk]), _rules_form())
    assert response.status_code == 403
    assert not TeamSla.objects.exists()


def test_targets_are_added_and_removed_on_the_rules_page(logged_in_client, manager, team, source):
    client = logged_in_client(manager)

    added = client.post(
        reverse("sales:team-target-save", args=[team.pk]),
        {"target-scope": "team", "target-source": source.pk, "target-business_minutes": "60"},
    )
    target = SlaTarget.objects.get()
    page = client.get(reverse("sales:team-rules", args=[team.pk])).content.decode()
    removed = client.post(
        reverse("sales:team-target-delete", args=[team.pk]), {"target": target.pk}
    )

    assert added.status_code == 302
    assert (target.team_id, target.source_id, target.business_minutes) == (team.pk, source.pk, 60)
    assert source.name in page
    assert removed.status_code == 302
    assert not SlaTarget.objects.exists()


def test_a_manager_cannot_add_a_target_for_every_team(logged_in_client, manager, team):
    response = logged_in_client(manager).post(
        reverse("sales:team-target-save", args=[team.pk]),
        {"target-scope": "all", "target-fit_grade": "A", "target-business_minutes": "60"},
    )

    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert not SlaTarget.objects.exists()


def test_an_admins_target_for_every_team_is_shown_but_not_removable_by_a_manager(
    logged_in_client, manager, admin, team
):
    everyone = rules.set_target(by=admin, fit_grade="A", business_minutes=60)
    client = logged_in_client(manager)

    page = client.get(reverse("sales:team-rules", args=[team.pk])).content.decode()
    refused = client.post(
        reverse("sales:team-target-delete", args=[team.pk]), {"target": everyone.pk}
    )

    assert "set by an admin" in page
    assert refused.status_code == 403
    assert SlaTarget.objects.filter(pk=everyone.pk).exists()
