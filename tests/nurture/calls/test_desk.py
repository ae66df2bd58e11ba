"""The desk: the next lead, retries within calling hours, call-backs, the do-not-call list, and
what a qualified call does to the lead."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import close_old_connections, connection

from leadloop.accounts.models import Role
from leadloop.errors import Conflict, NotAllowed, ValidationFailed
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.nurture.calls import selectors
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallAttempt, CallEntry, DoNotCall
from tests.factories.accounts import make_user
from tests.nurture.calls.conftest import TUESDAY_10, local

pytestmark = pytest.mark.django_db


def test_no_answer_is_tried_again_four_hours_of_calling_time_later(agent, queued):
    entry = queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        taken = calls.next_for(agent)
        calls.log_outcome(taken, by=agent, outcome="no_answer")

    entry.refresh_from_db()
    assert (entry.state, entry.attempts, entry.due_at) == ("waiting", 1, local(2026, 3, 3, 14))
    assert entry.claimed_by_id is None


def test_a_no_answer_late_on_friday_is_due_on_monday_after_the_rest_of_the_delay(agent, queued):
    # Hours 9-18 on weekdays: half an hour is left on Friday, three and a half on Monday.
    friday = local(2026, 3, 6, 17, 30)
    entry = queued(at=friday)
    with time_machine.travel(friday, tick=False):
        calls.log_outcome(calls.next_for(agent), by=agent, outcome="voicemail")

    entry.refresh_from_db()
    assert entry.due_at == local(2026, 3, 9, 12, 30)


def test_the_third_no_answer_closes_the_entry_as_unreachable(agent, queued, call_list):
    entry = queued()
    moments = [TUESDAY_10, local(2026, 3, 3, 14), local(2026, 3, 4, 9)]
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            taken = calls.next_for(agent)
            assert taken.pk == entry.pk
            calls.log_outcome(taken, by=agent, outcome="no_answer")

    entry.refresh_from_db()
    assert (entry.state, entry.outcome, entry.attempts) == ("done", "unreachable", 3)
    assert selectors.final_outcome(entry.lead_id, call_list.pk, TUESDAY_10) == (
        "unreachable",
        local(2026, 3, 4, 9),
    )
    with time_machine.travel(local(2026, 3, 5, 10), tick=False):
        assert calls.next_for(agent) is None


def test_nothing_is_handed_out_outside_calling_hours(agent, queued):
    queued(at=local(2026, 3, 3, 8))
    with time_machine.travel(local(2026, 3, 3, 18, 30), tick=False):
        assert calls.next_for(agent) is None
    with time_machine.travel(local(2026, 3, 7, 11), tick=False):  # a Saturday
        assert calls.next_for(agent) is None
    with time_machine.travel(local(2026, 3, 9, 9), tick=False):
        assert calls.next_for(agent) is not None


def test_a_number_on_the_do_not_call_list_is_never_queued(marketing, call_list, make_callable):
    lead = make_callable(phone="+31 6 1234 0033")
    calls.add_dnc("06 1234 0033", by=marketing, reason="Asked by letter")

    with pytest.raises(Conflict, match="do-not-call"):
        calls.add_to_call_list(lead, call_list, by=marketing)

    assert not CallEntry.objects.exists()


def test_a_number_put_on_the_list_after_queueing_is_skipped_and_closed(
    agent, marketing, queued, call_list
):
    blocked = queued(phone="+31 6 1234 0055")
    other = queued(at=TUESDAY_10 + dt.timedelta(minutes=1))
    calls.add_dnc("+31612340055", by=marketing)

    with time_machine.travel(TUESDAY_10 + dt.timedelta(minutes=5), tick=False):
        taken = calls.next_for(agent)

    assert taken.pk == other.pk
    blocked.refresh_from_db()
    assert (blocked.state, blocked.outcome) == ("done", "dnc")
    assert not CallAttempt.objects.filter(entry=blocked).exists()
    note = (
        Activity.objects.filter(lead_id=blocked.lead_id, kind=ActivityKind.NOTE)
        .order_by("created_at", "pk")
        .last()
    )
    assert "do-not-call" in note.message


def test_a_lead_without_a_phone_is_not_queued(marketing, call_list, source):
    from tests.factories.leads import make_lead

    lead = make_lead(source, email="nophone@example.com")

    with pytest.raises(Conflict, match="no phone number"):
        calls.add_to_call_list(lead, call_list, by=marketing)


def test_putting_a_waiting_lead_on_the_list_again_returns_its_entry(marketing, queued, call_list):
    entry = queued()

    again = calls.add_to_call_list(entry.lead, call_list, by=marketing)

    assert again.pk == entry.pk
    assert CallEntry.objects.count() == 1


def test_two_agents_asking_one_after_the_other_get_different_leads(
    agent, other_agent, queued, call_list, marketing
):
    calls.update_call_list(call_list, by=marketing, members=[agent.pk, other_agent.pk])
    first, second = queued(), queued()
    with time_machine.travel(TUESDAY_10 + dt.timedelta(minutes=1), tick=False):
        mine = calls.next_for(agent)
        theirs = calls.next_for(other_agent)
        nothing_left = calls.next_for(make_user(Role.AGENT, username="agent3"))

    assert {mine.pk, theirs.pk} == {first.pk, second.pk}
    assert nothing_left is None  # agent3 is on no list
    assert calls.next_for(agent, at=TUESDAY_10 + dt.timedelta(minutes=2)).pk == mine.pk


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent row locks")
def test_agents_claiming_at_the_same_moment_never_get_the_same_lead(
    agent, other_agent, queued, call_list, marketing
):
    calls.update_call_list(call_list, by=marketing, members=[agent.pk, other_agent.pk])
    entries = [queued() for _ in range(6)]
    got: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def work(who, user):
        try:
            barrier.wait()
            for _ in range(3):
                entry = calls.next_for(user, at=TUESDAY_10 + dt.timedelta(minutes=1))
                if entry is None:
                    break
                got[who].append(entry.pk)
                calls.log_outcome(entry, by=user, outcome="not_interested")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=work, args=("a", agent)),
        threading.Thread(target=work, args=("b", other_agent)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == sorted(e.pk for e in entries)


def test_a_stale_claim_goes_to_the_next_agent(agent, other_agent, queued, call_list, marketing):
    calls.update_call_list(call_list, by=marketing, members=[agent.pk, other_agent.pk])
    entry = queued()
    calls.next_for(agent, at=TUESDAY_10)

    assert calls.next_for(other_agent, at=TUESDAY_10 + dt.timedelta(minutes=5)) is None
    later = calls.next_for(other_agent, at=TUESDAY_10 + dt.timedelta(minutes=20))

    assert later.pk == entry.pk
    assert later.claimed_by_id == other_agent.pk


def test_a_call_back_lands_on_that_agents_desk_at_its_time(
    agent, other_agent, queued, call_list, marketing
):
    calls.update_call_list(call_list, by=marketing, members=[agent.pk, other_agent.pk])
    entry = queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        calls.log_outcome(
            calls.next_for(agent),
            by=agent,
            outcome="callback",
            callback_at=local(2026, 3, 5, 15),
            notes="Call after the meeting",
        )
    queued(at=local(2026, 3, 5, 9))  # another lead, due earlier

    with time_machine.travel(local(2026, 3, 5, 14, 59), tick=False):
        early = calls.next_for(agent)
        calls.release(early, by=agent)
    with time_machine.travel(local(2026, 3, 5, 15, 1), tick=False):
        for_other = calls.next_for(other_agent)
        calls.release(for_other, by=other_agent)
        for_agent = calls.next_for(agent)

    assert early.pk != entry.pk
    assert for_other.pk != entry.pk
    assert for_agent.pk == entry.pk
    entry.refresh_from_db()
    assert (entry.assigned_to_id, entry.due_at) == (agent.pk, local(2026, 3, 5, 15))


def test_a_call_back_needs_a_time_within_the_calling_hours(agent, queued):
    queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        entry = calls.next_for(agent)
        with pytest.raises(ValidationFailed) as missing:
            calls.log_outcome(entry, by=agent, outcome="callback")
        with pytest.raises(ValidationFailed) as evening:
            calls.log_outcome(
                entry, by=agent, outcome="callback", callback_at=local(2026, 3, 3, 21)
            )

    assert "callback_at" in missing.value.errors
    assert evening.value.errors["callback_at"] == ["Outside the list's calling hours."]
    assert not CallAttempt.objects.exists()


def test_a_qualified_call_saves_bant_makes_the_lead_sales_ready_and_routing_assigns_it(
    agent, queued, call_list, team, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    from leadloop.accounts.models import Role
    from leadloop.distribution.tasks import route_leads_task
    from tests.distribution.conftest import publish, team_push
    from tests.factories.accounts import make_user

    reps = [make_user(Role.SALES_REP, team=team, username=n) for n in ("noor", "daan")]
    publish([], team_push(team))
    entry = queued()
    assert entry.lead.status in (LeadStatus.NEW, LeadStatus.NURTURING)
    default_task_backend.clear()
    with (
        time_machine.travel(TUESDAY_10, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        calls.log_outcome(
            calls.next_for(agent),
            by=agent,
            outcome="qualified",
            duration=300,
            notes="Wants a quote for 40 seats",
            bant={"budget": "met", "need": "met", "timeframe": "not_met"},
        )

    lead = Lead.objects.get(pk=entry.lead_id)
    assert (lead.bant_budget, lead.bant_authority, lead.bant_need, lead.bant_timeframe) == (
        "met",
        "",
        "met",
        "not_met",
    )
    assert lead.status == LeadStatus.SALES_READY
    assert lead.last_contacted_at is not None
    call = Activity.objects.get(lead=lead, kind=ActivityKind.CALL)
    assert (call.message, call.data["outcome"], call.data["duration_seconds"]) == (
        "Wants a quote for 40 seats",
        "qualified",
        300,
    )
    assert selectors.final_outcome(lead.pk, call_list.pk, TUESDAY_10)[0] == "qualified"
    routing = [
        r.kwargs
        for r in default_task_backend.results
        if r.task.module_path.endswith("route_leads_task")
    ]
    assert routing == [{"lead_ids": [lead.pk]}]
    route_leads_task.call(**routing[0])
    routed = Lead.objects.get(pk=lead.pk)
    assert (routed.status, routed.assigned_to in reps) == (LeadStatus.ASSIGNED, True)


def test_a_call_that_reached_nobody_is_not_contact(agent, queued):
    entry = queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        calls.log_outcome(calls.next_for(agent), by=agent, outcome="wrong_number")

    lead = Lead.objects.get(pk=entry.lead_id)
    entry.refresh_from_db()
    assert lead.last_contacted_at is None
    assert (entry.state, entry.outcome) == ("done", "wrong_number")
    assert not DoNotCall.objects.exists()  # a wrong number is not a person's wish


def test_asks_not_to_be_called_puts_the_number_on_the_list(agent, queued, call_list, marketing):
    entry = queued(phone="+31 6 1234 0077")
    with time_machine.travel(TUESDAY_10, tick=False):
        calls.log_outcome(calls.next_for(agent), by=agent, outcome="do_not_call")

    assert DoNotCall.objects.filter(phone_e164="+31612340077").exists()
    other_list = calls.create_call_list(
        by=marketing, name="Other", script_en="Hi", holiday_country=""
    )
    with pytest.raises(Conflict):
        calls.add_to_call_list(entry.lead, other_list, by=marketing)


def test_a_logged_entry_cannot_be_logged_twice_nor_by_another_agents_desk(
    agent, other_agent, queued, call_list, marketing
):
    calls.update_call_list(call_list, by=marketing, members=[agent.pk, other_agent.pk])
    queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        entry = calls.next_for(agent)
        with pytest.raises(Conflict, match="Another agent"):
            calls.log_outcome(entry, by=other_agent, outcome="no_answer")
        calls.log_outcome(entry, by=agent, outcome="not_interested")
        with pytest.raises(Conflict, match="already logged"):
            calls.log_outcome(entry, by=agent, outcome="not_interested")

    assert CallAttempt.objects.count() == 1


def test_an_agent_not_on_the_list_may_not_log_its_calls(agent, queued, db):
    stranger = make_user("agent", username="stranger")
    entry = queued()

    with pytest.raises(NotAllowed):
        calls.log_outcome(entry, by=stranger, outcome="no_answer")


def test_a_sales_rep_may_not_work_the_desk(rep, queued):
    queued()
    with pytest.raises(NotAllowed):
        calls.next_for(rep)


def test_agent_figures_count_calls_per_hour_and_rates(agent, queued, marketing):
    for _ in range(4):
        queued()
    outcomes = ["qualified", "no_answer", "not_interested", "voicemail"]
    for minute, outcome in zip((0, 10, 70, 80), outcomes, strict=True):
        with time_machine.travel(TUESDAY_10 + dt.timedelta(minutes=minute), tick=False):
            calls.log_outcome(calls.next_for(agent), by=agent, outcome=outcome, duration=60)

    period = (TUESDAY_10, TUESDAY_10 + dt.timedelta(hours=3))
    [row] = selectors.agent_stats(marketing, period)
    assert (row.calls, row.hours, row.calls_per_hour) == (4, 2, 2.0)
    assert (row.reach_rate, row.qualified_rate, row.talk_seconds) == (0.5, 0.25, 240)
    assert [
        r.agent_id
        for r in selectors.agent_stats(agent, (TUESDAY_10, TUESDAY_10 + dt.timedelta(hours=3)))
    ] == [agent.pk]
