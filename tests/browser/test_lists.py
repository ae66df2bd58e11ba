"""Lists as people use them: paging both ways with a position, the review queue on a laptop,
the lead list on a phone, and "More filters" inside the screen; in English and Dutch."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from playwright.sync_api import expect

from leadloop.accounts.models import Role
from leadloop.intake import services as intake
from leadloop.leads.models import Lead, LeadHold
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
TEXT = {
    "en": {"next": "Next", "previous": "Previous", "of": "of", "filters": "Filters",
           "status": "Status", "accept": "Accept", "fraud": "Fraud review"},
    "nl": {"next": "Volgende", "previous": "Vorige", "of": "van", "filters": "Filters",
           "status": "Status", "accept": "Accepteren", "fraud": "Fraudecontrole"},
}  # fmt: skip


def _open(page, live_server, lang: str, path: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page.goto(live_server.url + path)


def _position(page) -> str:
    return page.locator(".pager__position").inner_text().strip()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_lead_list_pages_forward_and_back_with_its_position(page, live_server, log_in, lang):
    make_user(Role.ADMIN, username="admin")
    source = make_source("Web")
    for i in range(120):
        make_lead(source, last_name=f"Person{i:03}", at=BASE + dt.timedelta(minutes=i))
    words = TEXT[lang]
    log_in(page, "admin")
    _open(page, live_server, lang, "/leads/")

    assert _position(page) == f"1–50 {words['of']} 120"
    page.get_by_role("link", name=words["next"]).click()
    expect(page.locator(".pager__position")).to_have_text(f"51–100 {words['of']} 120")
    first_on_second = page.locator(".lead-link strong").first.inner_text()
    page.get_by_role("link", name=words["next"]).click()
    expect(page.locator(".pager__position")).to_have_text(re.compile("^101"))
    assert _position(page) == f"101–120 {words['of']} 120"
    assert page.get_by_role("link", name=words["next"]).count() == 0

    page.get_by_role("link", name=words["previous"]).click()
    expect(page.locator(".pager__position")).to_have_text(re.compile("^51"))
    assert page.locator(".lead-link strong").first.inner_text() == first_on_second
    page.go_back()  # htmx pushed each page into the history
    expect(page.locator(".pager__position")).to_have_text(re.compile("^101"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_review_queue_fits_a_laptop_with_tabs_counts_and_pages(page, live_server, log_in, lang):
    make_user(Role.ADMIN, username="admin")
    source = make_source("Webformulier met een heel lange naam voor de test")
    for i in range(53):
        body = {
            "first_name": "test",
            "last_name": "Van der Heijden-Bosschaert-Oosterhuis",
            "email": f"annemarie.vanderheijden-bosschaert{i}@yopmail.com",
        }
        submission = intake.receive(
            source=source,
            channel="http",
            body=json.dumps(body).encode(),
            content_type="application/json",
        )
        intake.process_submission(submission.pk)
    assert Lead.objects.filter(hold=LeadHold.FRAUD_REVIEW).count() == 53
    words = TEXT[lang]
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, "admin")
    _open(page, live_server, lang, "/assessment/review/")

    page.screenshot(path=f"test-results/lists-review-{lang}.png")
    doc_width = page.evaluate("document.documentElement.scrollWidth")
    accept = page.get_by_role("button", name=words["accept"]).first.bounding_box()
    tabs = page.locator(".tab")
    assert doc_width <= 1280
    assert accept["x"] + accept["width"] <= 1280
    assert tabs.nth(0).evaluate("e => getComputedStyle(e).borderBottomWidth") == "2px"
    assert tabs.nth(1).inner_text().split() == [*words["fraud"].split(), "53"]
    assert page.locator(".nav-badge").first.inner_text().startswith("53")
    assert _position(page) == f"1–50 {words['of']} 53"

    page.get_by_role("link", name=words["next"]).click()
    assert _position(page) == f"51–53 {words['of']} 53"
    page.get_by_role("button", name=words["accept"]).first.click()
    # The decision comes back to the same page of the same tab, one lead fewer.
    assert page.locator(".flash--success").count() == 1
    assert page.locator(".tab.is-active .tab__count").inner_text() == "52"
    assert "cursor=" in page.url


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_phone_shows_several_leads_and_the_filters_behind_one_button(
    page, live_server, log_in, lang
):
    rep = make_user(Role.SALES_REP, username="rep")
    source = make_source("Web")
    for i in range(12):
        make_lead(
            source,
            assigned_to=rep,
            first_name="Annemarie",
            last_name=f"van der Heijden {i}",
            email=f"annemarie{i}@voorbeeldbedrijf.example.com",
            company_name="Installatiebedrijf De Zonnige Toekomst B.V.",
            at=BASE + dt.timedelta(minutes=i),
        )
    words = TEXT[lang]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "rep")
    _open(page, live_server, lang, "/leads/")

    status_chip = page.locator("summary", has_text=words["status"]).first
    assert not status_chip.is_visible()
    rows_on_screen = page.evaluate(
        """() => [...document.querySelectorAll('.table--leads tbody tr')]
              .filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length"""
    )
    page.screenshot(path=f"test-results/lists-phone-{lang}.png")
    assert rows_on_screen >= 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator(".filterbar__toggle").click()
    assert status_chip.is_visible()
    assert page.locator(".filterbar__toggle").get_attribute("aria-expanded") == "true"


def test_more_filters_opens_inside_the_screen(page, live_server, log_in):
    make_user(Role.ADMIN, username="admin")
    make_lead(make_source("Web"))
    log_in(page, "admin")
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 800})
        _open(page, live_server, "nl", "/leads/")
        page.locator(".dropdown--anchored > summary").click()
        panel = page.locator(".dropdown--anchored > .dropdown__panel").bounding_box()
        page.screenshot(path=f"test-results/lists-more-{width}.png")

        assert panel["x"] >= 0
        assert panel["x"] + panel["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_manager_moves_a_leaving_reps_open_leads_to_the_pool(page, live_server, log_in):
    from tests.factories.accounts import make_team

    team = make_team("Noord")
    manager = make_user(Role.SALES_MANAGER, username="manager", team=team)
    make_team("Noord", manager=manager)
    rep = make_user(Role.SALES_REP, username="daan", team=team, first_name="Daan")
    source = make_source("Web")
    for i in range(3):
        make_lead(source, assigned_to=rep, last_name=f"Klant{i}")
    log_in(page, "manager")
    _open(page, live_server, "nl", "/leads/")

    page.get_by_role("link", name="Leads verplaatsen").click()
    page.get_by_label("Wiens open leads").select_option(value=str(rep.pk))
    page.get_by_label("Toewijzen aan").select_option(value=f"team:{team.pk}")
    page.get_by_label("Waarom (optioneel)").fill("Daan is vertrokken")
    page.get_by_role("button", name="Open leads verplaatsen").click()

    expect(page.locator(".flash--success")).to_have_text("3 open leads verplaatst.")
    lead = Lead.objects.filter(last_name="Klant0").get()
    assert lead.assigned_to is None
    assert lead.team == team
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.get_by_text("Daan is vertrokken")).to_be_visible()
