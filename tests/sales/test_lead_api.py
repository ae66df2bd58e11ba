"""/api/v1/leads/{id}/tasks, quotes, calls, meetings, won, lost and sla: the lead is resolved
through get_lead_for first (404 for a lead not visible), a task or quote only on its own lead,
amounts as strings in their own currency, errors as problem details with per-field errors."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from leadloop.accounts.models import AuditEvent
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.leads.services.sources import get_or_create_lost_reason
from leadloop.sales.models import EmailTemplate, Quote, Task
from leadloop.sales.services import clocks, quotes, rules, steps, sweep
from leadloop.sales.services import templates as email_templates
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


def _soon(days: int = 30) -> dt.datetime:
    day = timezone.now().astimezone(AMS) + dt.timedelta(days=days)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def _lead(source, owner, **fields):
    lead = make_lead(source, assigned_to=owner, email="ann@example.nl", **fields)
    clocks.follow([lead.pk])
    return Lead.objects.get(pk=lead.pk)


def _post(client, path, body=None):
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def _patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def _errors(response) -> dict[str, list[str]]:
    """A problem document's field errors, by field."""
    found: dict[str, list[str]] = {}
    for error in response.json()["errors"]:
        found.setdefault(error["field"], []).append(error["detail"])
    return found


def _base(lead):
    return f"/api/v1/leads/{lead.pk}"


# --- Tasks -------------------------------------------------------------------------------------


def test_a_rep_plans_and_lists_the_next_steps_of_their_lead(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)

    created = _post(
        client,
        f"{_base(lead)}/tasks",
        {"kind": "call", "due_at": _soon().isoformat(), "title": "Ring Ann"},
    )
    listed = client.get(f"{_base(lead)}/tasks")

    assert created.status_code == 201
    task = created.json()
    assert (task["kind"], task["title"], task["state"], task["owner"]) == (
        "call",
        "Ring Ann",
        "open",
        {"id": rep.pk, "name": rep.display_name},
    )
    assert dt.datetime.fromisoformat(task["due_at"]) == _soon()
    assert [t["id"] for t in listed.json()] == [task["id"]]
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at == _soon()


def test_a_time_without_an_offset_is_read_in_the_callers_zone(api_client_for, source, rep):
    lead = _lead(source, rep)
    local = _soon().replace(tzinfo=None)

    created = _post(
        api_client_for(rep), f"{_base(lead)}/tasks", {"kind": "call", "due_at": local.isoformat()}
    )

    assert created.status_code == 201
    assert Task.objects.get(lead=lead).due_at == _soon()


def test_a_step_is_snoozed_rescheduled_done_and_cancelled_through_the_api(
    api_client_for, source, rep
):
    lead = _lead(source, rep)
    client = api_client_for(rep)
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        task = steps.add_task(lead, by=rep, kind="call", due_at=ams(2026, 11, 3, 15, 0))
        other = steps.add_task(lead, by=rep, kind="email", due_at=ams(2026, 11, 4, 9, 0))
        base = f"{_base(lead)}/tasks/{task.pk}"

        snoozed = _post(
            client, f"{base}/snooze", {"due_at": "2026-11-03T16:00:00+01:00", "reason": "Busy"}
        )
        refused = _post(client, f"{base}/reschedule", {"due_at": "2026-11-05T09:00:00+01:00"})
        moved = _post(
            client,
            f"{base}/reschedule",
            {"due_at": "2026-11-05T09:00:00+01:00", "reason": "Asked to"},
        )
        done = _post(client, f"{base}/done", {"outcome": "Spoke to Ann"})
        again = _post(client, f"{base}/done")
        # As `curl -X POST` sends it: no body at all.
        cancelled = client.generic("POST", f"{_base(lead)}/tasks/{other.pk}/cancel")
        everything = client.get(f"{_base(lead)}/tasks?state=all")

    assert (snoozed.status_code, snoozed.json()["snoozes"]) == (200, 1)
    assert refused.status_code == 422
    assert list(_errors(refused)) == ["reason"]
    assert moved.json()["history"][-1]["reason"] == "Asked to"
    assert (done.status_code, done.json()["state"]) == (200, "done")
    assert done.json()["history"][-1]["reason"] == "Spoke to Ann"
    assert again.status_code == 409
    assert (cancelled.status_code, cancelled.json()["state"]) == (200, "cancelled")
    assert [t["state"] for t in everything.json()] == ["done", "cancelled"]  # latest due first
    assert client.get(f"{_base(lead)}/tasks").json() == []


def test_a_rep_cannot_give_a_step_to_someone_else(api_client_for, source, rep, teammate):
    lead = _lead(source, rep)

    response = _post(
        api_client_for(rep),
        f"{_base(lead)}/tasks",
        {"kind": "call", "due_at": _soon().isoformat(), "owner_id": teammate.pk},
    )

    assert response.status_code == 422
    assert list(_errors(response)) == ["owner_id"]
    assert Task.objects.filter(lead=lead).count() == 0


# --- Who may -----------------------------------------------------------------------------------


def test_a_rep_reads_and_changes_nothing_of_another_reps_lead(
    api_client_for, source, rep, other_rep
):
    theirs = _lead(source, other_rep)
    task = steps.add_task(theirs, by=other_rep, kind="call", due_at=_soon())
    quote = quotes.add_quote(theirs, by=other_rep, amount="100.00")
    client = api_client_for(rep)
    base = _base(theirs)
    activities = Activity.objects.filter(lead=theirs).count()

    answers = {
        "tasks": client.get(f"{base}/tasks").status_code,
        "quotes": client.get(f"{base}/quotes").status_code,
        "calls": client.get(f"{base}/calls").status_code,
        "sla": client.get(f"{base}/sla").status_code,
        "add task": _post(
            client, f"{base}/tasks", {"kind": "call", "due_at": _soon().isoformat()}
        ).status_code,
        "done": _post(client, f"{base}/tasks/{task.pk}/done").status_code,
        "log call": _post(client, f"{base}/calls", {"outcome": "reached"}).status_code,
        "meeting": _post(client, f"{base}/meetings", {"note": "x"}).status_code,
        "add quote": _post(client, f"{base}/quotes", {"amount": "5"}).status_code,
        "edit quote": _patch(client, f"{base}/quotes/{quote.pk}", {"amount": "1"}).status_code,
        "send quote": _post(client, f"{base}/quotes/{quote.pk}/send").status_code,
        "e-mail": _post(client, f"{base}/emails", {"subject": "x", "body": "y"}).status_code,
        "won": _post(client, f"{base}/won").status_code,
        "lost": _post(client, f"{base}/lost", {"lost_reason": "Price"}).status_code,
    }

    assert answers == dict.fromkeys(answers, 404)
    assert Activity.objects.filter(lead=theirs).count() == activities
    assert Task.objects.get(pk=task.pk).done_at is None
    assert list(Quote.objects.filter(lead=theirs).values_list("amount", "state")) == [
        (quote.amount, "draft")
    ]
    assert Lead.objects.get(pk=theirs.pk).status == LeadStatus.ASSIGNED


def test_a_task_or_quote_of_another_lead_is_not_found_through_this_one(api_client_for, source, rep):
    mine = _lead(source, rep)
    other = _lead(source, rep)
    task = steps.add_task(other, by=rep, kind="call", due_at=_soon())
    quote = quotes.add_quote(other, by=rep, amount="100.00")
    client = api_client_for(rep)

    answers = [
        _post(client, f"{_base(mine)}/tasks/{task.pk}/done").status_code,
        _patch(client, f"{_base(mine)}/quotes/{quote.pk}", {"amount": "1"}).status_code,
        _post(client, f"{_base(mine)}/quotes/{quote.pk}/current").status_code,
    ]

    assert answers == [404, 404, 404]
    assert Task.objects.get(pk=task.pk).done_at is None
    assert Quote.objects.get(pk=quote.pk).amount == 100


def test_a_manager_works_the_leads_of_the_team(api_client_for, source, manager, rep):
    lead = _lead(source, rep)

    response = _post(
        api_client_for(manager),
        f"{_base(lead)}/tasks",
        {"kind": "meeting", "due_at": _soon().isoformat(), "owner_id": rep.pk},
    )

    assert response.status_code == 201
    assert response.json()["owner"]["id"] == rep.pk


def test_a_partner_logs_calls_on_its_leads_and_reads_no_sales_parts(
    api_client_for, source, partner_user, other_partner_user
):
    lead = make_lead(source, partner=partner_user.partner, email="ann@example.nl")
    client = api_client_for(partner_user)

    logged = _post(client, f"{_base(lead)}/calls", {"outcome": "no_answer", "note": "Ringing"})
    calls = client.get(f"{_base(lead)}/calls")
    callback = _post(
        client,
        f"{_base(lead)}/calls",
        {"outcome": "callback", "callback_at": _soon().isoformat()},
    )
    tasks = client.get(f"{_base(lead)}/tasks")
    add_quote = _post(client, f"{_base(lead)}/quotes", {"amount": "5"})
    elsewhere = _post(
        api_client_for(other_partner_user), f"{_base(lead)}/calls", {"outcome": "reached"}
    )

    assert logged.status_code == 201
    assert [c["note"] for c in calls.json()] == ["Ringing"]
    assert callback.status_code == 422
    assert (tasks.status_code, add_quote.status_code, elsewhere.status_code) == (403, 403, 404)
    assert Task.objects.filter(lead=lead).count() == 0
    assert Quote.objects.filter(lead=lead).count() == 0
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 1


def test_marketing_reads_but_does_not_change(api_client_for, source, rep, marketing):
    lead = _lead(source, rep)
    client = api_client_for(marketing)

    read = client.get(f"{_base(lead)}/tasks")
    write = _post(client, f"{_base(lead)}/tasks", {"kind": "call", "due_at": _soon().isoformat()})

    assert (read.status_code, write.status_code) == (200, 403)
    assert write["Content-Type"] == "application/problem+json"


# --- Calls and meetings ------------------------------------------------------------------------


def test_a_call_that_reached_the_person_moves_the_lead_and_settles_the_clock(
    api_client_for, source, rep
):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = _lead(source, rep)
    client = api_client_for(rep)

    with time_machine.travel(ams(2026, 11, 3, 11, 30), tick=False):
        logged = _post(
            client,
            f"{_base(lead)}/calls",
            {"outcome": "reached", "duration_seconds": 300, "note": "Interested"},
        )
        sla = client.get(f"{_base(lead)}/sla").json()

    assert logged.status_code == 201
    assert {k: logged.json()[k] for k in ("outcome", "duration_seconds", "note", "by")} == {
        "outcome": "reached",
        "duration_seconds": 300,
        "note": "Interested",
        "by": rep.display_name,
    }
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED
    assert sla["clock"]["state"] == "met"
    assert [e["kind"] for e in sla["history"]] == ["started", "met"]


def test_a_call_with_a_bad_outcome_or_duration_names_the_field(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)

    outcome = _post(client, f"{_base(lead)}/calls", {"outcome": "maybe"})
    duration = _post(client, f"{_base(lead)}/calls", {"outcome": "reached", "duration_seconds": -5})
    nul = _post(client, f"{_base(lead)}/calls", {"outcome": "reached", "note": "a\x00b"})

    assert (outcome.status_code, list(_errors(outcome))) == (422, ["outcome"])
    assert (duration.status_code, list(_errors(duration))) == (422, ["duration_seconds"])
    assert (nul.status_code, list(_errors(nul))) == (422, ["note"])
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 0


def test_a_meeting_is_logged(api_client_for, source, rep):
    lead = _lead(source, rep)

    response = _post(api_client_for(rep), f"{_base(lead)}/meetings", {"note": "Demo given"})

    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["note"]) == ("meeting", "Demo given")
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED


# --- Quotes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "detail", "message"),
    [
        ("-100", "The amount must be more than zero.", "Not above zero."),
        (-100, "The amount must be more than zero.", "Not above zero."),
        ("0", "The amount must be more than zero.", "Not above zero."),
        ("1e15", "That amount is too large to be a real order.", "At most 1,000,000,000."),
        ("12.345", "Give the amount in cents at most.", "Two decimals at most."),
        ("NaN", "Give the amount as a number.", "Not a number."),
        ("twelve", "Give the amount as a number.", "Not a number."),
    ],
)
def test_a_bad_amount_is_refused_with_problem_details_naming_the_field(
    api_client_for, source, rep, amount, detail, message
):
    lead = _lead(source, rep)

    response = _post(api_client_for(rep), f"{_base(lead)}/quotes", {"amount": amount})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == detail
    assert _errors(response) == {"amount": [message]}
    assert Quote.objects.filter(lead=lead).count() == 0


def test_an_unknown_currency_is_refused(api_client_for, source, rep):
    lead = _lead(source, rep)

    response = _post(
        api_client_for(rep), f"{_base(lead)}/quotes", {"amount": "10", "currency": "XYZ"}
    )

    assert response.status_code == 422
    assert list(_errors(response)) == ["currency"]


def test_quotes_keep_their_own_currency_and_weighted_value(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)

    euro = _post(client, f"{_base(lead)}/quotes", {"amount": "500", "title": "Basic"})
    dollar = _post(
        client,
        f"{_base(lead)}/quotes",
        {"amount": 1000.5, "currency": "usd", "probability": 40, "expected_close_on": "2026-12-15"},
    )
    listed = client.get(f"{_base(lead)}/quotes").json()

    assert (euro.status_code, dollar.status_code) == (201, 201)
    assert [(q["amount"], q["currency"], q["weighted"], q["is_current"]) for q in listed] == [
        ("1000.50", "USD", "400.20", True),
        ("500.00", "EUR", "50.00", False),
    ]
    lead.refresh_from_db()
    assert (lead.potential_revenue, lead.currency, lead.probability) == (1000.5, "USD", 40)


def test_a_quote_is_changed_and_an_older_one_made_current(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)
    old = quotes.add_quote(lead, by=rep, amount="100.00")
    quotes.add_quote(lead, by=rep, amount="200.00")

    patched = _patch(client, f"{_base(lead)}/quotes/{old.pk}", {"probability": 80})
    bad = _patch(client, f"{_base(lead)}/quotes/{old.pk}", {"probability": 180})
    current = _post(client, f"{_base(lead)}/quotes/{old.pk}/current")

    assert (patched.json()["probability"], patched.json()["amount"]) == (80, "100.00")
    assert (bad.status_code, list(_errors(bad))) == (422, ["probability"])
    assert current.json()["is_current"] is True
    lead.refresh_from_db()
    assert (lead.potential_revenue, lead.probability) == (100, 80)


def test_sending_a_quote_moves_the_lead_to_quoted_with_a_repeating_reminder(
    api_client_for, source, rep
):
    lead = _lead(source, rep)
    quote = quotes.add_quote(lead, by=rep, amount="2500.00")

    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        sent = _post(api_client_for(rep), f"{_base(lead)}/quotes/{quote.pk}/send")

    assert (sent.status_code, sent.json()["state"]) == (200, "sent")
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUOTED
    reminder = Task.objects.get(lead=lead)
    assert (reminder.repeat_days, reminder.due_at) == (3, ams(2026, 11, 6, 10, 0))
    with time_machine.travel(ams(2026, 11, 6, 10, 5), tick=False):
        steps.complete_task(reminder, by=rep)
    again = Task.objects.get(lead=lead, done_at__isnull=True)
    assert (again.repeat_days, again.due_at) == (3, ams(2026, 11, 9, 10, 5))


# --- Won and lost ------------------------------------------------------------------------------


def test_won_through_the_api_records_the_order_value(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)
    _post(client, f"{_base(lead)}/calls", {"outcome": "reached"})
    quotes.add_quote(lead, by=rep, amount="900.00", currency="USD")

    won = _post(client, f"{_base(lead)}/won", {"won_on": "2026-11-20"})

    assert won.status_code == 200
    body = won.json()
    assert (body["status"], body["order_value"], body["currency"]) == ("won", "900.00", "USD")
    assert body["closed_at"] is not None
    assert Quote.objects.get(lead=lead).state == "accepted"
    assert (
        "Won on 2026-11-20."
        in Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGED).latest("id").message
    )


def test_won_with_a_negative_order_value_is_refused(api_client_for, source, rep):
    lead = _lead(source, rep)
    client = api_client_for(rep)
    _post(client, f"{_base(lead)}/calls", {"outcome": "reached"})

    response = _post(client, f"{_base(lead)}/won", {"order_value": "-5"})

    assert response.status_code == 422
    assert _errors(response) == {"order_value": ["Not above zero."]}
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED


def test_lost_through_the_api_needs_a_known_reason_and_keeps_the_competitor(
    api_client_for, source, rep
):
    lead = _lead(source, rep)
    get_or_create_lost_reason("Price")
    steps.add_task(lead, by=rep, kind="call", due_at=_soon())
    client = api_client_for(rep)

    unknown = _post(client, f"{_base(lead)}/lost", {"lost_reason": "Weather"})
    lost = _post(client, f"{_base(lead)}/lost", {"lost_reason": "price", "competitor": "Acme"})

    assert (unknown.status_code, list(_errors(unknown))) == (422, ["lost_reason"])
    assert lost.status_code == 200
    assert {k: lost.json()[k] for k in ("status", "lost_reason", "competitor")} == {
        "status": "lost",
        "lost_reason": "Price",
        "competitor": "Acme",
    }
    # A closed lead needs no next step: its open steps are cancelled.
    assert Task.objects.get(lead=lead).cancelled_at is not None


# --- The clock ---------------------------------------------------------------------------------


def test_the_sla_answers_business_minutes_left_and_overdue(api_client_for, source, rep):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = _lead(source, rep)
    client = api_client_for(rep)

    with time_machine.travel(ams(2026, 11, 3, 17, 0), tick=False):
        running = client.get(f"{_base(lead)}/sla").json()
    with time_machine.travel(ams(2026, 11, 4, 11, 0), tick=False):
        sweep.check()
        overdue = client.get(f"{_base(lead)}/sla").json()

    assert running["clock"]["business_minutes_left"] == 2 * 60
    assert running["clock"]["is_overdue"] is False
    assert dt.datetime.fromisoformat(running["clock"]["due_at"]) == ams(2026, 11, 4, 10, 0)
    assert overdue["clock"]["business_minutes_left"] == -60
    assert overdue["clock"]["is_overdue"] is True
    assert [e["kind"] for e in overdue["history"]] == ["started", "breached"]


def test_a_lead_that_never_reached_sales_has_no_clock(api_client_for, source, admin):
    lead = make_lead(source)

    response = api_client_for(admin).get(f"{_base(lead)}/sla")

    assert response.json() == {"clock": None, "history": []}


# --- E-mail templates --------------------------------------------------------------------------


def test_a_manager_writes_templates_and_reps_read_the_active_ones(api_client_for, manager, rep):
    boss = api_client_for(manager)
    created = _post(
        boss,
        "/api/v1/sales/email-templates",
        {"name": "Intro", "language": "nl", "subject": "Hallo {first_name}", "body": "Beste."},
    )
    _post(
        boss,
        "/api/v1/sales/email-templates",
        {"name": "Old", "language": "en", "subject": "Hi", "body": "Old.", "is_active": False},
    )
    patched = _patch(
        boss,
        f"/api/v1/sales/email-templates/{created.json()['id']}",
        {"subject": "Dag {full_name}"},
    )

    assert created.status_code == 201
    assert patched.json()["subject"] == "Dag {full_name}"
    assert [t["name"] for t in boss.get("/api/v1/sales/email-templates").json()] == ["Intro", "Old"]
    rep_view = api_client_for(rep).get("/api/v1/sales/email-templates")
    assert [t["name"] for t in rep_view.json()] == ["Intro"]
    assert (
        AuditEvent.objects.filter(action="setting_changed", target_type="email_template").count()
        == 3
    )


def test_a_rep_cannot_write_templates_and_an_unknown_placeholder_is_refused(
    api_client_for, manager, rep
):
    body = {"name": "Intro", "language": "en", "subject": "Hi {frist_name}", "body": "x"}

    by_rep = _post(api_client_for(rep), "/api/v1/sales/email-templates", body)
    typo = _post(api_client_for(manager), "/api/v1/sales/email-templates", body)
    template = email_templates.create_template(
        by=manager, name="Intro", language="en", subject="Hi", body="x"
    )
    patch_by_rep = _patch(
        api_client_for(rep), f"/api/v1/sales/email-templates/{template.pk}", {"is_active": False}
    )

    assert by_rep.status_code == 403
    assert typo.status_code == 422
    assert _errors(typo)["subject"] == [
        "Unknown placeholder {frist_name}; use {first_name}, {last_name}, {full_name}, "
        "{company}, {sender_name}."
    ]
    assert patch_by_rep.status_code == 403
    assert EmailTemplate.objects.get().is_active is True
