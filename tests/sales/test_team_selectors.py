"""The manager's view of a team: its measures on a known sales floor at a known moment, who may
look at which team, and how many queries a board costs however many reps it has."""

import datetime as dt

import pytest
import time_machine

from leadloop.accounts.models import Role
from leadloop.errors import NotAllowed, NotFound
from leadloop.sales.selectors import team as selectors
from leadloop.sales.services import rules
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead
from tests.sales.team_world import AMS, NOW, ams, build

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


@pytest.fixture
def world(source, team, manager, rep, teammate, other_rep):
    return build(source=source, team=team, rep=rep, teammate=teammate, other_rep=other_rep)


def _board(actor, team, now=NOW):
    return selectors.team_board(actor, selectors.get_team_for(actor, team.pk), now=now)


def test_the_measures_of_a_team_on_thursday_noon(world, manager, team):
    board = _board(manager, team)

    assert board.week_start == ams(2026, 11, 2, 0, 0)
    assert (board.open_leads, board.pool, board.owned) == (5, 1, 4)
    assert (board.overdue, board.overdue_percent) == (1, 25)
    assert (board.no_next_step, board.followed_up_percent) == (1, 75)
    assert (board.breached_this_week, board.late_now) == (1, 1)
    assert [lead.pk for lead in board.overdue_leads] == [world.overdue.pk]
    assert [lead.pk for lead in board.no_next_step_leads] == [world.bare.pk]
    assert [row.lead.pk for row in board.breached_leads] == [world.bare.pk]
    assert board.breached_leads[0].breached_at == ams(2026, 11, 3, 10, 5)


def test_each_persons_workload(world, manager, rep, teammate, team):
    board = _board(manager, team)

    loads = {
        load.user.username: (
            load.open_leads,
            load.overdue,
            load.no_next_step,
            load.not_contacted,
            load.tasks_today,
        )
        for load in board.reps
    }
    assert loads == {
        "manager": (0, 0, 0, 0, 0),
        "rep": (2, 1, 1, 1, 1),
        "teammate": (2, 0, 0, 0, 1),
    }


def test_a_next_step_done_clears_overdue_and_the_percentages_follow(world, manager, rep, team):
    from leadloop.sales.models import OPEN_TASK, Task
    from leadloop.sales.services import steps

    with time_machine.travel(NOW, tick=False):
        for task in Task.objects.filter(OPEN_TASK, lead=world.overdue).order_by("due_at")[:1]:
            steps.complete_task(task, by=rep)
        steps.add_task(world.bare, by=rep, kind="call", due_at=ams(2026, 11, 6, 9, 0))

    board = _board(manager, team)
    assert (board.overdue, board.overdue_percent) == (0, 0)
    assert (board.no_next_step, board.followed_up_percent) == (0, 100)
    assert board.meets_overdue_norm
    assert board.meets_follow_up_norm


def test_breaches_count_in_the_iso_week_of_the_teams_time_zone(world, manager, team):
    # Sunday 8 November 23:30 in Amsterdam is still the week of the breach...
    assert _board(manager, team, now=ams(2026, 11, 8, 23, 30)).breached_this_week == 1
    # ...and Monday 00:30 is a new week, though it is still Sunday in UTC.
    monday = ams(2026, 11, 9, 0, 30)
    assert monday.astimezone(dt.UTC).day == 8
    assert _board(manager, team, now=monday).breached_this_week == 0


def test_a_team_in_another_time_zone_counts_its_own_week(world, manager, team):
    rules.set_team_rules(team, {"time_zone": "America/New_York"}, by=manager)
    rules.forget()
    # Monday 9 November 03:00 in Amsterdam is Sunday 21:00 in New York: the breach's week.
    board = _board(manager, team, now=ams(2026, 11, 9, 3, 0))

    assert board.breached_this_week == 1
    assert board.week_start.astimezone(AMS) == ams(2026, 11, 2, 6, 0)


def test_a_manager_sees_their_teams_only(world, manager, team, other_team):
    assert list(selectors.list_viewable_teams(manager)) == [team]
    with pytest.raises(NotFound):
        selectors.get_team_for(manager, other_team.pk)
    assert selectors.get_team_for(manager) == team


def test_a_manager_of_two_teams_picks_either(world, manager, other_team, other_rep):
    make_team(other_team.name, manager=manager)

    assert [t.name for t in selectors.list_viewable_teams(manager)] == ["North", "South"]
    board = _board(manager, other_team)
    assert [lead.pk for lead in board.overdue_leads] == [world.south.pk]
    assert [load.user.pk for load in board.reps] == [other_rep.pk]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MARKETING])
def test_admins_and_marketing_look_at_any_team(world, other_team, role):
    viewer = make_user(role)

    assert _board(viewer, other_team).overdue == 1


@pytest.mark.parametrize("who", ["rep", "partner_user"])
def test_reps_and_partners_see_no_team(request, world, team, who):
    actor = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        selectors.get_team_for(actor, team.pk)
    assert list(selectors.list_viewable_teams(actor)) == []
    with pytest.raises(NotAllowed):
        selectors.list_breaches(actor, since=ams(2026, 11, 1, 0, 0))


def test_breaches_since_a_moment_are_scoped_to_the_managers_teams(
    world, manager, other_team, other_rep, source, admin
):
    with time_machine.travel(ams(2026, 11, 4, 9, 0), tick=False):
        south = make_lead(source, assigned_to=other_rep)
        from leadloop.sales.services import clocks, sweep

        clocks.follow([south.pk])
    with time_machine.travel(ams(2026, 11, 5, 9, 5), tick=False):
        sweep.check()

    mine = selectors.list_breaches(manager, since=ams(2026, 10, 26, 0, 0))
    everyone = selectors.list_breaches(admin, since=ams(2026, 11, 1, 0, 0))

    assert [c.lead_id for c in mine] == [world.bare.pk, world.old.pk]
    assert [c.lead_id for c in everyone] == [south.pk, world.bare.pk]


def test_the_board_costs_the_same_queries_for_many_reps(
    world, manager, team, source, django_assert_max_num_queries
):
    selectors.team_board(manager, team, now=NOW)
    for n in range(12):
        person = make_user(Role.SALES_REP, team=team, username=f"extra{n}")
        make_lead(source, assigned_to=person)

    with django_assert_max_num_queries(13):
        board = selectors.team_board(manager, team, now=NOW)

    assert len(board.reps) == 15
