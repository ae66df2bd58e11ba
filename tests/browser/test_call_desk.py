"""The call desk on a phone (375 × 740): an agent takes the next lead, reads its script, and logs
the call, each answered in place (no page load)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallAttempt, CallEntry
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def test_an_agent_takes_the_next_lead_and_logs_the_call_in_place(page, live_server, log_in):
    agent = make_user(Role.AGENT, username="fenna", first_name="Fenna", last_name="Kok")
    call_list = calls.create_call_list(
        by=SYSTEM,
        name="Follow-up",
        script_en="Hello {first_name}, this is {agent_name}. Did **{company}** get the brochure?",
        members=[agent.pk],
        call_days=[0, 1, 2, 3, 4, 5, 6],
        opens_at="00:00",
        closes_at="23:59",
        holiday_country="",
    )
    lead = make_lead(
        make_source("Website"),
        first_name="Ann",
        last_name="Smit",
        phone="06 12345678",
        company_name="Bakkerij Smit",
        language="en",
    )
    calls.add_to_call_list(lead, call_list, by=SYSTEM)
    page.set_viewport_size(PHONE)
    log_in(page, "fenna")

    page.goto(f"{live_server.url}/nurture/calls/desk/")
    page.evaluate("window.__samePage = true")
    page.get_by_test_id("next-lead").click()

    expect(page.get_by_test_id("script")).to_contain_text(
        "Hello Ann, this is Fenna Kok. Did Bakkerij Smit get the brochure?"
    )
    expect(page.get_by_test_id("tel")).to_have_attribute("href", "tel:+31612345678")
    page.get_by_label("Notes").fill("Has a supplier")
    page.get_by_role("button", name="Reached, not interested").click()

    expect(page.get_by_text("Call with Ann Smit logged.")).to_be_visible()
    assert page.evaluate("window.__samePage") is True
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.notes, attempt.agent_id) == (
        "not_interested",
        "Has a supplier",
        agent.pk,
    )
    assert CallEntry.objects.get().state == "done"
