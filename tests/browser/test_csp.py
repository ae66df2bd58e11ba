"""The pages work in Chromium under the enforced Content-Security-Policy, and break none of it.

Every browser test fails on a `securitypolicyviolation` (tests/browser/conftest.py); these also
fail on any console error, since Alpine's CSP build logs an expression it cannot read as one.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.scoring import services as assessment_config
from leadloop.intake.models import RawSubmission
from leadloop.intake.web_forms import services as web_forms
from leadloop.leads.models import ChannelKind
from tests.factories.leads import make_lead, make_source, make_source_with_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched(page):
    """The page; at the end, asserts that no console error was logged (conftest: no violation)."""
    errors: list[str] = []

    def console(message) -> None:
        # Pages without a <link rel=icon> (the public form, the other site) make the browser
        # ask for /favicon.ico; that 404 is not about the policy.
        if message.type in {"error", "warning"} and "/favicon.ico" not in message.location["url"]:
            errors.append(f"{message.text} {message.location}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []


@pytest.fixture
def world(admin):
    source, key = make_source_with_key("Provider")
    for n in range(3):
        make_lead(source, first_name=f"Ann{n}", last_name="Smit", email=f"ann{n}@example.com")
    unknown = {"Klantmail": "bo@example.com", "Naam": "Bo Smit", "Achternaam": "Smit"}
    Client().generic("POST", f"/in/{key}", json.dumps(unknown), content_type="application/json")
    Client().generic("POST", f"/in/{key}", '{"email": "broken', content_type="application/json")
    return {
        "source": source,
        "quarantined": RawSubmission.objects.filter(source=source).order_by("-pk").first(),
    }


def test_the_nav_toggle_and_the_lead_list_bulk_select(watched, live_server, log_in, world):
    page = watched
    log_in(page, "admin")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page
    page.set_viewport_size({"width": 390, "height": 844})
    toggle = page.get_by_role("button", name="Menu")
    nav = page.locator("#sidenav")

    expect(nav).not_to_be_in_viewport()

    toggle.click()
    expect(nav).to_have_class("sidenav is-open")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(nav).to_have_class("sidenav")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).not_to_be_in_viewport()

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("checkbox", name="Select all leads on this page").check()
    bulkbar = page.locator(".bulkbar")
    expect(bulkbar).to_be_visible()
    expect(bulkbar.locator(".bulkbar__count")).to_have_text("3 selected")
    expect(page.locator(".bulkbar__reason")).to_be_hidden()
    page.get_by_label("New status").select_option("lost")
    expect(page.locator(".bulkbar__reason")).to_be_visible()
    page.get_by_role("checkbox", name="Select Ann0 Smit").uncheck()
    expect(bulkbar.locator(".bulkbar__count")).to_have_text("2 selected")

    page.get_by_role("searchbox", name="Search leads").first.fill("ann1")
    expect(page.locator("#lead-results").get_by_role("heading")).to_have_text("1 lead")


def test_the_mapping_editor(watched, live_server, log_in, world):
    page = watched
    log_in(page, "admin")
    page.goto(f"{live_server.url}/sources/{world['source'].pk}/mapping/")
    rows = page.locator("#rows-fields .row-edit")
    before = rows.count()

    with page.expect_response(lambda response: "/mapping/preview/" in response.url) as preview:
        page.locator("tr", has_text="Klantmail").get_by_role("button", name="Map").click()

    assert preview.value.status == 200
    expect(rows).to_have_count(before + 1)
    expect(rows.last.locator("input[name=field_label]")).to_have_value("Klantmail")
    rows.last.get_by_role("button", name="Remove this row").click()
    expect(rows).to_have_count(before)
    constants = page.locator("#rows-constants .row-edit")
    count = constants.count()
    page.locator("button[data-section=constants]").click()
    expect(constants).to_have_count(count + 1)
    expect(constants.last.locator("select")).to_be_focused()


def test_the_grading_fields_show_the_extra_key_only_for_extra_fields(
    watched, live_server, log_in, world
):
    page = watched
    log_in(page, "admin")
    page.goto(f"{live_server.url}/assessment/config/")
    section = page.locator("#section-grading")
    extra_key = section.get_by_label("Extra field name")

    expect(extra_key).to_be_hidden()
    section.locator("select[name$='-field']").last.select_option("extra")
    expect(extra_key).to_be_visible()


def test_fixing_a_submission_adds_and_removes_rows(watched, live_server, log_in, world):
    page = watched
    log_in(page, "admin")
    page.goto(f"{live_server.url}/intake/{world['quarantined'].pk}/")
    rows = page.locator(".rows .row-edit")
    before = rows.count()

    page.get_by_role("button", name="+ Add a field").click()
    expect(rows).to_have_count(before + 1)
    expect(rows.last.locator("input[name=label]")).to_be_focused()
    rows.last.locator("input[name=label]").fill("email")
    rows.last.locator("input[name=value]").fill("bo@example.com")
    rows.last.get_by_role("button", name="Remove this field").click()
    expect(rows).to_have_count(before)


def test_copying_the_original_and_filtering_the_queue(watched, live_server, log_in, world):
    page = watched
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "admin")
    page.goto(f"{live_server.url}/intake/{world['quarantined'].pk}/")

    page.get_by_role("button", name="Copy", exact=True).click()

    expect(page.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == '{"email": "broken'
    page.goto(f"{live_server.url}/intake/?state=all")
    page.get_by_label("Source").select_option(label="Provider")
    page.wait_for_url(f"**source={world['source'].pk}**")


def test_the_api_docs_render_under_the_policy(watched, live_server, log_in, world):
    page = watched
    log_in(page, "admin")

    page.goto(f"{live_server.url}/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Leadloop API")


def test_a_public_form_redirects_to_the_customers_own_thank_you_page(
    watched, live_server, httpserver
):
    httpserver.expect_request("/thanks").respond_with_data(
        "<!doctype html><title>Thanks</title><h1>Thanks from Acme</h1>", content_type="text/html"
    )
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    assessment_config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=101, on_duplicate="review"
    )
    form = web_forms.create_form(
        source=source,
        by=SYSTEM,
        title="Request a demo",
        slug="demo",
        consent_text="I agree.",
        consent_version="2026-03",
        redirect_url=httpserver.url_for("/thanks"),
    )
    page = watched
    page.goto(f"{live_server.url}/f/{form.slug}/")
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Last name").fill("Smit")
    page.get_by_label("E-mail").fill("ann@example.com")
    page.get_by_label("I agree.").check()
    page.wait_for_timeout(2100)  # quicker posts count as bots

    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="Thanks from Acme")).to_be_visible()


def test_without_scripting_the_navigation_and_the_apply_button_show(
    browser, live_server, log_in, world
):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, "admin")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page

    expect(page.locator("#sidenav")).to_be_in_viewport()
    expect(page.locator(".filterbar__apply").first).to_be_visible()
    context.close()


def test_with_scripting_the_apply_button_hides(watched, live_server, log_in, world):
    page = watched
    log_in(page, "admin")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page

    expect(page.locator(".filterbar__apply").first).to_be_hidden()
