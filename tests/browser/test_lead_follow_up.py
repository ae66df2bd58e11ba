"""A rep works one lead from its page on a phone: logs the first call, plans the next step,
adds a quote (a typo refused in the form), marks it sent, all without leaving the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadloop.accounts.models import Role
from leadloop.leads.models import Lead, LeadStatus
from leadloop.sales.models import Quote, Task
from leadloop.sales.services import clocks
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _next_week() -> str:
    return (timezone.localtime() + dt.timedelta(days=7)).strftime("%Y-%m-%dT09:00")


def test_a_rep_works_a_lead_from_its_page_on_a_phone(page, live_server, log_in):
    team = make_team("North")
    rep = make_user(Role.SALES_REP, username="noor", team=team)
    lead = make_lead(
        make_source("Website"),
        assigned_to=rep,
        first_name="Ann",
        last_name="Smit",
        email="ann@smit.example",
        phone="+31 6 12345678",
    )
    clocks.follow([lead.pk])
    page.set_viewport_size(PHONE)
    log_in(page, "noor")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    panel = page.locator("#follow-up-panel")
    expect(panel.locator(".fu-clock__left")).to_contain_text("of business time left")
    expect(panel.get_by_role("link", name="+31 6 12345678")).to_have_attribute(
        "href", "tel:+31612345678"
    )
    panel.screenshot(path="/tmp/ui-follow-up-phone.png")

    panel.get_by_text("Log a call…").click()
    panel.get_by_label("How did it go?").select_option("reached")
    panel.get_by_label("Notes").fill("Wants a quote for 12 desks")
    panel.get_by_role("button", name="Log the call").click()
    expect(page.locator(".lead-hero .badge--contacted")).to_have_text("Contacted")
    panel = page.locator("#follow-up-panel")
    expect(panel).to_contain_text("No next step")

    panel.get_by_label("What", exact=True).fill("Send the quote")
    panel.locator("#id_task-due_at").fill(_next_week())
    panel.get_by_role("button", name="Plan it").click()
    expect(page.locator("#fu-tasks")).to_contain_text("Send the quote")

    panel = page.locator("#follow-up-panel")
    panel.get_by_text("Add a quote…").click()
    panel.get_by_label("Amount").fill("-12")
    panel.get_by_role("button", name="Add the quote").click()
    expect(page.locator("#follow-up-panel")).to_contain_text("The amount must be more than zero.")
    panel = page.locator("#follow-up-panel")
    panel.get_by_label("Amount").fill("4800")
    panel.get_by_label("Currency").fill("USD")
    panel.get_by_role("button", name="Add the quote").click()
    expect(page.locator("#fu-quotes")).to_contain_text("USD 4,800.00")
    page.locator("#follow-up-panel").screenshot(path="/tmp/ui-follow-up-phone-quote.png")

    page.locator("#fu-quotes").get_by_role("button", name="Mark as sent").click()
    expect(page.locator(".lead-hero .badge--quoted")).to_have_text("Quoted")
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.QUOTED
    assert Quote.objects.get(lead=lead).currency == "USD"
    assert Task.objects.filter(lead=lead, repeat_days=3).count() == 1
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"]
