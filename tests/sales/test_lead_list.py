"""The lead list: tel: and mailto: links, and a first-contact badge on leads nobody reached yet
(wall-clock time to the stored deadline)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from leadloop.sales.services import clocks, contact, rules
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _assigned(source, rep, **fields):
    with time_machine.travel(ams(2026, 11, 3, 10, 0), tick=False):
        lead = make_lead(source, assigned_to=rep, **fields)
        clocks.follow([lead.pk])
    return lead


def _list(client):
    return client.get(reverse("leads:lead-list")).text


def test_the_list_links_phone_and_email(logged_in_client, source, rep):
    _assigned(source, rep, email="ann@example.nl", phone="+31 6 12345678")

    page = _list(logged_in_client(rep))

    assert 'href="tel:+31612345678"' in page
    assert 'href="mailto:ann@example.nl"' in page


def test_a_lead_not_reached_yet_shows_when_first_contact_is_due(logged_in_client, source, rep):
    _assigned(source, rep)
    client = logged_in_client(rep)

    with time_machine.travel(ams(2026, 11, 4, 7, 0), tick=False):
        due = _list(client)
    with time_machine.travel(ams(2026, 11, 4, 12, 0), tick=False):
        late = _list(client)

    assert "First contact due in 3\xa0hours" in due
    assert "badge--due" in due
    assert "First contact overdue by 2\xa0hours" in late
    assert "badge--overdue" in late


def test_a_contacted_lead_has_no_badge(logged_in_client, source, rep):
    lead = _assigned(source, rep)
    contact.log_call(lead, by=rep, outcome="reached")

    page = _list(logged_in_client(rep))

    assert "First contact" not in page
