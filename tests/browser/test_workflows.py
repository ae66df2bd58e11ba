"""Marketing edits a workflow's step in place, sees a refused change name its step, and runs the
simulator without leaving the page."""

import pytest
from playwright.sync_api import expect

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.nurture.mail import services as mail
from leadloop.nurture.workflows import services as workflows
from tests.factories.accounts import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def workflow(transactional_db):
    make_user(Role.MARKETING, username="mia")
    mail.create_template(by=SYSTEM, name="Brochure", language="en", subject="Hi", body="Hello.")
    return workflows.create_workflow(
        by=SYSTEM,
        name="Brochure",
        definition={
            "steps": [
                {"id": "brochure", "type": "send_email", "template": "Brochure"},
                {"id": "week", "type": "wait", "days": 7},
                {"id": "opened", "type": "wait_for", "event": "opened", "days": 7,
                 "then": "end", "else": "discard"},
                {"id": "discard", "type": "disqualify", "reason": "No reaction"},
            ]
        },
    )  # fmt: skip


def test_marketing_edits_a_step_in_place_and_simulates(page, live_server, log_in, workflow):
    log_in(page, "mia")
    page.goto(f"{live_server.url}/nurture/workflows/{workflow.pk}/")

    page.get_by_role("link", name="Edit week").click()
    days = page.get_by_label("Days")
    expect(days).to_have_value("7")
    days.fill("3")
    page.get_by_role("button", name="Save step").click()
    expect(page.locator("#step-week")).to_contain_text("3 days")

    page.get_by_label("Scenarios (one per line: name: events)").fill("Opens: opened@4\nIdle:")
    page.get_by_label("And this many real nurturing leads").fill("0")
    page.get_by_role("button", name="Run the simulation").click()
    result = page.locator("#simulation")
    expect(result).to_contain_text("Opens")
    expect(result).to_contain_text("disqualify")
    assert page.url == f"{live_server.url}/nurture/workflows/{workflow.pk}/"
