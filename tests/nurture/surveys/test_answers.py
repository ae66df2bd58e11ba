"""Answers on the lead: stored raw, checked per kind, applied through the leads services, and a
"wants a quote" answer makes a nurturing lead sales-ready, which distribution routes."""

import pytest
from django_tasks import default_task_backend

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.scoring import services as scoring
from leadloop.distribution.tasks import route_leads_task
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import ResponseState, SurveyResponse
from tests.distribution.conftest import publish, team_push
from tests.nurture.surveys.conftest import inputs, nurturing_lead

pytestmark = pytest.mark.django_db


def _submit(lead, survey, **answers):
    names = inputs(survey)
    posted = {names[text]: value for text, value in answers.items()}
    return surveys.submit(lead, survey, posted=posted, raw="raw body", content_type="text/plain")


def test_answers_fill_mapped_fields_and_bant_through_the_leads_services(source, survey):
    lead = nurturing_lead(source)

    result = _submit(
        lead,
        survey,
        **{"Company name": "Acme BV", "Do you have a budget?": "yes", "Employees": "250"},
    )

    lead.refresh_from_db()
    assert result.outcome == "applied"
    assert (lead.company_name, lead.bant_budget) == ("Acme BV", "met")
    change = Activity.objects.get(lead=lead, kind=ActivityKind.FIELD_CHANGED)
    assert change.actor_label == "lead (survey)"
    assert change.data["changes"] == [
        {"field": "company_name", "old": "", "new": "Acme BV"},
        {"field": "bant_budget", "old": "", "new": "met"},
    ]
    answered = Activity.objects.get(lead=lead, kind=ActivityKind.SURVEY_ANSWERED)
    assert answered.data["survey"] == "Interest check"
    assert answered.data["response_id"] == result.response.pk
    assert {"question": "Employees", "answer": "250"} in answered.data["answers"]
    assert result.response.state == ResponseState.APPLIED
    assert result.response.raw == "raw body"


def test_each_answer_keeps_the_question_text_it_was_given_to(source, survey):
    lead = nurturing_lead(source)
    _submit(lead, survey, **{"Do you have a budget?": "no"})
    question = survey.questions.get(text_en="Do you have a budget?")

    surveys.update_question(question, by=SYSTEM, text_en="Is there money?")

    answers = SurveyResponse.objects.get(lead=lead).answers
    budget = next(a for a in answers if a["question_id"] == question.pk)
    assert (budget["question_en"], budget["value"], budget["answer"]) == (
        "Do you have a budget?",
        "no",
        "No",
    )


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("Do you have a budget?", "", "This question is required."),
        ("Do you have a budget?", "maybe", "Choose one of the answers given."),
        ("What would you like?", ["a-quote", "a-car"], "Choose from the answers given."),
        ("Employees", "lots", "Enter a number."),
        ("Employees", "0", "Enter 1 or more."),
        ("Employees", "100001", "Enter 100000 or less."),
        ("Start date", "2026-02-30", "Enter a date as YYYY-MM-DD."),
        ("Start date", "20266-01-01", "Enter a date as YYYY-MM-DD."),
        ("Start date", "1800-01-01", "Enter a date between 1900 and 2200."),
        ("Company name", "x" * 2001, "Keep it under 2000 characters."),
        ("Company name", "Acme\x00", "This answer contains a character that is not allowed."),
    ],
)
def test_each_kind_of_question_is_checked_and_the_raw_submission_is_kept(
    source, survey, question, value, message
):
    lead = nurturing_lead(source)
    answers = {"Do you have a budget?": "yes", question: value}

    result = _submit(lead, survey, **answers)

    name = inputs(survey)[question]
    assert result.outcome == "invalid"
    assert result.errors == {name: [message]}
    stored = SurveyResponse.objects.get(lead=lead)
    assert (stored.state, stored.raw, stored.errors) == (
        ResponseState.INVALID,
        "raw body",
        {name: [message]},
    )
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.SURVEY_ANSWERED).exists()
    assert Lead.objects.get(pk=lead.pk).bant_budget == ""


def test_valid_answers_of_every_kind_are_stored_cleaned(source, survey):
    lead = nurturing_lead(source)

    result = _submit(
        lead,
        survey,
        **{
            "Company name": "  Acme  ",
            "Do you have a budget?": "no",
            "What would you like?": ["a-brochure", "a-quote"],
            "Employees": "1 250,5",
            "Start date": "2026-04-01",
        },
    )

    values = {a["question_en"]: a["value"] for a in result.response.answers}
    assert values == {
        "Company name": "Acme",
        "Do you have a budget?": "no",
        "What would you like?": ["a-quote", "a-brochure"],
        "Employees": "1250.5",
        "Start date": "2026-04-01",
    }


def test_a_mapped_phone_the_lead_checks_refuse_is_an_error_on_that_question(source, survey):
    phone = surveys.add_question(survey, by=SYSTEM, kind="text", text_en="Phone", maps_to="phone")
    lead = nurturing_lead(source)

    result = surveys.submit(
        lead,
        survey,
        posted={inputs(survey)["Do you have a budget?"]: "yes", phone.field_name: "not a phone"},
        raw="",
        content_type="",
    )

    assert result.outcome == "invalid"
    assert list(result.errors) == [phone.field_name]
    assert Lead.objects.get(pk=lead.pk).phone_raw == ""


def test_a_second_submission_is_kept_but_refused_and_changes_nothing(source, survey):
    lead = nurturing_lead(source)
    _submit(lead, survey, **{"Company name": "First", "Do you have a budget?": "yes"})

    again = _submit(lead, survey, **{"Company name": "Second", "Do you have a budget?": "no"})

    lead.refresh_from_db()
    assert again.outcome == "already"
    assert (lead.company_name, lead.bant_budget) == ("First", "met")
    assert list(SurveyResponse.objects.filter(lead=lead).values_list("state", flat=True)) == [
        ResponseState.REFUSED,
        ResponseState.APPLIED,
    ]
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.SURVEY_ANSWERED).count() == 1


def test_wanting_a_quote_makes_a_nurturing_lead_sales_ready_and_routing_assigns_it(
    source, team, reps, django_capture_on_commit_callbacks
):
    publish([], team_push(team))
    built = surveys.create_survey(by=SYSTEM, name="Quote?", title_en="Quote?")
    wants = surveys.add_question(
        built, by=SYSTEM, kind="single", text_en="Want a quote?", choices="Yes\nNo"
    )
    surveys.add_rule(built, by=SYSTEM, question_id=wants.pk, choice="yes", action="sales_ready")
    lead = nurturing_lead(source)
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        surveys.submit(lead, built, posted={wants.field_name: "yes"}, raw="", content_type="")

    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.SALES_READY
    routing = [
        r.kwargs
        for r in default_task_backend.results
        if r.task.module_path.endswith("route_leads_task")
    ]
    assert routing == [{"lead_ids": [lead.pk]}]
    route_leads_task.call(**routing[0])
    routed = Lead.objects.get(pk=lead.pk)
    assert (routed.status, routed.assigned_to in reps) == (LeadStatus.ASSIGNED, True)
    moves = Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGED).order_by("pk")
    survey_move = [m for m in moves if m.data.get("to") == LeadStatus.SALES_READY][-1]
    assert survey_move.actor_label == "lead (survey)"


def test_another_answer_leaves_the_lead_in_nurturing(source, survey):
    lead = nurturing_lead(source)

    _submit(lead, survey, **{"Do you have a budget?": "no", "What would you like?": ["a-brochure"]})

    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NURTURING


def test_rules_can_set_bant_and_add_a_note(source, survey):
    wants = survey.questions.get(text_en="What would you like?")
    surveys.add_rule(
        survey,
        by=SYSTEM,
        question_id=wants.pk,
        choice="a-brochure",
        action="set_bant",
        bant_field="bant_need",
        bant_value="met",
    )
    surveys.add_rule(
        survey,
        by=SYSTEM,
        question_id=wants.pk,
        choice="a-brochure",
        action="add_note",
        note="Send the printed brochure",
    )
    lead = nurturing_lead(source)

    _submit(lead, survey, **{"Do you have a budget?": "no", "What would you like?": ["a-brochure"]})

    assert Lead.objects.get(pk=lead.pk).bant_need == "met"
    note = Activity.objects.get(lead=lead, kind=ActivityKind.NOTE)
    assert note.message == "Send the printed brochure"


def test_a_survey_edit_cannot_drop_a_choice_a_rule_needs(survey):
    wants = survey.questions.get(text_en="What would you like?")

    with pytest.raises(Exception, match="A rule uses the answer"):
        surveys.update_question(wants, by=SYSTEM, choices="A brochure")

    wants.refresh_from_db()
    assert [c["key"] for c in wants.choices] == ["a-quote", "a-brochure"]


def test_a_survey_with_responses_cannot_be_deleted(source, survey):
    _submit(nurturing_lead(source), survey, **{"Do you have a budget?": "no"})

    with pytest.raises(Exception, match="switch it off"):
        surveys.delete_survey(survey, by=SYSTEM)


def test_answering_counts_as_engagement_and_rescores_the_lead(source, survey):
    scoring.create_engagement_rule(by=SYSTEM, event="survey_answered", points=7)
    lead = nurturing_lead(source)

    _submit(lead, survey, **{"Do you have a budget?": "yes"})

    assert Lead.objects.get(pk=lead.pk).engagement_score == lead.engagement_score + 7
