"""A lead answers a survey on a phone: the page fits the screen, errors show beside the
question, and the answer reaches the lead."""

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.leads.models import Lead
from leadloop.nurture.surveys import services as surveys
from tests.factories.leads import make_lead, make_source

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def survey_link(transactional_db):
    survey = surveys.create_survey(
        by=SYSTEM, name="Fit", title_en="How can we help?", title_nl="Hoe kunnen we helpen?"
    )
    surveys.add_question(
        survey,
        by=SYSTEM,
        kind="single",
        text_en="Do you have a budget?",
        text_nl="Heb je budget?",
        is_required=True,
        maps_to="bant_budget",
        choices="Yes | Ja | met\nNo | Nee | not_met",
    )
    surveys.add_question(
        survey,
        by=SYSTEM,
        kind="number",
        text_en="How many employees?",
        text_nl="Hoeveel medewerkers?",
        min_value=1,
    )
    lead = make_lead(make_source("Website"), language="nl")
    return lead, surveys.survey_path(lead, survey)


def test_a_dutch_lead_answers_on_a_phone(page, live_server, survey_link):
    lead, path = survey_link
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", name="Hoe kunnen we helpen?")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Hoeveel medewerkers?").fill("0")
    page.locator("button[type=submit]").click()
    expect(page.locator(".field__errors").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_label("Ja").check()
    page.get_by_label("Hoeveel medewerkers?").fill("12")
    page.locator("button[type=submit]").click()

    page.wait_for_url(f"{live_server.url}{path}thanks/")
    assert Lead.objects.get(pk=lead.pk).bant_budget == "met"
