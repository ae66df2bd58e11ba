"""A lead's survey page: behind a signed, expiring link, in the lead's language, CSRF-protected,
answers shown back escaped wherever staff read them."""

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils.html import escape

from leadloop.accounts.actors import SYSTEM
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import ResponseState, SurveyResponse
from tests.conftest import shared_data_cases, shared_data_path
from tests.nurture.surveys.conftest import inputs, nurturing_lead

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _csrf_post(path, data):
    """A visitor's browser: GET the page (CSRF cookie), then POST with the page's token."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return browser.post(path, {"csrfmiddlewaretoken": token, **data})


def test_the_page_shows_the_survey_in_english_without_a_login(client, source, survey):
    lead = nurturing_lead(source, first_name="Ann", email="ann@example.com")

    page = client.get(surveys.survey_path(lead, survey))

    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "How can we help?" in page.text
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text
    assert page["Cache-Control"] == "no-store"
    for name in inputs(survey).values():
        assert f'name="{name}"' in page.text


def test_a_dutch_lead_reads_the_survey_in_dutch(client, source, survey):
    lead = nurturing_lead(source, language="nl")

    page = client.get(surveys.survey_path(lead, survey))

    assert '<html lang="nl">' in page.text
    assert "Hoe kunnen we helpen?" in page.text
    assert "Heb je budget?" in page.text
    assert "Een offerte" in page.text


def test_an_answer_sent_with_the_pages_csrf_token_is_applied(source, survey):
    lead = nurturing_lead(source)
    path = surveys.survey_path(lead, survey)
    names = inputs(survey)

    answer = _csrf_post(
        path,
        {names["Do you have a budget?"]: "yes", names["What would you like?"]: "a-brochure"},
    )

    assert answer.status_code == 303
    assert answer["Location"] == path + "thanks/"
    assert Lead.objects.get(pk=lead.pk).bant_budget == "met"
    assert SurveyResponse.objects.get(lead=lead).state == ResponseState.APPLIED


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(source, survey):
    lead = nurturing_lead(source)
    browser = Client(enforce_csrf_checks=True)

    answer = browser.post(
        surveys.survey_path(lead, survey), {inputs(survey)["Do you have a budget?"]: "yes"}
    )

    assert answer.status_code == 403
    assert not SurveyResponse.objects.exists()


def test_errors_reshow_the_form_with_the_messages_and_the_raw_post_is_kept(client, source, survey):
    lead = nurturing_lead(source)
    names = inputs(survey)

    answer = client.post(
        surveys.survey_path(lead, survey),
        {names["Employees"]: "many", names["Company name"]: "Acme"},
    )

    assert answer.status_code == 422
    assert "This question is required." in answer.text
    assert "Enter a number." in answer.text
    assert 'value="many"' in answer.text
    stored = SurveyResponse.objects.get(lead=lead)
    assert stored.state == ResponseState.INVALID
    assert names["Employees"] in stored.raw
    assert "many" in stored.raw


def test_dutch_errors_for_a_dutch_lead(client, source, survey):
    lead = nurturing_lead(source, language="nl")

    answer = client.post(surveys.survey_path(lead, survey), {})

    assert answer.status_code == 422
    assert '<html lang="nl">' in answer.text


def test_a_tampered_token_is_a_plain_404_that_says_nothing_about_the_lead(client, source, survey):
    lead = nurturing_lead(source, first_name="Zelda", email="zelda@example.com")
    token = surveys.make_token(lead, survey)
    payload, stamp, signature = token.rsplit(":", 2)
    other = nurturing_lead(source)
    forged = surveys.make_token(other, survey).rsplit(":", 2)[0] + f":{stamp}:{signature}"

    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged, "nonsense", payload):
        page = client.get(f"/nurture/surveys/s/{bad}/")
        posted = client.post(f"/nurture/surveys/s/{bad}/", {"q1": "yes"})

        assert (page.status_code, posted.status_code) == (404, 404)
        for text in ("Zelda", "zelda@example.com", "How can we help?", "expired"):
            assert text not in page.text
    assert not SurveyResponse.objects.exists()


def test_an_old_link_shows_the_expired_page_without_lead_data(client, source, survey, settings):
    settings.LEADLOOP_SURVEY_LINK_DAYS = 30
    lead = nurturing_lead(source, first_name="Zelda", company_name="Zelda Corp")
    with time_machine.travel(START, tick=False):
        path = surveys.survey_path(lead, survey)

    with time_machine.travel(START + dt.timedelta(days=30, seconds=1), tick=False):
        page = client.get(path)
        posted = client.post(path, {inputs(survey)["Do you have a budget?"]: "yes"})

    assert (page.status_code, posted.status_code) == (410, 410)
    assert "This link has expired" in page.text
    for text in ("Zelda", "How can we help?", "Zelda Corp"):
        assert text not in page.text
    assert not SurveyResponse.objects.exists()


def test_a_link_still_works_on_its_last_day(client, source, survey, settings):
    settings.LEADLOOP_SURVEY_LINK_DAYS = 30
    lead = nurturing_lead(source)
    with time_machine.travel(START, tick=False):
        path = surveys.survey_path(lead, survey)

    with time_machine.travel(START + dt.timedelta(days=29, hours=23), tick=False):
        page = client.get(path)

    assert page.status_code == 200


def test_a_switched_off_survey_is_not_found(client, source, survey):
    lead = nurturing_lead(source)
    path = surveys.survey_path(lead, survey)
    surveys.update_survey(survey, by=SYSTEM, is_active=False)

    assert client.get(path).status_code == 404


def test_after_answering_the_page_says_so_instead_of_the_form(client, source, survey):
    lead = nurturing_lead(source)
    path = surveys.survey_path(lead, survey)
    names = inputs(survey)
    client.post(path, {names["Do you have a budget?"]: "yes"})

    page = client.get(path)
    again = client.post(path, {names["Do you have a budget?"]: "no"})

    assert "You already answered this survey" in page.text
    assert again.status_code == 409
    assert Lead.objects.get(pk=lead.pk).bant_budget == "met"


def test_the_thank_you_page_follows_the_lead_language(client, source, survey):
    lead = nurturing_lead(source, language="nl")
    path = surveys.survey_path(lead, survey)

    page = client.get(path + "thanks/")

    assert page.status_code == 200
    assert '<html lang="nl">' in page.text


def _hostile_strings() -> list[str]:
    with open(shared_data_path("hostile", "blns.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    marked = [
        line
        for line in lines
        if line.strip() and not line.startswith("#") and "<" in line and len(line) < 300
    ]
    return marked[:60]


@pytest.mark.parametrize("text", shared_data_cases(_hostile_strings))
def test_hostile_answers_are_stored_as_sent_and_shown_escaped(
    client, logged_in_client, admin, source, survey, text
):
    free = surveys.add_question(survey, by=SYSTEM, kind="text", text_en="Anything else?")
    lead = nurturing_lead(source)
    names = inputs(survey)

    client.post(
        surveys.survey_path(lead, survey),
        {free.field_name: text, names["Do you have a budget?"]: "yes"},
    )

    stored = SurveyResponse.objects.get(lead=lead)
    assert stored.state == ResponseState.APPLIED
    answer = next(a for a in stored.answers if a["question_en"] == "Anything else?")
    assert answer["value"] == text.strip()
    staff = logged_in_client(admin)
    results = staff.get(f"/nurture/surveys/{survey.pk}/responses/").text
    timeline = staff.get(f"/leads/{lead.pk}/").text
    assert escape(text.strip()) in results
    assert text.strip() not in results
    answered = Activity.objects.get(lead=lead, kind=ActivityKind.SURVEY_ANSWERED)
    assert text.strip() in answered.message
    assert escape(text.strip()) in timeline
    assert text.strip() not in timeline
