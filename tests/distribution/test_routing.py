"""Routing a sales-ready lead: rules decide, a team's push picks a rep, fallbacks keep every lead
placed or visibly waiting, and the timeline says which rule of which version decided."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_tasks import default_task_backend

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.models import Role
from leadloop.distribution import services
from leadloop.distribution.models import Outcome, RepCapacity, RouteDecision, Strategy
from leadloop.distribution.tasks import route_leads_task
from leadloop.leads import events
from leadloop.leads import services as lead_services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.distribution.conftest import publish, ready_lead, team_push
from tests.factories.accounts import make_partner, make_team, make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db


def _routing_day():
    """Today where routing counts absences: in the organisation's time zone (between 23:00 and
    midnight UTC that is already tomorrow in Amsterdam)."""
    return timezone.now().astimezone(ZoneInfo(get_defaults().time_zone)).date()


def _timeline(lead):
    return list(
        Activity.objects.filter(lead_id=lead.pk)
        .order_by("created_at", "id")
        .values_list("kind", "message")
    )


def test_without_published_rules_routing_is_off_and_the_lead_waits(source):
    lead = ready_lead(source)

    assert services.route_lead(lead.pk) is None
    lead.refresh_from_db()
    assert (lead.status, lead.assigned_to_id, lead.team_id) == (LeadStatus.SALES_READY, None, None)
    assert RouteDecision.objects.count() == 0


def test_the_first_matching_rule_decides_and_the_timeline_names_rule_and_version(
    source, team, reps, other_team
):
    publish(
        [
            {
                "name": "Belgium",
                "conditions": "country = BE",
                "action": team_push(other_team, "pool"),
            },
            {
                "name": "NL north",
                "conditions": "country = NL\npostal_code between 1000 and 1999",
                "action": team_push(team),
            },
        ],
        team_push(other_team, "pool"),
    )
    lead = ready_lead(source, country="NL", postal_code="1234 AB")

    decision = services.route_lead(lead.pk)

    lead.refresh_from_db()
    assert decision.outcome == Outcome.ASSIGNED
    assert decision.version == 1
    assert decision.rule_name == "NL north"
    assert lead.assigned_to in reps
    assert lead.team == team
    assert lead.status == LeadStatus.ASSIGNED
    _kind, message = [row for row in _timeline(lead) if row[0] == ActivityKind.ASSIGNED][-1]
    assert message.startswith("Rule “NL north” (routing v1) → team North → ")
    assert lead.assigned_to.display_name in message
    assert "round-robin, 1 today" in message


def test_a_lead_is_routed_once_however_often_its_routing_runs(source, team, reps):
    publish([], team_push(team))
    lead = ready_lead(source)

    first = services.route_lead(lead.pk)
    second = services.route_lead(lead.pk)

    assert first is not None
    assert second is None
    assert RouteDecision.objects.filter(lead=lead).count() == 1
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.ASSIGNED).count() == 1


def test_round_robin_gives_each_rep_a_turn(source, team, reps):
    publish([], team_push(team))
    owners = []
    for i in range(9):
        lead = ready_lead(source, last_name=f"RR{i}")
        owners.append(services.route_lead(lead.pk).user_id)

    assert sorted(owners.count(rep.pk) for rep in reps) == [3, 3, 3]
    # Every round of three reaches three different reps.
    for start in (0, 3, 6):
        assert len(set(owners[start : start + 3])) == 3


def test_an_absent_rep_is_skipped_and_named(source, team, reps, manager):
    noor, daan, sem = reps
    services.set_capacity(manager, by=manager, accepts_leads=False)
    today = _routing_day()
    services.add_absence(daan, by=manager, starts_on=today, ends_on=today, reason="Holiday")
    publish([], team_push(team))

    owners = {services.route_lead(ready_lead(source).pk).user_id for _ in range(6)}

    assert owners == {noor.pk, sem.pk}
    decision = RouteDecision.objects.latest("id")
    assert "Daan R absent" in decision.explanation


def test_a_full_rep_and_one_at_their_daily_quota_are_skipped(source, team, reps, manager):
    noor, daan, sem = reps
    services.set_capacity(manager, by=manager, accepts_leads=False)
    services.set_capacity(noor, by=manager, max_open=0)
    services.set_capacity(daan, by=manager, daily_quota=1)
    publish([], team_push(team))

    owners = [services.route_lead(ready_lead(source).pk).user_id for _ in range(4)]

    assert noor.pk not in owners
    assert owners.count(daan.pk) == 1
    assert owners.count(sem.pk) == 3
    last = RouteDecision.objects.latest("id").explanation
    assert "Noor R full (0 of 0 open)" in last
    assert "Daan R had 1 of 1 today" in last


def test_a_team_with_nobody_available_keeps_the_lead_in_its_pool_and_says_why(
    source, team, reps, manager
):
    today = _routing_day()
    for rep in reps:
        services.add_absence(rep, by=manager, starts_on=today, ends_on=today)
    services.set_capacity(manager, by=manager, accepts_leads=False)
    publish([], team_push(team))
    lead = ready_lead(source)

    decision = services.route_lead(lead.pk)

    lead.refresh_from_db()
    assert decision.outcome == Outcome.POOLED
    assert (lead.team, lead.assigned_to, lead.status) == (team, None, LeadStatus.SALES_READY)
    assert "the pool of team North: nobody available; " in decision.explanation
    assert "Noor R absent" in decision.explanation
    # A pooled lead is the team's to take: routing leaves it there.
    assert services.route_lead(lead.pk) is None


def test_the_leads_language_goes_to_a_rep_who_speaks_it(source, team, reps, manager):
    noor, daan, sem = reps
    services.set_capacity(noor, by=manager, languages="nl, en")
    services.set_capacity(daan, by=manager, languages="de")
    services.set_capacity(sem, by=manager, languages="en")
    services.set_capacity(manager, by=manager, accepts_leads=False)
    publish([], team_push(team))

    owners = {services.route_lead(ready_lead(source, language="de").pk).user_id for _ in range(3)}

    assert owners == {daan.pk}


def test_fewest_open_leads_goes_to_the_least_loaded_rep(source, team, reps, manager):
    noor, daan, sem = reps
    services.set_capacity(manager, by=manager, accepts_leads=False)
    for _ in range(2):
        make_lead(source, assigned_to=noor)
    make_lead(source, assigned_to=daan)
    services.set_team_routing(team, by=manager, strategy=Strategy.LOAD_BALANCED)
    publish([], team_push(team))

    first = services.route_lead(ready_lead(source).pk)
    second = services.route_lead(ready_lead(source).pk)

    assert first.user_id == sem.pk
    assert second.user_id in (daan.pk, sem.pk)
    assert "fewest open leads" in first.explanation


def test_weighted_gives_a_heavier_rep_more(source, team, reps, manager):
    noor, daan, sem = reps
    services.set_capacity(manager, by=manager, accepts_leads=False)
    services.set_capacity(noor, by=manager, weight=2)
    services.set_capacity(daan, by=manager, weight=1)
    services.set_capacity(sem, by=manager, accepts_leads=False)
    services.set_team_routing(team, by=manager, strategy=Strategy.WEIGHTED)
    publish([], team_push(team))

    owners = [services.route_lead(ready_lead(source).pk).user_id for _ in range(6)]

    assert owners.count(noor.pk) == 4
    assert owners.count(daan.pk) == 2


def test_outside_working_hours_the_lead_waits_in_the_pool(source, team, reps, manager):
    services.set_team_routing(
        team,
        by=manager,
        strategy=Strategy.ROUND_ROBIN,
        work_days="12345",
        work_start=dt.time(9),
        work_end=dt.time(17),
    )
    publish([], team_push(team))
    # Saturday 6 December 2026, noon in Amsterdam.
    with time_machine.travel(dt.datetime(2026, 12, 5, 11, 0, tzinfo=dt.UTC), tick=False):
        weekend = services.route_lead(ready_lead(source).pk)
    with time_machine.travel(dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.UTC), tick=False):
        monday = services.route_lead(ready_lead(source).pk)

    assert weekend.outcome == Outcome.POOLED
    assert "outside the team's working hours" in weekend.explanation
    assert monday.outcome == Outcome.ASSIGNED


def test_a_person_a_partner_and_nurturing(source, team, reps, other_team):
    noor = reps[0]
    partner = make_partner("Installers BV")
    publish(
        [
            {
                "name": "Big",
                "conditions": "extra.size = big",
                "action": {"kind": "person", "user": "noor"},
            },
            {
                "name": "Far",
                "conditions": "country = BE",
                "action": {"kind": "partner", "partner": "Installers BV"},
            },
            {"name": "Cold", "conditions": "grade = D", "action": {"kind": "nurture"}},
        ],
        team_push(other_team, "pool"),
    )
    big = ready_lead(source, extra={"size": "big"})
    far = ready_lead(source, country="BE")

    assert services.route_lead(big.pk).user_id == noor.pk
    assert services.route_lead(far.pk).partner_id == partner.pk
    far.refresh_from_db()
    assert (far.owner_partner, far.status) == (partner, LeadStatus.ASSIGNED)


def test_nurturing_cannot_loop_with_routing(source, team, reps, other_team):
    publish(
        [{"name": "Everyone cold", "conditions": "country = NL", "action": {"kind": "nurture"}}],
        team_push(other_team, "pool"),
    )
    lead = ready_lead(source, country="NL")
    outcomes = []
    for _ in range(3):
        outcomes.append(services.route_lead(lead.pk).outcome)
        lead.refresh_from_db()
        if lead.status == LeadStatus.NURTURING:
            lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)

    assert outcomes == [Outcome.NURTURE, Outcome.NURTURE, Outcome.POOLED]
    last = RouteDecision.objects.filter(lead=lead).latest("id")
    assert "sent to nurturing 2 times already" in last.explanation
    lead.refresh_from_db()
    assert lead.team == other_team


def test_a_deleted_team_falls_back_to_the_default_rule(source, team, reps, other_team):
    gone = make_team("Gone")
    make_user(Role.SALES_REP, team=gone)
    publish(
        [{"name": "To gone", "conditions": "country = NL", "action": team_push(gone)}],
        team_push(other_team, "pool"),
    )
    gone.delete()
    lead = ready_lead(source, country="NL")

    decision = services.route_lead(lead.pk)

    assert decision.outcome == Outcome.POOLED
    assert decision.team_id == other_team.pk
    assert "team Gone no longer exists" in decision.explanation


def test_a_lead_nothing_can_take_stays_waiting_with_the_reason(source, team, reps, admin):
    rep = reps[0]
    publish([], {"kind": "person", "user_id": rep.pk})
    accounts_services.set_user_active(rep, active=False, by=admin)
    lead = ready_lead(source)

    decision = services.route_lead(lead.pk)

    lead.refresh_from_db()
    assert decision.outcome == Outcome.UNROUTED
    assert (lead.status, lead.assigned_to_id, lead.team_id) == (LeadStatus.SALES_READY, None, None)
    note = Activity.objects.filter(lead=lead, kind=ActivityKind.NOTE).latest("id")
    assert note.message.startswith("Could not be routed")
    assert "noor can no longer take leads" in note.message
    assert services.waiting_ids(undecided_only=False) == [lead.pk]
    assert services.waiting_ids(undecided_only=True) == []


def test_becoming_sales_ready_queues_the_routing_after_commit(
    source, team, reps, django_capture_on_commit_callbacks
):
    publish([], team_push(team))
    default_task_backend.clear()
    lead = make_lead(source)
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.transition(lead, to=LeadStatus.DISQUALIFIED, by=SYSTEM)
        lead_services.transition(lead, to=LeadStatus.NEW, by=SYSTEM)
    assert _routing_tasks() == []

    with django_capture_on_commit_callbacks(execute=True):
        lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)

    assert _routing_tasks() == [{"lead_ids": [lead.pk]}]
    route_leads_task.call(**_routing_tasks()[0])
    assert Lead.objects.get(pk=lead.pk).assigned_to in reps


def _routing_tasks():
    return [
        result.kwargs
        for result in default_task_backend.results
        if result.task.module_path.endswith("route_leads_task")
    ]


def test_the_sweep_routes_a_lead_whose_task_was_lost(source, team, reps):
    with events.isolated():
        publish([], team_push(team))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)), events.isolated():
        lead = ready_lead(source)
    assert Lead.objects.get(pk=lead.pk).assigned_to_id is None

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        placed = services.sweep_waiting()

    assert placed == 1
    assert Lead.objects.get(pk=lead.pk).assigned_to_id is not None


def test_leads_from_before_routing_existed_wait_for_a_person(source, team, reps):
    with events.isolated():
        old = ready_lead(source)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        publish([], team_push(team))
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        assert services.sweep_waiting() == 0
    assert services.waiting_ids(undecided_only=False) == [old.pk]


def test_a_routing_run_routes_every_lead_waiting_behind_it(source, team, reps):
    publish([], team_push(team))
    with events.isolated():
        leads = [ready_lead(source, last_name=f"Backlog{i}") for i in range(5)]

    placed, failed = services.route_queued([leads[0].pk], chunk=2)

    assert (placed, failed) == (5, [])
    assert (
        Lead.objects.filter(pk__in=[lead.pk for lead in leads], assigned_to__isnull=True).count()
        == 0
    )


def test_a_manager_sets_capacity_in_their_own_team_only(api_client_for, manager, reps, other_rep):
    client = api_client_for(manager)

    own = client.put(
        f"/api/v1/distribution/reps/{reps[0].pk}/capacity",
        {"max_open": 5, "languages": "nl"},
        content_type="application/json",
    )
    other = client.put(
        f"/api/v1/distribution/reps/{other_rep.pk}/capacity",
        {"max_open": 5},
        content_type="application/json",
    )

    assert own.status_code == 200
    assert (own.json()["max_open"], own.json()["languages"]) == (5, "nl")
    assert other.status_code == 404
    assert not RepCapacity.objects.filter(user=other_rep).exists()


@pytest.mark.parametrize(("mode", "most"), [("push", 11), ("pool", 9)])
def test_routing_a_lead_takes_a_bounded_number_of_statements(
    source, team, reps, manager, mode, most, django_assert_max_num_queries
):
    """Measured before the cut: 28 statements for a push, 12 for a pool (inside the test's
    transaction, savepoints counted). Reps with capacities, an absence, open and pushed leads
    make each of push's reads find something."""
    services.set_capacity(reps[0], by=manager, max_open=10, daily_quota=5)
    services.set_capacity(reps[1], by=manager, weight=2)
    services.add_absence(reps[2], by=manager, starts_on=_routing_day(), ends_on=_routing_day())
    publish([], team_push(team, mode))
    services.route_lead(ready_lead(source).pk)
    lead = ready_lead(source)

    with django_assert_max_num_queries(most):
        decision = services.route_lead(lead.pk)

    assert decision.outcome == (Outcome.ASSIGNED if mode == "push" else Outcome.POOLED)
    assert Lead.objects.get(pk=lead.pk).team_id == team.pk
