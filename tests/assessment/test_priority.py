"""A closed lead's missed contact deadline adds no urgency to its priority."""

import datetime as dt

import pytest

from leadloop.assessment.priority import priority_of
from leadloop.leads.models import Lead, LeadStatus

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def _overdue(status: str) -> Lead:
    return Lead(status=status, first_contact_due_at=NOW - dt.timedelta(hours=5))


def test_an_open_overdue_lead_is_urgent() -> None:
    _, parts = priority_of(_overdue(LeadStatus.ASSIGNED), now=NOW)
    assert parts["sla"] == 150


@pytest.mark.parametrize("status", [LeadStatus.WON, LeadStatus.LOST, LeadStatus.DISQUALIFIED])
def test_a_closed_lead_gets_no_urgency(status: str) -> None:
    total, parts = priority_of(_overdue(status), now=NOW)
    open_total, _ = priority_of(_overdue(LeadStatus.ASSIGNED), now=NOW)
    assert "sla" not in parts
    assert total == open_total - 150
