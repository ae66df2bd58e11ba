"""Shared parts of the workflow tests: a real SMTP server, the seed's templates and survey, and
helpers to run the engine on a controlled clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leadloop.nurture.mail import services as mail
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.services import live
from tests.nurture.mail.conftest import inbox  # noqa: F401 - the real SMTP server fixture
from tests.nurture.surveys.conftest import nurturing_lead, survey  # noqa: F401

AMS = ZoneInfo("Europe/Amsterdam")
# Monday 2 November 2026, 09:00 in Amsterdam.
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=AMS)


def day(n: float) -> dt.datetime:
    return START + dt.timedelta(days=n)


def at(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def run(moment: dt.datetime) -> dict[str, int]:
    """The every-minute job at `moment`, then the mail sweep that hands queued mail to SMTP."""
    with at(moment):
        done = live.run_due()
        mail.send_waiting()
    return done


@pytest.fixture
def templates(marketing, survey):  # noqa: F811
    brochure = mail.create_template(
        by=marketing,
        name="Brochure",
        language="en",
        subject="Your brochure, {first_name}",
        body="Here is [the brochure](https://acme.example/brochure.pdf).",
    )
    invitation = mail.create_template(
        by=marketing,
        name="Survey invitation",
        language="en",
        subject="Three questions, {first_name}",
        body="Tell us what you need: {survey_url}",
        survey_id=survey.pk,
    )
    return brochure, invitation


def seed_without_calls() -> dict:
    """The seed's workflow with the telemarketing step as a notice to marketing."""
    steps = [s for s in workflows.BROCHURE_FOLLOW_UP["steps"] if s["id"] not in ("call", "called")]
    steps.insert(
        6,
        {
            "id": "call",
            "type": "notify",
            "user": "marketing",
            "message": "Please call",
            "next": "answered",
        },
    )
    return {"trigger": {"on": "nurturing"}, "steps": steps}


@pytest.fixture
def seed_workflow(marketing, templates):
    with at(START - dt.timedelta(days=1)):
        workflow = workflows.create_workflow(
            by=marketing, name="Brochure follow-up", definition=seed_without_calls()
        )
        workflows.activate(workflow, by=marketing)
    return workflow
