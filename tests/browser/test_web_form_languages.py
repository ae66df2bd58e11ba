"""An author adds Dutch texts to a form; Dutch and English visitors each see one language only."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.assessment.scoring import services as assessment_config
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput
from leadloop.leads.models import ChannelKind, Lead
from tests.browser.conftest import WATCH_VIOLATIONS
from tests.factories.accounts import make_user
from tests.factories.leads import make_source

pytestmark = pytest.mark.browser


@pytest.fixture
def english_form(transactional_db):
    make_user(Role.MARKETING, username="marketing")
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    # Headless Chromium looks automated to the fraud screen; hold such leads for review.
    assessment_config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=101, on_duplicate="review"
    )
    with translation.override("en"):
        form = web_forms.create_form(
            source=source,
            by=SYSTEM,
            title="Request a demo",
            slug="demo",
            submit_label="Request my demo",
            thank_you_message="We will call you this week.",
            consent_text="I agree that Acme may contact me.",
            consent_version="2026-03",
            language="en",
        )
        web_forms.add_field(
            form, by=SYSTEM, label="Team size", target="extra:team_size", input_type=FieldInput.TEXT
        )
    return form


def _add_dutch_texts(page, live_server, log_in, form):
    log_in(page, "marketing")
    page.goto(f"{live_server.url}/forms/{form.pk}/")
    page.locator("#languages").get_by_label("Dutch").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_label("Title (Dutch)").fill("Vraag een demo aan")
    page.get_by_label("Button text (Dutch)").fill("Demo aanvragen")
    page.get_by_label("Thank-you message (Dutch)").fill("We bellen je deze week.")
    page.get_by_label("Consent text (Dutch)").fill("Ik ga akkoord dat Acme contact met me opneemt.")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".qrow", has_text="Team size")).to_contain_text("Not in Dutch yet")
    page.screenshot(path="/tmp/forms-builder-languages.png", full_page=True)
    page.get_by_role("link", name="Edit Team size").click()
    page.get_by_label("Question (Dutch)").fill("Teamgrootte")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator("#missing-translations")).to_have_count(0)


def _visitor(browser, locale):
    context = browser.new_context(locale=locale)
    violations = []
    context.expose_function("__reportViolation", lambda text: violations.append(text))
    context.add_init_script(WATCH_VIOLATIONS)
    return context, context.new_page(), violations


def test_dutch_and_english_visitors_each_see_one_language(
    page, live_server, log_in, english_form, browser
):
    _add_dutch_texts(page, live_server, log_in, english_form)
    context, dutch, violations = _visitor(browser, "nl-NL")

    dutch.goto(f"{live_server.url}/f/demo/")
    expect(dutch.locator("html")).to_have_attribute("lang", "nl")
    expect(dutch.get_by_role("heading", name="Vraag een demo aan")).to_be_visible()
    expect(dutch.locator("label[for=q-phone]")).to_have_text("Telefoon (optioneel)")
    expect(dutch.locator("label[for=q-team_size]")).to_have_text("Teamgrootte (optioneel)")
    dutch.get_by_role("button", name="Demo aanvragen").click()
    expect(dutch.locator("#q-first_name-error")).to_have_text("Dit veld is verplicht.")
    dutch.screenshot(path="/tmp/forms-nl-errors.png", full_page=True)
    body = dutch.locator("main").inner_text()
    for english in ("First name", "optional", "required", "Request", "This field", "Please"):
        assert english not in body
    dutch.get_by_label("Voornaam").fill("Anne")
    dutch.get_by_label("Achternaam").fill("de Vries")
    dutch.get_by_label("E-mail").fill("anne@example.nl")
    dutch.get_by_label("Ik ga akkoord").check()
    dutch.wait_for_timeout(2100)
    dutch.get_by_role("button", name="Demo aanvragen").click()
    expect(dutch.get_by_role("heading", name="Bedankt")).to_be_visible()
    expect(dutch.locator(".thanks")).to_contain_text("We bellen je deze week.")
    assert "Thank" not in dutch.locator("main").inner_text()
    context.close()
    assert violations == []
    assert Lead.objects.get(email="anne@example.nl").language == "nl"

    page.goto(f"{live_server.url}/f/demo/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Request my demo").click()
    expect(page.locator("#q-first_name-error")).to_have_text("This field is required.")
    body = page.locator("main").inner_text()
    for dutch_word in ("Voornaam", "optioneel", "verplicht", "Vraag", "Teamgrootte", "akkoord"):
        assert dutch_word not in body
    expect(page.locator("label[for=q-phone]")).to_have_text("Phone (optional)")
