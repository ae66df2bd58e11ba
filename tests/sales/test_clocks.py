"""The first-contact clock on real leads, with a controllable clock: started when the lead reaches
sales, counted in the team's business time, reminded, breached and escalated once, settled by the
first contact."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tasks import default_task_backend

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import User
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.notifications.models import Notification
from leadloop.sales.models import (
    BreachAction,
    ClockState,
    FirstContactClock,
    SlaEvent,
)
from leadloop.sales.services import clocks, contact, rules, sweep
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _assigned(source, rep, at):
    with time_machine.travel(at, tick=False):
        lead = make_lead(source, assigned_to=rep)
        clocks.follow([lead.pk])
    return lead


def _kinds(lead):
    return list(SlaEvent.objects.filter(lead=lead).values_list("kind", flat=True))


def test_a_lead_assigned_tuesday_morning_is_due_wednesday_at_the_same_time(source, rep):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))

    clock = FirstContactClock.objects.get(pk=lead.pk)
    assert clock.state == ClockState.RUNNING
    assert clock.due_at == ams(2026, 11, 4, 10, 0)
    assert clock.target_minutes == 9 * 60
    lead.refresh_from_db()
    assert lead.first_contact_due_at == clock.due_at
    assert _kinds(lead) == ["started"]


def test_friday_evening_before_whit_monday_is_due_tuesday_at_the_same_moment(source, rep):
    # Friday 14 May 2027 17:55; Monday 17 May is Whit Monday.
    lead = _assigned(source, rep, ams(2027, 5, 14, 17, 55))

    assert FirstContactClock.objects.get(pk=lead.pk).due_at == ams(2027, 5, 18, 17, 55)


def test_easter_and_the_clock_change_do_not_shift_the_deadline(source, rep):
    # Thursday 25 March 2027 17:55 (winter time); Good Friday and Easter Monday are days off,
    # and summer time starts on the Sunday between them.
    lead = _assigned(source, rep, ams(2027, 3, 25, 17, 55))

    due = FirstContactClock.objects.get(pk=lead.pk).due_at.astimezone(AMS)
    assert due == ams(2027, 3, 30, 17, 55)
    assert due.utcoffset() == dt.timedelta(hours=2)


def test_an_a_grade_target_of_one_business_hour_wins_over_the_team_default(source, rep, admin):
    rules.set_target(by=admin, business_minutes=60, fit_grade="A")
    rules.forget()
    with time_machine.travel(ams(2026, 11, 3, 17, 30), tick=False):
        lead = make_lead(source, assigned_to=rep)
        Lead.objects.filter(pk=lead.pk).update(fit_grade="A")
        clocks.follow([lead.pk])

    # Half an hour today, half an hour when the office opens on Wednesday.
    assert FirstContactClock.objects.get(pk=lead.pk).due_at == ams(2026, 11, 4, 9, 30)


def test_the_owner_is_reminded_once_and_the_manager_alerted_once(source, rep, manager):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))

    with time_machine.travel(ams(2026, 11, 3, 16, 0), tick=False):
        assert sweep.check()["reminded"] == 0
    # 75% of nine business hours: 6 h 45 min, at 16:45.
    with time_machine.travel(ams(2026, 11, 3, 16, 46), tick=False):
        assert sweep.check()["reminded"] == 1
        assert sweep.check()["reminded"] == 0
    with time_machine.travel(ams(2026, 11, 4, 10, 1), tick=False):
        assert sweep.check()["breached"] == 1
        assert sweep.check()["breached"] == 0

    told = list(Notification.objects.order_by("id").values_list("user__username", "kind"))
    assert told == [("rep", "sla_reminder"), ("manager", "sla_breached")]
    assert _kinds(lead) == ["started", "reminded", "breached"]
    clock = FirstContactClock.objects.get(pk=lead.pk)
    assert clock.state == ClockState.RUNNING  # still waiting for a contact, now overdue
    assert clock.next_check_at is None


def test_a_call_that_reaches_the_person_meets_the_clock_and_moves_the_lead(source, rep):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))

    with time_machine.travel(ams(2026, 11, 3, 14, 0), tick=False):
        contact.log_call(lead, by=rep, outcome="no_answer")
        assert FirstContactClock.objects.get(pk=lead.pk).state == ClockState.RUNNING
        contact.log_call(lead, by=rep, outcome="reached", duration_seconds=240, note="Wants a demo")

    clock = FirstContactClock.objects.get(pk=lead.pk)
    assert clock.state == ClockState.MET
    assert clock.ended_at == ams(2026, 11, 3, 14, 0)
    assert clock.ended_by == rep.display_name
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    assert _kinds(lead) == ["started", "met"]


def test_contact_after_the_deadline_is_late(source, rep):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 5, 9, 30), tick=False):
        sweep.check()
        contact.log_call(lead, by=rep, outcome="reached")
    clock = FirstContactClock.objects.get(pk=lead.pk)
    assert clock.state == ClockState.LATE
    assert _kinds(lead) == ["started", "breached", "late"]


def test_a_contact_the_sweep_finds_before_breaching_is_not_a_breach(source, rep):
    # The rep reached the person through the lead page; the clock's task never ran.
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 3, 11, 0), tick=False):
        lead_services.log_activity(lead, kind="call", message="Spoke", by=rep)
    with time_machine.travel(ams(2026, 11, 4, 11, 0), tick=False):
        counts = sweep.check()
    assert counts["breached"] == 0
    assert FirstContactClock.objects.get(pk=lead.pk).state == ClockState.MET


def test_a_reassigned_lead_keeps_its_clock_unless_the_team_restarts_it(
    source, rep, teammate, manager, team
):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 3, 15, 0), tick=False):
        lead_services.assign_lead(lead, by=manager, to=teammate)
        clocks.follow([lead.pk])
    assert FirstContactClock.objects.get(pk=lead.pk).due_at == ams(2026, 11, 4, 10, 0)

    rules.set_team_rules(team, {"restart_on_reassign": True}, by=manager)
    rules.forget()
    with time_machine.travel(ams(2026, 11, 3, 16, 0), tick=False):
        lead_services.assign_lead(lead, by=manager, to=rep)
        clocks.follow([lead.pk])
    clock = FirstContactClock.objects.get(pk=lead.pk)
    assert clock.due_at == ams(2026, 11, 4, 16, 0)
    assert clock.owner_id == rep.pk
    assert _kinds(lead) == ["started", "restarted"]


def test_a_breach_can_put_the_lead_back_in_the_pool(source, rep, manager, team):
    rules.set_team_rules(team, {"on_breach": BreachAction.POOL}, by=manager)
    rules.forget()
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 4, 10, 5), tick=False):
        sweep.check()
    lead.refresh_from_db()
    assert lead.assigned_to_id is None
    assert lead.team_id == team.pk
    assert lead.status == LeadStatus.SALES_READY
    assert _kinds(lead) == ["started", "breached", "returned"]


def test_a_lead_that_closes_without_contact_stops_its_clock(source, rep):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 3, 12, 0), tick=False):
        lead_services.transition(lead, to=LeadStatus.DISQUALIFIED, by=rep)
        clocks.follow([lead.pk])
    assert FirstContactClock.objects.get(pk=lead.pk).state == ClockState.STOPPED
    lead.refresh_from_db()
    assert lead.first_contact_due_at is None


def test_the_sweep_starts_a_clock_whose_task_was_lost(source, rep):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = make_lead(source, assigned_to=rep)
    with time_machine.travel(ams(2026, 11, 3, 10, 1), tick=False):
        assert sweep.check()["started"] == 1
    assert FirstContactClock.objects.get(pk=lead.pk).started_at == ams(2026, 11, 3, 10, 0)


def test_lead_events_queue_the_clock_with_the_time_the_lead_reached_sales(
    source, rep, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    with (
        time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead = make_lead(source)
        lead_services.assign_lead(lead, by=SYSTEM, to=rep)
    queued = [r.kwargs for r in default_task_backend.results if r.task.name == "follow_clocks_task"]
    assert queued
    starts = {k: v for q in queued for k, v in q["starts"].items()}
    assert dt.datetime.fromisoformat(starts[str(lead.pk)]) == ams(2026, 11, 3, 10, 0)
    default_task_backend.clear()


def test_a_partner_lead_and_a_new_lead_get_no_clock(source, partner_org):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        fresh = make_lead(source)
        partners = make_lead(source, partner=partner_org)
        clocks.follow([fresh.pk, partners.pk])
        assert sweep.check()["started"] == 0
    assert Lead.objects.get(pk=partners.pk).status == LeadStatus.ASSIGNED
    assert not FirstContactClock.objects.exists()


def test_a_lead_handed_to_a_partner_stops_its_clock(source, rep, partner_org, manager):
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 3, 11, 0), tick=False):
        lead_services.assign_lead(lead, by=manager, partner=partner_org)
        clocks.follow([lead.pk])
    assert FirstContactClock.objects.get(pk=lead.pk).state == ClockState.STOPPED


def test_an_inactive_manager_is_not_alerted(source, rep, team):
    gone = make_user("sales_manager", username="gone", team=team)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    lead = _assigned(source, rep, ams(2026, 11, 3, 10, 0))
    with time_machine.travel(ams(2026, 11, 4, 10, 5), tick=False):
        sweep.check()
    assert not Notification.objects.filter(kind="sla_breached").exists()
    assert _kinds(lead) == ["started", "breached"]


def test_a_breach_can_route_the_lead_again_to_another_rep(source, rep, teammate, manager, team):
    from leadloop.distribution import services as routing
    from leadloop.distribution.models import RouteDecision
    from tests.distribution.conftest import publish, ready_lead, team_push

    routing.set_capacity(manager, by=SYSTEM, accepts_leads=False)
    rules.set_team_rules(team, {"on_breach": BreachAction.REROUTE}, by=manager)
    rules.forget()
    publish([], team_push(team))
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = ready_lead(source)
        routing.route_lead(lead.pk)
        clocks.follow([lead.pk])
    first = Lead.objects.get(pk=lead.pk).assigned_to_id
    assert first in (rep.pk, teammate.pk)

    with time_machine.travel(ams(2026, 11, 4, 10, 5), tick=False):
        sweep.check()
        assert Lead.objects.get(pk=lead.pk).status == LeadStatus.SALES_READY
        routing.route_lead(lead.pk)

    again = Lead.objects.get(pk=lead.pk)
    assert again.assigned_to_id not in (None, first)
    decision = RouteDecision.objects.filter(lead=lead).latest("at", "id")
    assert "had the lead before" in decision.explanation
    assert _kinds(lead) == ["started", "breached", "rerouted"]
    # The clock keeps its start: the next rep inherits how late the lead already is.
    with time_machine.travel(ams(2026, 11, 4, 10, 6), tick=False):
        clocks.follow([lead.pk])
    assert FirstContactClock.objects.get(pk=lead.pk).started_at == ams(2026, 11, 3, 10, 0)


def test_the_api_records_who_won_a_lost_deal(source, rep, api_client_for):
    lead = make_lead(source, assigned_to=rep)
    lead_services.transition(lead, to=LeadStatus.CONTACTED, by=rep)

    answer = api_client_for(rep).post(
        f"/api/v1/leads/{lead.pk}/transition",
        {"to": "lost", "lost_reason": "Price", "competitor": "Acme <b>Solar</b>"},
        content_type="application/json",
    )

    assert answer.status_code == 200, answer.content
    assert answer.json()["competitor"] == "Acme <b>Solar</b>"
    assert Lead.objects.get(pk=lead.pk).competitor == "Acme <b>Solar</b>"
