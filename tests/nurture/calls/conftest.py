"""Shared parts of the telemarketing tests: agents, a call list with office hours on weekdays
(Europe/Amsterdam, no public holidays so the dates below are plain weekdays), and leads with a
phone number."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from leadloop.accounts.models import Role
from leadloop.nurture.calls import services as calls
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

AMS = ZoneInfo("Europe/Amsterdam")
# A Tuesday morning, within the hours.
TUESDAY_10 = dt.datetime(2026, 3, 3, 10, 0, tzinfo=AMS)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=AMS)


@pytest.fixture
def other_agent(db):
    return make_user(Role.AGENT, username="agent2", first_name="Bram", last_name="Smit")


@pytest.fixture
def call_list(marketing, agent):
    return calls.create_call_list(
        by=marketing,
        name="Brochure follow-up calls",
        script_en="Hello {first_name}, this is {agent_name}. Did **{company}** get our brochure?",
        script_nl="Hallo {first_name}, met {agent_name}. Heeft {company} onze brochure ontvangen?",
        holiday_country="",
        members=[agent.pk],
    )


_phones = iter(range(1000, 9999))


def phone() -> str:
    return f"+31 6 1234 {next(_phones):04d}"


@pytest.fixture
def make_callable(source):
    """A nurturing lead with a phone number of its own."""

    def build(**fields):
        fields.setdefault("phone", phone())
        fields.setdefault("email", f"lead{next(_phones)}@example.com")
        return make_lead(source, **fields)

    return build


@pytest.fixture
def queued(call_list, marketing, make_callable):
    """Put a new lead on the list at `at`; returns the entry."""

    def build(*, at=TUESDAY_10, **fields):
        lead = make_callable(**fields)
        return calls.add_to_call_list(lead, call_list, by=marketing, at=at)

    return build
