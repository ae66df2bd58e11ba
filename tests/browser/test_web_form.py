"""A visitor fills a web form in Chromium, on its hosted page and embedded in another site."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.scoring import services as assessment_config
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.leads import make_source

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_form(transactional_db):
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    # Headless Chromium is what the fraud screen should call automated; the journey is about the
    # form, so this source holds such leads for review instead of refusing them.
    assessment_config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=101, on_duplicate="review"
    )
    with translation.override("en"):
        form = web_forms.create_form(
            source=source,
            by=SYSTEM,
            title="Request a demo",
            slug="demo",
            intro="Tell us a little about your team and we will show you around.",
            consent_text="I agree that Acme may contact me about my request.",
            consent_version="2026-03",
            consent_purpose="Contact about a demo",
        )
        web_forms.add_field(
            form,
            by=SYSTEM,
            label="Team size",
            target="extra:team_size",
            input_type=FieldInput.SELECT,
            choices="1–10\n11–50\n51+",
            help_text="Roughly is fine.",
        )
    return form


def _fill(scope):
    scope.get_by_label("First name").fill("Ann")
    scope.get_by_label("Last name").fill("Smit")
    scope.get_by_label("E-mail").fill("ann@example.com")
    scope.get_by_label("Team size").select_option("11–50")
    scope.get_by_label("I agree that Acme may contact me").check()


def test_a_visitor_sends_the_hosted_form_and_becomes_a_lead(page, live_server, demo_form):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/f/demo/?utm_source=newsletter")
    page.screenshot(path="/tmp/forms-hosted-desktop.png", full_page=True)
    page.get_by_role("button", name="Send").click()
    page.locator("#q-first_name").wait_for()
    page.screenshot(path="/tmp/forms-hosted-errors.png", full_page=True)
    _fill(page)
    # People take longer than two seconds; quicker posts are treated as bots.
    page.wait_for_timeout(2100)

    page.get_by_role("button", name="Send").click()

    page.get_by_role("heading", name="Thank you").wait_for()
    page.screenshot(path="/tmp/forms-thanks.png", full_page=True)
    lead = Lead.objects.get(email="ann@example.com")
    submission = RawSubmission.objects.get(lead=lead)
    assert submission.state == SubmissionState.PROCESSED
    assert re.fullmatch(r"fp1:[0-9a-f]{32}", submission.meta["fingerprint"])
    assert submission.meta["headless"]["script_ran"] is True
    assert submission.meta["client_time_to_submit_ms"] > 2000
    assert lead.utm_source == "newsletter"
    assert lead.extra == {"team_size": "11–50"}
    assert lead.consent_text_version == "2026-03"


def test_the_hosted_form_on_a_phone(page, live_server, demo_form):
    web_forms.update_form(demo_form, by=SYSTEM, languages=["en", "nl"])
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}/f/demo/?lang=nl")

    page.screenshot(path="/tmp/forms-hosted-phone-nl.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width == 390
    assert page.get_by_role("button", name="Versturen").is_visible()


def test_the_form_embedded_with_the_script_tag_works_on_another_site(
    page, live_server, demo_form, httpserver
):
    httpserver.expect_request("/landing").respond_with_data(
        "<!doctype html><html><head><title>Acme</title></head><body style='font-family:sans-serif'>"
        "<h1>Acme landing page</h1>"
        f'<script src="{live_server.url}/f/demo/embed.js" async></script>'
        "</body></html>",
        content_type="text/html",
    )
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(httpserver.url_for("/landing") + "?utm_source=partner&utm_campaign=spring")
    frame = page.frame_locator("iframe[data-leadloop-form]")
    _fill(frame)
    page.wait_for_timeout(2100)

    frame.get_by_role("button", name="Send").click()

    frame.get_by_role("heading", name="Thank you").wait_for()
    page.screenshot(path="/tmp/forms-embedded.png", full_page=True)
    lead = Lead.objects.get(email="ann@example.com")
    submission = RawSubmission.objects.get(lead=lead)
    assert (lead.utm_source, lead.utm_campaign) == ("partner", "spring")
    assert lead.landing_page.startswith(httpserver.url_for("/landing"))
    assert submission.meta["embedded"] is True
    height = page.evaluate("document.querySelector('iframe[data-leadloop-form]').offsetHeight")
    assert height > 200


def test_the_builder(page, live_server, demo_form, admin, log_in):
    page.set_viewport_size({"width": 1440, "height": 1000})
    log_in(page, "admin")

    page.goto(f"{live_server.url}/forms/{demo_form.pk}/")
    page.get_by_role("button", name="Move “Team size” up").click()
    expect(page.locator(".qrow strong").nth(4)).to_have_text("Team size")

    page.screenshot(path="/tmp/forms-builder.png", full_page=True)
    page.goto(f"{live_server.url}/forms/")
    page.screenshot(path="/tmp/forms-list.png")
    assert [f.name for f in demo_form.fields.all()][4] == "team_size"
