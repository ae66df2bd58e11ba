"""The follow-up panel on the lead page: the first-contact clock in the viewer's zone, next steps,
logging calls and meetings, quotes, won and lost, through real views (HTMX and plain posts).
Only those who may see the lead reach it; partners get only contact logging."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leadloop.accounts.models import Role
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.leads.services.sources import get_or_create_lost_reason
from leadloop.sales.models import ClockState, FirstContactClock, Quote, QuoteState, Task
from leadloop.sales.services import clocks, quotes, rules, steps, sweep
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
HX = {"HTTP_HX_REQUEST": "true"}
XSS = '<script>alert("x")</script>'


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _soon(days: int = 30) -> dt.datetime:
    """A due time a few weeks ahead (a step may be planned at most three years out)."""
    day = timezone.now().astimezone(AMS) + dt.timedelta(days=days)
    return day.replace(hour=9, minute=0, second=0, microsecond=0)


def _typed(at: dt.datetime) -> str:
    """As a datetime-local input sends it."""
    return at.astimezone(AMS).strftime("%Y-%m-%dT%H:%M")


def _lead(source, owner, **fields):
    fields = {"email": "ann@example.nl", "phone": "+31612345678", **fields}
    lead = make_lead(source, assigned_to=owner, **fields)
    clocks.follow([lead.pk])
    return Lead.objects.get(pk=lead.pk)


def _page(client, lead):
    return client.get(reverse("leads:lead-detail", kwargs={"lead_id": lead.pk}))


def _url(name, lead, **ids):
    return reverse(f"sales:{name}", kwargs={"lead_id": lead.pk, **ids})


# --- The clock ---------------------------------------------------------------------------------


def test_the_clock_shows_business_time_left_and_the_deadline_in_the_viewers_zone(
    logged_in_client, source, team
):
    rep = make_user(Role.SALES_REP, team=team, time_zone="Europe/London")
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = _lead(source, rep)

    with time_machine.travel(ams(2026, 11, 3, 12, 30), tick=False):
        page = _page(logged_in_client(rep), lead)

    assert page.status_code == 200
    assert "6 h 30 min of business time left" in page.text
    # Due Wednesday 10:00 in Amsterdam is 09:00 in London.
    assert "Wed 4 Nov 2026, 09:00" in page.text
    assert 'id="follow-up-panel"' in page.text


def test_an_overdue_clock_says_by_how_much_and_shows_its_history(logged_in_client, source, rep):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = _lead(source, rep)
    with time_machine.travel(ams(2026, 11, 4, 10, 1), tick=False):
        sweep.check()

    with time_machine.travel(ams(2026, 11, 4, 11, 15), tick=False):
        page = _page(logged_in_client(rep), lead)

    assert "Overdue by 1 h 15 min of business time" in page.text
    assert "fu-clock--late" in page.text
    assert "Clock started" in page.text
    assert "Time ran out" in page.text


def test_a_met_clock_shows_when_it_ended(logged_in_client, source, rep):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = _lead(source, rep)
    client = logged_in_client(rep)

    with time_machine.travel(ams(2026, 11, 3, 11, 0), tick=False):
        client.post(_url("lead-call", lead), {"call-outcome": "reached"})
        page = _page(client, lead)

    assert FirstContactClock.objects.get(pk=lead.pk).state == ClockState.MET
    assert "Contacted in time" in page.text
    assert "Tue 3 Nov 2026, 11:00" in page.text


# --- Contact -----------------------------------------------------------------------------------


def test_a_call_that_reached_the_person_moves_the_lead_and_reloads_the_lead_page(
    logged_in_client, source, rep
):
    lead = _lead(source, rep)

    on_lead_page = {"HTTP_HX_CURRENT_URL": f"http://testserver/leads/{lead.pk}/", **HX}

    response = logged_in_client(rep).post(
        _url("lead-call", lead),
        {"call-outcome": "reached", "call-duration_minutes": "7", "call-note": "Wants a demo"},
        **on_lead_page,
    )

    assert response.status_code == 200
    location = json.loads(response["HX-Location"])
    assert location == {
        "path": f"/leads/{lead.pk}/",
        "target": "#lead-detail",
        "swap": "outerHTML",
    }
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    call = Activity.objects.get(lead=lead, kind=ActivityKind.CALL)
    assert call.message == "Wants a demo"
    assert call.data == {"outcome": "reached", "duration_seconds": 420}


def test_a_call_nobody_answered_re_renders_only_the_panel(logged_in_client, source, rep):
    lead = _lead(source, rep)

    response = logged_in_client(rep).post(
        _url("lead-call", lead), {"call-outcome": "no_answer"}, **HX
    )

    assert response.status_code == 200
    assert "HX-Location" not in response
    assert response.text.lstrip().startswith('<section class="card fu" id="follow-up-panel"')
    assert "Call logged." in response.text
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED
    assert lead.last_contacted_at is None


def test_without_javascript_a_call_redirects_to_the_lead_page(logged_in_client, source, rep):
    lead = _lead(source, rep)
    client = logged_in_client(rep)

    response = client.post(_url("lead-call", lead), {"call-outcome": "voicemail"})

    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert "Call logged." in client.get(response["Location"]).text


def test_a_call_back_without_a_time_is_shown_in_the_form(logged_in_client, source, rep):
    lead = _lead(source, rep)

    response = logged_in_client(rep).post(
        _url("lead-call", lead), {"call-outcome": "callback"}, **HX
    )

    assert response.status_code == 422
    assert "Say when to call back." in response.text
    assert "Required for a call-back." in response.text
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 0


def test_a_call_back_plans_the_call_as_a_next_step(logged_in_client, source, rep):
    lead = _lead(source, rep)

    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        logged_in_client(rep).post(
            _url("lead-call", lead),
            {"call-outcome": "callback", "call-callback_at": "2026-11-05T14:30"},
        )

    task = Task.objects.get(lead=lead)
    assert (task.kind, task.title, task.owner_id) == ("call", "Call back", rep.pk)
    assert task.due_at == ams(2026, 11, 5, 14, 30)


def test_a_meeting_is_logged_and_counts_as_contact(logged_in_client, source, rep):
    lead = _lead(source, rep)

    response = logged_in_client(rep).post(
        _url("lead-meeting", lead), {"meeting-note": "Visited the office"}
    )

    assert response.status_code == 302
    assert Activity.objects.get(lead=lead, kind=ActivityKind.MEETING).message == (
        "Visited the office"
    )
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED


def test_the_panel_offers_tel_and_mailto_links(logged_in_client, source, rep):
    lead = _lead(source, rep, phone="06 1234 5678")

    panel = logged_in_client(rep).get(_url("lead-panel", lead), **HX).text

    assert 'href="tel:+31612345678"' in panel
    assert 'href="mailto:ann@example.nl"' in panel


# --- Next steps --------------------------------------------------------------------------------


def test_a_lead_being_worked_without_an_open_task_is_flagged(logged_in_client, source, rep):
    lead = _lead(source, rep)
    client = logged_in_client(rep)
    client.post(_url("lead-call", lead), {"call-outcome": "reached"})

    flagged = _page(client, lead).text
    client.post(
        _url("lead-task-add", lead),
        {"task-kind": "email", "task-title": "Send the brochure", "task-due_at": _typed(_soon())},
    )
    planned = _page(client, lead).text

    assert "No next step: plan one" in flagged
    assert "No next step: plan one" not in planned
    assert "Send the brochure" in planned
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at == _soon()


def test_a_task_is_done_snoozed_rescheduled_or_cancelled_with_a_reason(
    logged_in_client, source, rep
):
    lead = _lead(source, rep)
    client = logged_in_client(rep)
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        first = steps.add_task(lead, by=rep, kind="call", due_at=ams(2026, 11, 3, 15, 0))
        second = steps.add_task(lead, by=rep, kind="email", due_at=ams(2026, 11, 4, 9, 0))
        third = steps.add_task(lead, by=rep, kind="other", due_at=ams(2026, 11, 5, 9, 0))

        snoozed = client.post(
            _url("lead-task-snooze", lead, task_id=first.pk),
            {f"snooze-{first.pk}-until": "1h", f"snooze-{first.pk}-reason": "In a meeting"},
            **HX,
        )
        moved = client.post(
            _url("lead-task-reschedule", lead, task_id=second.pk),
            {
                f"reschedule-{second.pk}-due_at": "2026-11-10T11:00",
                f"reschedule-{second.pk}-reason": "Customer on holiday",
            },
            **HX,
        )
        cancelled = client.post(
            _url("lead-task-cancel", lead, task_id=third.pk),
            {f"cancel-{third.pk}-reason": "Not needed"},
            **HX,
        )
        done = client.post(_url("lead-task-done", lead, task_id=first.pk), **HX)

    assert [r.status_code for r in (snoozed, moved, cancelled, done)] == [200, 200, 200, 200]
    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert first.snoozes == 1
    assert first.history[0]["reason"] == "In a meeting"
    assert dt.datetime.fromisoformat(first.history[0]["new"]) == ams(2026, 11, 3, 16, 0)
    assert first.done_at == ams(2026, 11, 3, 10, 0)
    assert (second.due_at, second.history[0]["reason"]) == (
        ams(2026, 11, 10, 11, 0),
        "Customer on holiday",
    )
    assert third.cancelled_at is not None
    assert third.history[0]["reason"] == "Not needed"
    assert "Step done." in done.text


def test_a_move_without_a_reason_is_refused_in_the_form(logged_in_client, source, rep):
    lead = _lead(source, rep)
    task = steps.add_task(lead, by=rep, kind="call", due_at=_soon())

    response = logged_in_client(rep).post(
        _url("lead-task-reschedule", lead, task_id=task.pk),
        {f"reschedule-{task.pk}-due_at": _typed(_soon(31)), f"reschedule-{task.pk}-reason": ""},
        **HX,
    )

    assert response.status_code == 422
    assert "This field is required." in response.text
    task.refresh_from_db()
    assert task.due_at == _soon()


def test_a_manager_gives_a_step_to_a_rep_of_the_team(logged_in_client, source, manager, rep):
    lead = _lead(source, rep)

    logged_in_client(manager).post(
        _url("lead-task-add", lead),
        {"task-kind": "call", "task-due_at": _typed(_soon()), "task-owner": str(rep.pk)},
    )

    assert Task.objects.get(lead=lead).owner_id == rep.pk


# --- Quotes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "detail", "field"),
    [
        ("-250", "The amount must be more than zero.", "Not above zero."),
        ("1000000000000", "That amount is too large to be a real order.", "At most 1,000,000,000."),
        ("lots", "Give the amount as a number.", "Not a number."),
    ],
)
def test_a_quote_with_a_bad_amount_is_refused_with_a_clear_message(
    logged_in_client, source, rep, amount, detail, field
):
    lead = _lead(source, rep)

    response = logged_in_client(rep).post(
        _url("lead-quote-add", lead), {"quote-amount": amount, "quote-currency": "EUR"}, **HX
    )

    assert response.status_code == 422
    assert detail in response.text
    assert field in response.text
    assert Quote.objects.filter(lead=lead).count() == 0


def test_a_dollar_quote_is_shown_in_dollars_and_never_added_to_euros(logged_in_client, source, rep):
    lead = _lead(source, rep)
    client = logged_in_client(rep)
    client.post(_url("lead-quote-add", lead), {"quote-amount": "500", "quote-currency": "EUR"})
    client.post(
        _url("lead-quote-add", lead),
        {"quote-amount": "1000", "quote-currency": "usd", "quote-probability": "40"},
    )

    panel = client.get(_url("lead-panel", lead), **HX).text

    assert "USD 1,000.00" in panel
    assert "USD 400.00" in panel  # weighted, in the quote's own currency
    assert "EUR 500.00" in panel
    assert "1,500.00" not in panel
    assert "EUR 1,000.00" not in panel
    assert Lead.objects.get(pk=lead.pk).currency == "USD"


def test_sending_a_quote_moves_the_lead_to_quoted_and_plans_a_repeating_reminder(
    logged_in_client, source, rep
):
    lead = _lead(source, rep)
    quote = quotes.add_quote(lead, by=rep, amount="2500.00")

    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        response = logged_in_client(rep).post(
            _url("lead-quote-send", lead, quote_id=quote.pk), **HX
        )

    # Sent from the panel's own page, not the lead page: the browser goes to the lead page.
    assert response["HX-Redirect"] == f"/leads/{lead.pk}/"
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUOTED
    assert Quote.objects.get(pk=quote.pk).state == QuoteState.SENT
    reminder = Task.objects.get(lead=lead)
    assert (reminder.kind, reminder.repeat_days, reminder.quote_id) == ("call", 3, quote.pk)
    assert reminder.due_at == ams(2026, 11, 6, 10, 0)


def test_a_quote_is_edited_and_an_older_one_made_current(logged_in_client, source, rep):
    lead = _lead(source, rep)
    old = quotes.add_quote(lead, by=rep, amount="100.00")
    quotes.add_quote(lead, by=rep, amount="200.00")
    client = logged_in_client(rep)

    edited = client.post(
        _url("lead-quote-edit", lead, quote_id=old.pk),
        {f"quote-{old.pk}-amount": "150.00", f"quote-{old.pk}-currency": "EUR",
         f"quote-{old.pk}-probability": "60"},
        **HX,
    )  # fmt: skip
    current = client.post(_url("lead-quote-current", lead, quote_id=old.pk), **HX)

    assert (edited.status_code, current.status_code) == (200, 200)
    old.refresh_from_db()
    assert (old.amount, old.probability, old.is_current) == (150, 60, True)
    lead.refresh_from_db()
    assert (lead.potential_revenue, lead.probability) == (150, 60)


# --- Won and lost ------------------------------------------------------------------------------


def test_won_records_the_order_value_and_date(logged_in_client, source, rep):
    lead = _lead(source, rep)
    quotes.add_quote(lead, by=rep, amount="900.00")
    client = logged_in_client(rep)
    client.post(_url("lead-call", lead), {"call-outcome": "reached"})

    response = client.post(
        _url("lead-won", lead), {"won-order_value": "1250.50", "won-won_on": "2026-11-02"}
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.order_value) == (LeadStatus.WON, 1250.50)
    assert Quote.objects.get(lead=lead).state == QuoteState.ACCEPTED


def test_lost_needs_a_reason_and_keeps_the_competitor(logged_in_client, source, rep):
    lead = _lead(source, rep)
    reason = get_or_create_lost_reason("Price")
    client = logged_in_client(rep)

    refused = client.post(_url("lead-lost", lead), {"lost-competitor": "Acme"}, **HX)
    accepted = client.post(
        _url("lead-lost", lead), {"lost-lost_reason": str(reason.pk), "lost-competitor": "Acme"}
    )

    assert refused.status_code == 422
    assert accepted.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason_id, lead.competitor) == (
        LeadStatus.LOST,
        reason.pk,
        "Acme",
    )


# --- Who sees what -----------------------------------------------------------------------------


def test_a_rep_cannot_work_another_reps_lead(logged_in_client, source, rep, other_rep):
    theirs = _lead(source, other_rep)
    task = steps.add_task(theirs, by=other_rep, kind="call", due_at=_soon())
    quote = quotes.add_quote(theirs, by=other_rep, amount="100.00")
    client = logged_in_client(rep)
    before = Activity.objects.filter(lead=theirs).count()

    answers = [
        client.get(_url("lead-panel", theirs)).status_code,
        client.post(_url("lead-call", theirs), {"call-outcome": "reached"}).status_code,
        client.post(_url("lead-meeting", theirs), {"meeting-note": "x"}).status_code,
        client.post(
            _url("lead-task-add", theirs), {"task-kind": "call", "task-due_at": _typed(_soon())}
        ).status_code,
        client.post(_url("lead-task-done", theirs, task_id=task.pk)).status_code,
        client.post(
            _url("lead-quote-add", theirs), {"quote-amount": "1", "quote-currency": "EUR"}
        ).status_code,
        client.post(_url("lead-quote-send", theirs, quote_id=quote.pk)).status_code,
        client.post(_url("lead-won", theirs), {}).status_code,
    ]

    assert answers == [404] * 8
    assert Activity.objects.filter(lead=theirs).count() == before
    assert Task.objects.get(pk=task.pk).done_at is None
    assert Quote.objects.filter(lead=theirs).count() == 1
    assert Lead.objects.get(pk=theirs.pk).status == LeadStatus.ASSIGNED


def test_a_task_of_another_lead_is_not_found_through_my_lead(logged_in_client, source, rep):
    mine = _lead(source, rep)
    other = _lead(source, rep)
    task = steps.add_task(other, by=rep, kind="call", due_at=_soon())

    response = logged_in_client(rep).post(_url("lead-task-done", mine, task_id=task.pk))

    assert response.status_code == 404
    assert Task.objects.get(pk=task.pk).done_at is None


def test_a_partner_logs_calls_but_sees_none_of_the_sales_parts(
    logged_in_client, source, partner_user, rep
):
    lead = make_lead(source, partner=partner_user.partner, email="ann@example.nl")
    quotes.add_quote(lead, by=rep, amount="777.00", title="Secret deal")
    client = logged_in_client(partner_user)

    page = _page(client, lead).text
    quote = client.post(
        _url("lead-quote-add", lead), {"quote-amount": "1", "quote-currency": "EUR"}
    )
    task = client.post(
        _url("lead-task-add", lead), {"task-kind": "call", "task-due_at": _typed(_soon())}
    )
    call = client.post(_url("lead-call", lead), {"call-outcome": "no_answer"})

    assert "Log a call" in page
    assert 'value="callback"' not in page
    for hidden in ('id="fu-clock"', "Next steps", "Add a quote", "Secret deal", "Send an e-mail"):
        assert hidden not in page
    assert (quote.status_code, task.status_code, call.status_code) == (403, 403, 302)
    assert Quote.objects.filter(lead=lead).count() == 1
    assert Task.objects.filter(lead=lead).count() == 0
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 1


def test_marketing_reads_the_panel_without_its_actions(logged_in_client, source, rep, marketing):
    lead = _lead(source, rep)
    steps.add_task(lead, by=rep, kind="call", due_at=_soon(), title="Ring Ann")

    page = _page(logged_in_client(marketing), lead).text

    assert "Ring Ann" in page
    assert "First contact" in page
    for action in ("Add a next step", "Log a call", "Add a quote", "Send an e-mail"):
        assert action not in page


def test_hostile_text_in_notes_titles_and_quotes_is_escaped(logged_in_client, source, rep):
    lead = _lead(source, rep)
    client = logged_in_client(rep)
    client.post(_url("lead-call", lead), {"call-outcome": "no_answer", "call-note": XSS})
    client.post(
        _url("lead-task-add", lead),
        {"task-kind": "call", "task-title": XSS, "task-due_at": _typed(_soon())},
    )
    client.post(
        _url("lead-quote-add", lead),
        {"quote-amount": "10", "quote-currency": "EUR", "quote-title": XSS, "quote-note": XSS},
    )

    page = _page(client, lead).text

    assert XSS not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert Quote.objects.get(lead=lead).title == XSS


def test_the_panel_costs_the_same_queries_for_many_steps_and_quotes(logged_in_client, source, rep):
    lead = _lead(source, rep)
    client = logged_in_client(rep)
    steps.add_task(lead, by=rep, kind="call", due_at=_soon())
    quotes.add_quote(lead, by=rep, amount="10.00")
    client.get(_url("lead-panel", lead), **HX)  # the session and the cached defaults
    with CaptureQueriesContext(connection) as few:
        client.get(_url("lead-panel", lead), **HX)
    for n in range(5):
        steps.add_task(lead, by=rep, kind="email", due_at=_soon(n + 2))
        quotes.add_quote(lead, by=rep, amount=f"{n + 20}.00", currency="USD")

    with CaptureQueriesContext(connection) as many:
        response = client.get(_url("lead-panel", lead), **HX)

    assert response.text.count('<li class="fu-item') == 12
    assert len(many.captured_queries) == len(few.captured_queries)
