"""My day on a phone (375 × 740): a rep taps the lead's number, logs how the call went and sets
the next step, each answered in place (no page load), with nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.sales.models import Task
from leadloop.sales.services import steps
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def _too_wide(page) -> list[str]:
    """Visible elements reaching past the right edge of the screen, and a sideways scroll."""
    return page.evaluate(
        """() => {
        const width = document.documentElement.clientWidth;
        const found = [];
        if (document.documentElement.scrollWidth > width) found.push("document scrolls sideways");
        for (const el of document.querySelectorAll("main *")) {
          const box = el.getBoundingClientRect();
          // Also the inside of a closed <details>: Chromium lays it out, at the button's width.
          if (box.width && box.right > width + 1) found.push(el.outerHTML.slice(0, 80));
        }
        return found;
      }"""
    )


def test_a_rep_logs_a_call_from_my_day_on_a_phone_without_a_page_load(page, live_server, log_in):
    rep = make_user(Role.SALES_REP, username="rita", team=make_team("North"))
    source = make_source("Website")
    lead = make_lead(
        source,
        assigned_to=rep,
        first_name="Ann",
        last_name="Smit",
        phone="06 12345678",
        email="ann.smit.with.a.rather.long.address@bakkerij-smit-en-zonen.example.nl",
        company_name="Bakkerij Smit en Zonen",
    )
    task = steps.add_task(
        lead, by=SYSTEM, kind="call", due_at=timezone.now() - dt.timedelta(hours=2), owner=rep
    )
    make_lead(source, assigned_to=rep, first_name="Bo", last_name="de Wit")
    page.set_viewport_size(PHONE)
    log_in(page, "rita")

    page.goto(f"{live_server.url}/sales/my-day/")
    page.evaluate("window.__samePage = true")
    row = page.locator(f"#task-{task.pk}")
    expect(row.get_by_role("link", name=re.compile("06 12345678"))).to_have_attribute(
        "href", "tel:+31612345678"
    )
    expect(row.get_by_role("link", name=re.compile("ann.smit"))).to_have_attribute(
        "href", re.compile("^mailto:ann.smit")
    )
    assert _too_wide(page) == []
    for action in ("Log call", "Snooze", "Next step", "Status"):
        row.get_by_text(action, exact=True).click()  # each opens under its button
    assert _too_wide(page) == []
    page.screenshot(path="test-results/my-day-phone.png", full_page=True)
    call = row.get_by_role("button", name="Reached", exact=True)
    assert call.bounding_box()["height"] >= 44
    call.click()

    expect(page.locator(f"#task-{task.pk}")).to_contain_text("Call logged: Reached.")
    assert page.evaluate("window.__samePage") is True
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 1
    assert Task.objects.get(pk=task.pk).done_at is not None

    # Done, and nothing planned: the row asks for the next step, which is set in place too.
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("No next step")
    row.get_by_role("button", name="Set next step").click()
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("Next step set: Call")
    assert page.evaluate("window.__samePage") is True
    assert Lead.objects.get(pk=lead.pk).next_follow_up_at is not None
    assert _too_wide(page) == []
