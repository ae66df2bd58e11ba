"""An author asks a Dutch form to address its visitors with "u"; the form's own notices follow."""

import pytest
from django.utils import translation
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.assessment.scoring import services as assessment_config
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import LeadForm
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.accounts import make_user
from tests.factories.leads import make_source

pytestmark = pytest.mark.browser


@pytest.fixture
def dutch_form(transactional_db):
    make_user(Role.MARKETING, username="marketing")
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    # Headless Chromium looks automated to the fraud screen; hold such leads for review.
    assessment_config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=101, on_duplicate="review"
    )
    with translation.override("nl"):
        return web_forms.create_form(
            source=source,
            by=SYSTEM,
            title="Offerte aanvragen",
            slug="offerte",
            consent_text="Ik ga akkoord dat Acme contact opneemt.",
            consent_version="1",
            language="nl",
            languages=["nl", "en"],
        )


def test_a_formal_form_says_u_to_dutch_visitors_and_the_same_to_english_ones(
    page, live_server, log_in, dutch_form, browser
):
    log_in(page, "marketing")
    page.goto(f"{live_server.url}/forms/{dutch_form.pk}/")
    page.get_by_label("Address visitors formally").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_label("Address visitors formally")).to_be_checked()
    assert LeadForm.objects.get(pk=dutch_form.pk).is_formal is True

    context = browser.new_context(locale="nl-NL")
    dutch = context.new_page()
    dutch.goto(f"{live_server.url}/f/offerte/")
    expect(dutch.locator(".public__foot")).to_have_text(
        "Uw gegevens gaan beveiligd naar de organisatie achter dit formulier."
    )
    dutch.get_by_label("Voornaam").fill("Anne")
    dutch.get_by_label("Achternaam").fill("de Vries")
    dutch.get_by_label("E-mail").fill("anne@example.nl")
    dutch.wait_for_timeout(2100)
    dutch.get_by_role("button", name="Versturen").click()
    expect(dutch.locator("#consent-error")).to_have_text(
        "Geef toestemming zodat we contact met u mogen opnemen."
    )
    dutch.get_by_label("Ik ga akkoord").check()
    dutch.get_by_role("button", name="Versturen").click()
    expect(dutch.get_by_role("heading", name="Bedankt")).to_be_visible()
    expect(dutch.locator(".thanks")).to_contain_text(
        "We hebben uw gegevens ontvangen en nemen snel contact met u op."
    )
    expect(dutch.locator("#sent-title")).to_have_text("Wat u verstuurde")
    dutch.screenshot(path="/tmp/forms-nl-formal-thanks.png", full_page=True)
    body = dutch.locator("main").inner_text()
    assert " je " not in body
    assert "Je " not in body
    context.close()
    assert Lead.objects.get(email="anne@example.nl").language == "nl"

    page.goto(f"{live_server.url}/f/offerte/?lang=en")
    expect(page.locator(".public__foot")).to_have_text(
        "Your details are sent securely to the organisation behind this form."
    )
