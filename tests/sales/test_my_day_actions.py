"""The one-tap actions on a row of My day: each changes the database through the services and
answers HTMX with the row drawn again, or a plain POST with a redirect; a refusal shows the form
with its errors and changes nothing; another rep's lead or task is a 404."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.leads.models import Activity, ActivityKind, LeadStatus
from leadloop.leads.services.sources import get_or_create_lost_reason
from leadloop.sales.models import Task
from leadloop.sales.services import steps
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=AMS)
HTMX = {"HX-Request": "true"}


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lead(source, rep):
    return make_lead(source, assigned_to=rep, first_name="Ann", last_name="Smit")


@pytest.fixture
def task(lead, rep):
    return steps.add_task(lead, by=SYSTEM, kind="call", due_at=ams(2026, 11, 3, 9, 0), owner=rep)


@pytest.fixture
def rep_client(logged_in_client, rep):
    return logged_in_client(rep)


def _calls(lead):
    return list(Activity.objects.filter(lead=lead, kind=ActivityKind.CALL))


def test_logging_a_call_on_a_task_row_logs_it_closes_the_task_and_answers_the_row(
    rep_client, lead, task
):
    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/call/",
        {
            "task": task.pk,
            f"task-{task.pk}-call-outcome": "reached",
            f"task-{task.pk}-call-task_done": "on",
        },
        headers=HTMX,
    )

    html = answer.content.decode()
    lead.refresh_from_db()
    task.refresh_from_db()
    assert answer.status_code == 200
    assert html.lstrip().startswith('<li class="day-item')
    assert f'id="task-{task.pk}"' in html
    assert "Call logged: Reached." in html
    assert "<html" not in html
    assert [a.data["outcome"] for a in _calls(lead)] == ["reached"]
    assert lead.status == LeadStatus.CONTACTED
    assert task.done_at is not None
    # Done, and nothing else planned: the row asks for the next step at once.
    assert "No next step" in html
    assert '<details class="day-action" open>' in html


def test_a_call_that_reached_nobody_leaves_the_task_open_when_not_ticked(rep_client, lead, task):
    rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/call/",
        {"task": task.pk, f"task-{task.pk}-call-outcome": "no_answer"},
        headers=HTMX,
    )

    task.refresh_from_db()
    lead.refresh_from_db()
    assert [a.data["outcome"] for a in _calls(lead)] == ["no_answer"]
    assert (task.is_open, lead.status) == (True, LeadStatus.ASSIGNED)


def test_without_javascript_a_call_is_logged_and_the_list_comes_back(rep_client, lead):
    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/call/", {f"lead-{lead.pk}-call-outcome": "voicemail"}
    )

    assert answer.status_code == 302
    assert answer["Location"] == f"/sales/my-day/?section=all#lead-{lead.pk}"
    assert [a.data["outcome"] for a in _calls(lead)] == ["voicemail"]
    assert "Call logged: Voicemail." in rep_client.get("/sales/my-day/").content.decode()


def test_call_back_needs_the_time_and_then_plans_the_call(rep_client, lead):
    prefix = f"lead-{lead.pk}-call"
    url = f"/sales/my-day/leads/{lead.pk}/call/"

    refused = rep_client.post(url, {f"{prefix}-outcome": "callback"}, headers=HTMX)
    assert refused.status_code == 422
    assert "Say when to call back." in refused.content.decode()
    assert _calls(lead) == []

    rep_client.post(
        url,
        {f"{prefix}-outcome": "callback", f"{prefix}-callback_at": "2026-11-04T14:30"},
        headers=HTMX,
    )
    planned = Task.objects.get(lead=lead)
    assert planned.due_at == ams(2026, 11, 4, 14, 30)
    assert planned.kind == "call"


def test_a_refused_call_without_javascript_shows_the_row_on_its_own_page(rep_client, lead):
    answer = rep_client.post(f"/sales/my-day/leads/{lead.pk}/call/", {})

    html = answer.content.decode()
    assert answer.status_code == 422
    assert "<html" in html
    assert "Back to My day" in html
    assert _calls(lead) == []


def test_marking_a_task_done(rep_client, lead, task):
    answer = rep_client.post(f"/sales/my-day/tasks/{task.pk}/done/", headers=HTMX)

    task.refresh_from_db()
    assert task.done_at == NOW
    assert "Done." in answer.content.decode()
    again = rep_client.post(f"/sales/my-day/tasks/{task.pk}/done/", headers=HTMX)
    assert again.status_code == 409
    assert "already done" in again.content.decode()


def test_snoozing_until_tomorrow_morning_keeps_the_reason(rep_client, lead, task):
    prefix = f"task-{task.pk}-snooze"

    answer = rep_client.post(
        f"/sales/my-day/tasks/{task.pk}/snooze/",
        {f"{prefix}-when": "tomorrow", f"{prefix}-reason": "Customer at a fair"},
        headers=HTMX,
    )

    task.refresh_from_db()
    lead.refresh_from_db()
    assert answer.status_code == 200
    assert task.due_at == ams(2026, 11, 4, 9, 0)
    assert task.snoozes == 1
    assert task.history[-1]["reason"] == "Customer at a fair"
    assert lead.next_follow_up_at == ams(2026, 11, 4, 9, 0)
    assert "Snoozed until 2026-11-04 09:00." in answer.content.decode()


def test_snoozing_an_hour_or_to_a_chosen_time(rep_client, lead, task):
    prefix = f"task-{task.pk}-snooze"
    url = f"/sales/my-day/tasks/{task.pk}/snooze/"

    rep_client.post(
        url, {f"{prefix}-when": "hour", f"{prefix}-reason": "In a meeting"}, headers=HTMX
    )
    task.refresh_from_db()
    assert task.due_at == NOW + dt.timedelta(hours=1)

    picked = {f"{prefix}-when": "pick", f"{prefix}-reason": "Asked", f"{prefix}-due_at": ""}
    assert rep_client.post(url, picked, headers=HTMX).status_code == 422
    picked[f"{prefix}-due_at"] = "2026-11-06T16:15"
    rep_client.post(url, picked, headers=HTMX)
    task.refresh_from_db()
    assert (task.due_at, task.snoozes) == (ams(2026, 11, 6, 16, 15), 2)


def test_a_snooze_without_a_reason_is_refused_and_changes_nothing(rep_client, task):
    answer = rep_client.post(
        f"/sales/my-day/tasks/{task.pk}/snooze/",
        {f"task-{task.pk}-snooze-when": "hour"},
        headers=HTMX,
    )

    task.refresh_from_db()
    assert answer.status_code == 422
    assert 'aria-invalid="true"' in answer.content.decode()
    assert (task.due_at, task.snoozes, task.history) == (ams(2026, 11, 3, 9, 0), 0, [])


def test_setting_the_next_step(rep_client, lead):
    prefix = f"lead-{lead.pk}-step"

    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/next-step/",
        {
            f"{prefix}-kind": "meeting",
            f"{prefix}-due_at": "2026-11-05T11:00",
            f"{prefix}-title": "Demo",
        },
        headers=HTMX,
    )

    added = Task.objects.get(lead=lead)
    lead.refresh_from_db()
    assert answer.status_code == 200
    assert (added.kind, added.title, added.owner_id) == ("meeting", "Demo", lead.assigned_to_id)
    assert added.due_at == ams(2026, 11, 5, 11, 0)
    assert lead.next_follow_up_at == added.due_at
    assert "Next step set: Meeting, 2026-11-05 11:00." in answer.content.decode()


def test_moving_to_contacted_goes_through_the_lifecycle(rep_client, lead):
    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/status/",
        {f"lead-{lead.pk}-move-to": "contacted"},
        headers=HTMX,
    )

    lead.refresh_from_db()
    assert answer.status_code == 200
    assert lead.status == LeadStatus.CONTACTED
    moves = Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGED)
    assert [m.data["to"] for m in moves.order_by("id")][-1] == "contacted"


def test_lost_needs_a_reason_and_then_closes_the_leads_tasks(rep_client, lead, task):
    prefix = f"task-{task.pk}-move"
    url = f"/sales/my-day/leads/{lead.pk}/status/"

    refused = rep_client.post(url, {"task": task.pk, f"{prefix}-to": "lost"}, headers=HTMX)
    lead.refresh_from_db()
    assert refused.status_code == 422
    assert "Say why the lead was lost." in refused.content.decode()
    assert lead.status == LeadStatus.ASSIGNED

    reason = get_or_create_lost_reason("Too expensive")
    answer = rep_client.post(
        url,
        {
            "task": task.pk,
            f"{prefix}-to": "lost",
            f"{prefix}-lost_reason": reason.pk,
            f"{prefix}-competitor": "Acme",
        },
        headers=HTMX,
    )
    lead.refresh_from_db()
    task.refresh_from_db()
    assert answer.status_code == 200
    assert (lead.status, lead.lost_reason_id, lead.competitor) == ("lost", reason.pk, "Acme")
    assert task.cancelled_at is not None
    assert "Status changed to Lost." in answer.content.decode()
    assert "Log call" not in answer.content.decode()


def test_a_move_the_lifecycle_does_not_allow_is_not_offered(rep_client, lead):
    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/status/", {f"lead-{lead.pk}-move-to": "won"}, headers=HTMX
    )

    lead.refresh_from_db()
    assert answer.status_code == 422
    assert lead.status == LeadStatus.ASSIGNED


def test_a_rep_cannot_act_on_another_reps_lead_or_task(rep_client, source, teammate, other_rep):
    theirs = make_lead(source, assigned_to=teammate)
    far = make_lead(source, assigned_to=other_rep)
    task = steps.add_task(far, by=SYSTEM, kind="call", due_at=NOW, owner=other_rep)

    answers = [
        rep_client.post(
            f"/sales/my-day/leads/{theirs.pk}/call/", {f"lead-{theirs.pk}-call-outcome": "reached"}
        ),
        rep_client.post(
            f"/sales/my-day/leads/{far.pk}/status/", {f"lead-{far.pk}-move-to": "contacted"}
        ),
        rep_client.post(
            f"/sales/my-day/leads/{far.pk}/next-step/",
            {f"lead-{far.pk}-step-kind": "call", f"lead-{far.pk}-step-due_at": "2026-11-05T10:00"},
        ),
        rep_client.post(f"/sales/my-day/tasks/{task.pk}/done/"),
        rep_client.post(
            f"/sales/my-day/tasks/{task.pk}/snooze/",
            {f"task-{task.pk}-snooze-when": "hour", f"task-{task.pk}-snooze-reason": "x"},
        ),
    ]

    task.refresh_from_db()
    far.refresh_from_db()
    assert [a.status_code for a in answers] == [404] * 5
    assert Activity.objects.filter(lead__in=[theirs, far], kind=ActivityKind.CALL).count() == 0
    assert (task.is_open, task.due_at, far.status) == (True, NOW, LeadStatus.ASSIGNED)
    assert Task.objects.filter(lead=far).count() == 1


def test_a_task_of_another_lead_cannot_ride_along_on_a_call(rep_client, lead, source, rep):
    other = make_lead(source, assigned_to=rep)
    foreign = steps.add_task(other, by=SYSTEM, kind="call", due_at=NOW, owner=rep)

    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/call/",
        {"task": foreign.pk, f"task-{foreign.pk}-call-outcome": "reached"},
    )

    assert answer.status_code == 404
    assert _calls(lead) == []


def test_a_partner_cannot_post_to_my_day(logged_in_client, partner_user, lead):
    answer = logged_in_client(partner_user).post(
        f"/sales/my-day/leads/{lead.pk}/call/", {f"lead-{lead.pk}-call-outcome": "reached"}
    )

    assert answer.status_code == 403
    assert _calls(lead) == []


def test_a_hostile_name_stays_escaped_in_the_row_an_action_returns(rep_client, source, rep):
    hostile = "<svg onload=alert(1)>"
    lead = make_lead(source, assigned_to=rep, first_name=hostile)

    answer = rep_client.post(
        f"/sales/my-day/leads/{lead.pk}/call/",
        {f"lead-{lead.pk}-call-outcome": "no_answer"},
        headers=HTMX,
    )

    html = answer.content.decode()
    assert "<svg onload" not in html
    assert "&lt;svg onload=alert(1)&gt;" in html


def test_the_list_draws_no_forms_and_each_is_fetched_when_opened(rep_client, lead, task):
    page = rep_client.get("/sales/my-day/").content.decode()
    slot = f"/sales/my-day/leads/{lead.pk}/forms/call/?task={task.pk}"
    assert f'hx-get="{slot}"' in page
    assert f"task-{task.pk}-call-outcome" not in page  # no form drawn yet

    fragment = rep_client.get(slot, headers=HTMX)
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<form class="day-form"')
    assert f'name="task-{task.pk}-call-outcome" value="reached"' in html
    assert f'name="task" value="{task.pk}"' in html

    # Without JavaScript the same address is the row on its own page, with the form open.
    page = rep_client.get(slot).content.decode()
    assert "<html" in page
    assert '<details class="day-action" open>' in page
    assert f"task-{task.pk}-call-outcome" in page


def test_forms_of_other_reps_leads_and_unknown_actions_are_not_found(
    rep_client, lead, source, other_rep
):
    theirs = make_lead(source, assigned_to=other_rep)
    assert rep_client.get(f"/sales/my-day/leads/{theirs.pk}/forms/call/").status_code == 404
    assert rep_client.get(f"/sales/my-day/leads/{lead.pk}/forms/delete/").status_code == 404
    assert rep_client.get(f"/sales/my-day/leads/{lead.pk}/forms/move/").status_code == 200
