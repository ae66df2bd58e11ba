"""Journeys through the UI in a real browser: what a marketer or a rep does in a day."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.leads import services
from leadloop.leads.models import ActivityKind, Lead, LeadStatus
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS_NAME = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shoot(page, name: str) -> None:
    """Screenshots to judge the design by eye: desktop and phone, first screen and whole page."""
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)
        page.screenshot(path=f"/tmp/ui-{name}-{label}.png")
        page.screenshot(path=f"/tmp/ui-{name}-{label}-full.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def test_create_find_move_a_lead_and_read_it_in_dutch(page, live_server, log_in):
    make_user(Role.ADMIN, username="anna", first_name="Anna", last_name="de Vries")
    source = make_source("Website")
    for n in range(12):
        make_lead(source, company_name=f"Bakkerij {n}", fit_grade="ABCD"[n % 4])
    log_in(page, "anna")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page

    page.get_by_role("link", name="New lead").click()
    page.locator("#id_source").select_option(label="Website")
    page.get_by_label("First name", exact=True).fill("Fenna")
    page.get_by_label("Last name", exact=True).fill("Zwartkruis")
    page.get_by_label("E-mail", exact=True).fill("fenna@zwartkruis.example")
    page.get_by_label("Phone", exact=True).fill("06 12345678")
    page.get_by_label("Company", exact=True).fill("Zwartkruis Tuinen")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fenna Zwartkruis")

    page.get_by_role("link", name="Leads", exact=True).first.click()
    page.get_by_role("searchbox", name="Search leads").fill("zwartk")
    results = page.locator("#lead-results")
    expect(results.get_by_role("heading")).to_have_text("1 lead")
    _shoot(page, "lead-list-search")
    results.get_by_role("link", name=re.compile("Fenna Zwartkruis")).click()

    page.get_by_role("button", name="Sales ready").click()
    expect(page.locator(".lead-hero .badge--sales_ready")).to_have_text("Sales ready")
    expect(page.locator(".timeline .tl--status_changed").first).to_contain_text("Sales ready")
    _shoot(page, "lead-detail")

    page.get_by_label("Language").select_option("nl")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("heading", name="Tijdlijn")).to_be_visible()
    expect(page.get_by_role("button", name="Vastleggen")).to_be_visible()
    lead = Lead.objects.get(last_name="Zwartkruis")
    assert lead.status == LeadStatus.SALES_READY
    assert lead.activities.filter(kind=ActivityKind.STATUS_CHANGED).count() == 1


def test_lead_list_looks_right_on_desktop_and_phone(page, live_server, log_in):
    make_user(Role.ADMIN, username="anna", first_name="Anna", last_name="de Vries")
    rep = make_user(Role.SALES_REP, username="ruben", first_name="Ruben", last_name="Bakker")
    source = make_source("Website")
    statuses = [LeadStatus.NURTURING, LeadStatus.SALES_READY, LeadStatus.DISQUALIFIED]
    for n in range(18):
        lead = make_lead(
            source,
            company_name=f"Company {n}",
            email=f"person{n}@example.com",
            fit_grade="ABCD"[n % 4],
        )
        if n % 3 == 0:
            services.assign_lead(lead, to=rep, by=SYSTEM)
        elif n % 5 == 0:
            services.transition(lead, to=statuses[n % 3], by=SYSTEM)
    log_in(page, "anna")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page

    page.locator("body").press("/")
    expect(page.get_by_role("searchbox", name="Search leads")).to_be_focused()
    _shoot(page, "lead-list")


def test_hostile_lead_name_renders_as_text(page, live_server, log_in):
    make_user(Role.ADMIN, username="anna")
    # Stored as given, without the assessment's tidying of names (it would capitalise the
    # string), so the exact hostile text reaches the page.
    values = {"first_name": XSS_NAME, "last_name": "", "company_name": XSS_NAME}
    prepared = services.prepare_lead(values, source=make_source("Website"), by=SYSTEM)
    lead = services.save_new_lead(prepared, by=SYSTEM)
    log_in(page, "anna")

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(XSS_NAME)
    assert page.evaluate("typeof window.__xss") == "undefined"
    page.goto(f"{live_server.url}/leads/")
    expect(page.locator("#lead-results")).to_contain_text(XSS_NAME)
    assert page.evaluate("typeof window.__xss") == "undefined"
