"""The seed's workflow run live on a controlled clock with a real SMTP server: brochure at once,
survey after 7 days; not opened within 7 days → disqualified (decided at the deadline, not
earlier); opened but not answered → telemarketing; a quote request → sales; a bounce →
disqualified; an unsubscribe mid-way → no more mail. The simulator, given the same scenario,
shows the same path."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.notifications.models import Notification
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage
from leadloop.nurture.mail.services import tracking
from leadloop.nurture.mail.services.tracking import Hit
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.models import Enrollment, EnrollmentState, EnrollmentStep
from leadloop.nurture.workflows.services import live
from tests.nurture.mail.test_bounces import _dsn
from tests.nurture.surveys.conftest import inputs, nurturing_lead
from tests.nurture.workflows.conftest import START, at, day, run

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"


def _enrol(source, **fields) -> Lead:
    with at(START):
        lead = nurturing_lead(source, email=f"{fields.pop('name', 'ann')}@example.com", **fields)
        live.enroll_on_trigger([lead.pk], on="nurturing")
    return lead


def _path(lead) -> list[tuple[str, str]]:
    return list(
        EnrollmentStep.objects.filter(enrollment__lead=lead)
        .order_by("id")
        .values_list("step", "outcome")
    )


def _enrollment(lead) -> Enrollment:
    return Enrollment.objects.get(lead=lead)


def _open(message: MarketingMessage, moment: dt.datetime, *, judged: bool = True) -> None:
    """A person opens the mail; the worker judges the hit a few seconds later (unless not yet)."""
    with at(moment):
        mail.record_open(message.key, Hit(ip="198.51.100.7", user_agent=BROWSER, at=moment))
    if judged:
        with at(moment + dt.timedelta(seconds=5)):
            tracking.process_hits()


def _survey_mail(lead) -> MarketingMessage:
    return MarketingMessage.objects.get(lead=lead, subject__startswith="Three questions")


def test_not_opened_within_seven_days_is_decided_at_the_deadline_never_earlier(
    inbox, source, seed_workflow
):
    lead = _enrol(source)

    run(START)
    run(day(6.99))
    assert [m["Subject"] for m in inbox.messages] == [f"Your brochure, {lead.first_name}"]
    run(day(7))
    run(day(13.99))
    waiting = _enrollment(lead)
    run(day(14))
    lead.refresh_from_db()

    assert len(inbox.messages) == 2
    assert inbox.messages[1]["Subject"] == f"Three questions, {lead.first_name}"
    assert (waiting.state, waiting.step) == (EnrollmentState.ACTIVE, "answer")
    assert waiting.due_at == day(14)
    assert lead.status == LeadStatus.DISQUALIFIED
    assert _path(lead) == [
        ("brochure", "queued"),
        ("week", "waited"),
        ("survey", "queued"),
        ("answer", "no"),
        ("bounced", "no"),
        ("opened", "no"),
        ("discard", "disqualified"),
    ]
    done = _enrollment(lead)
    assert (done.state, done.outcome) == (EnrollmentState.FINISHED, "disqualify")
    assert list(
        Activity.objects.filter(lead=lead, kind=ActivityKind.WORKFLOW)
        .order_by("id")
        .values_list("message", flat=True)
    ) == ["Entered workflow “Brochure follow-up”", "Finished workflow “Brochure follow-up”"]


def test_opened_but_not_answered_goes_to_telemarketing(inbox, source, seed_workflow, marketing):
    lead = _enrol(source)
    run(START)
    run(day(7))
    _open(_survey_mail(lead), day(9))
    run(day(14))
    lead.refresh_from_db()

    assert _path(lead)[3:] == [
        ("answer", "no"),
        ("bounced", "no"),
        ("opened", "yes"),
        ("call", "notified"),
        ("answered", "finished"),
    ]
    assert lead.status == LeadStatus.NURTURING
    assert Notification.objects.filter(user=marketing, lead_id=lead.pk).count() == 1


def test_an_open_not_judged_yet_at_the_deadline_is_waited_for_not_taken_as_no(
    inbox, source, seed_workflow
):
    lead = _enrol(source)
    run(START)
    run(day(7))
    _open(_survey_mail(lead), day(13.99), judged=False)
    run(day(14))
    undecided = _enrollment(lead)
    with at(day(14) + dt.timedelta(seconds=30)):
        tracking.process_hits()
    run(day(14) + dt.timedelta(minutes=1))

    assert (undecided.step, undecided.due_at) == ("opened", day(14) + dt.timedelta(minutes=1))
    assert ("opened", "no") not in _path(lead)
    assert ("opened", "yes") in _path(lead)


def test_an_open_of_the_brochure_alone_does_not_count_as_opening_the_survey(
    inbox, source, seed_workflow
):
    lead = _enrol(source)
    run(START)
    brochure = MarketingMessage.objects.get(lead=lead, subject__startswith="Your brochure")
    run(day(7))
    _open(brochure, day(8))
    run(day(14))

    assert ("opened", "no") in _path(lead)


def test_a_quote_request_makes_the_lead_sales_ready_and_ends_its_workflow_at_once(
    inbox, source, seed_workflow, survey, django_capture_on_commit_callbacks
):
    lead = _enrol(source)
    run(START)
    run(day(7))
    names = inputs(survey)
    with at(day(8)), django_capture_on_commit_callbacks(execute=True):
        answered = surveys.submit(
            lead,
            survey,
            posted={
                names["Do you have a budget?"]: "yes",
                names["What would you like?"]: ["a-quote"],
            },
            raw="raw",
            content_type="text/plain",
        )
    nudged = _enrollment(lead)
    run(day(8) + dt.timedelta(minutes=1))

    assert answered.outcome == "applied"
    assert nudged.due_at == day(8)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.SALES_READY
    done = _enrollment(lead)
    assert (done.state, done.outcome) == (EnrollmentState.EXITED, LeadStatus.SALES_READY)
    assert _path(lead)[-1] == ("answer", "left")


def test_a_bounced_survey_mail_disqualifies_the_lead(inbox, source, seed_workflow):
    lead = _enrol(source)
    run(START)
    run(day(7))
    with at(day(7.1)):
        mail.record_bounce(_dsn(_survey_mail(lead).message_id, status="5.1.1",
                                recipient=lead.email))  # fmt: skip
    run(day(14))
    lead.refresh_from_db()

    assert _path(lead)[3:] == [("answer", "no"), ("bounced", "yes"), ("discard", "disqualified")]
    assert lead.status == LeadStatus.DISQUALIFIED


def test_a_lead_who_unsubscribes_mid_workflow_gets_no_further_mail(inbox, source, seed_workflow):
    lead = _enrol(source)
    run(START)
    brochure = MarketingMessage.objects.get(lead=lead)
    with at(day(3)):
        mail.unsubscribe(brochure, how="link")
    run(day(7))
    run(day(14))

    assert len(inbox.messages) == 1
    assert _path(lead)[2] == ("survey", "skipped")
    assert MarketingMessage.objects.filter(lead=lead).count() == 1


def test_a_lead_stays_on_the_version_it_started(inbox, source, seed_workflow, marketing):
    first = _enrol(source, name="first")
    with at(START):
        v1 = seed_workflow.active_version
        edited = {
            "trigger": {"on": "nurturing"},
            "steps": [
                {"id": "brochure", "type": "send_email", "template": "Brochure"},
                {"id": "short", "type": "wait", "days": 2},
                {"id": "survey", "type": "send_survey", "template": "Survey invitation"},
            ],
        }
        v2 = workflows.save_definition(seed_workflow, by=marketing, definition=edited)
        workflows.activate(seed_workflow, by=marketing)
    second = _enrol(source, name="second")
    run(START)
    run(day(2))

    assert (v1.number, v2.number) == (1, 2)
    assert _enrollment(first).version_id == v1.pk
    assert _enrollment(second).version_id == v2.pk
    assert MarketingMessage.objects.filter(lead=first).count() == 1
    assert MarketingMessage.objects.filter(lead=second).count() == 2
    # v1 is frozen: editing again makes v3, it does not change v1.
    with at(START):
        v3 = workflows.save_definition(seed_workflow, by=marketing, definition=edited)
    assert v3.number == 3


def test_a_failing_step_is_retried_with_back_off_and_then_stops_as_failed(
    inbox, source, seed_workflow, templates, marketing
):
    brochure, _invitation = templates
    lead = _enrol(source)
    with at(START):
        mail.update_template(brochure, by=marketing, is_active=False)
    moments = []
    moment = START
    for _attempt in range(live.MAX_ATTEMPTS):
        run(moment)
        enrollment = _enrollment(lead)
        moments.append(enrollment.due_at)
        moment = enrollment.due_at or moment

    failed = _enrollment(lead)
    assert failed.state == EnrollmentState.FAILED
    assert "Brochure" in failed.error
    assert all(a < b for a, b in itertools.pairwise(moments[:-1]))
    assert _path(lead) == [("brochure", "failed")]
    assert not inbox.messages


def test_the_simulator_shows_the_path_the_live_engine_takes(
    inbox, source, seed_workflow, marketing
):
    lead = _enrol(source)
    run(START)
    run(day(7))
    _open(_survey_mail(lead), day(9))
    run(day(14))

    simulated = workflows.simulate_workflow(
        by=marketing,
        definition=seed_workflow.active_version.definition,
        scenarios=[("Opens the survey", "opened@9"), ("Nothing", ""), ("Quote", "answered@8")],
        start=START,
    )

    runs = {r.label: r for r in simulated.runs}
    assert [(m.step, m.outcome) for m in runs["Opens the survey"].path] == _path(lead)
    assert runs["Nothing"].outcome == "disqualify"
    assert [m.step for m in runs["Quote"].path][-1] == "answered"
    assert simulated.endings == {"finished": 2, "disqualify": 1}
    assert simulated.branches[("opened", "yes")] == 1


def test_the_trigger_enrols_nurturing_leads_of_its_sources_only(
    inbox, source, marketing, templates
):
    from tests.factories.leads import make_source

    other = make_source(name="Fair")
    with at(START):
        workflow = workflows.create_workflow(
            by=marketing,
            name="Web only",
            definition={
                "trigger": {"on": "nurturing", "sources": [source.pk],
                            "conditions": [{"field": "country", "op": "eq", "value": "NL"}]},
                "steps": [{"id": "brochure", "type": "send_email", "template": "Brochure"}],
            },
        )  # fmt: skip
        workflows.activate(workflow, by=marketing)
        fits = nurturing_lead(source, country="NL")
        wrong_country = nurturing_lead(source, country="BE")
        wrong_source = nurturing_lead(other, country="NL")
        enrolled = live.enroll_on_trigger(
            [fits.pk, wrong_country.pk, wrong_source.pk], on="nurturing"
        )
        again = live.enroll_on_trigger([fits.pk], on="nurturing")

    assert (enrolled, again) == (1, 0)
    assert list(Enrollment.objects.values_list("lead_id", flat=True)) == [fits.pk]


def test_a_lead_whose_enrolment_task_was_lost_is_caught_up(inbox, source, seed_workflow):
    with at(START):
        lead = nurturing_lead(source, email="lost@example.com")
    with at(START + dt.timedelta(minutes=10)):
        caught = live.enroll_missed()

    assert caught == 1
    assert _enrollment(lead).step == "brochure"


def test_activation_refuses_a_template_that_does_not_exist(marketing):
    workflow = workflows.create_workflow(
        by=marketing,
        name="Broken",
        definition={"steps": [{"id": "mail", "type": "send_email", "template": "Nope"}]},
    )

    with pytest.raises(ValidationFailed) as refused:
        workflows.activate(workflow, by=marketing)

    assert str(refused.value) == "Step “mail”: there is no active e-mail template “Nope”."
    workflow.refresh_from_db()
    assert workflow.state == "draft"


def test_the_seed_workflow_puts_an_opener_on_the_call_list_and_a_qualifying_call_ends_it(
    inbox, source, marketing, agent, templates, django_capture_on_commit_callbacks
):
    from leadloop.nurture.calls import services as calls

    with at(START - dt.timedelta(days=1)):
        calls.create_call_list(
            by=marketing, name="Brochure follow-up calls", script_en="Hello {first_name}",
            holiday_country="", members=[agent.pk],
        )  # fmt: skip
        workflow = workflows.create_from_template(by=marketing, template="brochure-follow-up")
        workflows.activate(workflow, by=marketing)
    lead = _enrol(source, phone="+31 6 1234 5678")
    run(START)
    run(day(7))
    _open(_survey_mail(lead), day(9))
    run(day(14))
    on_list = _enrollment(lead)
    with at(day(14) + dt.timedelta(hours=2)), django_capture_on_commit_callbacks(execute=True):
        entry = calls.next_for(agent)
        calls.log_outcome(
            entry, by=agent, outcome="qualified", bant={"bant_need": "met", "bant_budget": "met"}
        )
    run(day(14) + dt.timedelta(hours=2, minutes=1))
    lead.refresh_from_db()

    assert (on_list.step, on_list.due_at) == ("called", day(28))
    assert entry.lead_id == lead.pk
    assert _path(lead)[-3:] == [("opened", "yes"), ("call", "added"), ("called", "left")]
    assert lead.status in (LeadStatus.SALES_READY, LeadStatus.ASSIGNED)
    assert _enrollment(lead).state == EnrollmentState.EXITED


def test_with_the_mail_server_down_the_mail_waits_and_the_workflow_keeps_its_timing(
    inbox, source, seed_workflow
):
    lead = _enrol(source)
    inbox.answer = "451 4.3.0 Try again later"
    run(START)
    waiting = MarketingMessage.objects.get(lead=lead)
    inbox.answer = "250 OK"
    with at(START + dt.timedelta(hours=1)):
        mail.send_waiting()
    sent = MarketingMessage.objects.get(lead=lead)

    assert waiting.state == "pending"
    assert waiting.attempts == 1
    assert _enrollment(lead).due_at == day(7)  # the week counts from the step, not the send
    assert sent.state == "sent"
    assert len(inbox.messages) == 1
    assert _path(lead) == [("brochure", "queued")]
