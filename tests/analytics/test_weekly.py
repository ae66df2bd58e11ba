"""The weekly report e-mail through a real SMTP server (aiosmtpd): due Monday from 07:00, sent
once a week to each user with figures in their language, not to who turned it off."""

import socket
from email import message_from_bytes

import pytest
import time_machine
from aiosmtpd.controller import Controller

from leadloop.analytics.models import AlertKind, WeeklyReport
from leadloop.analytics.services import alerts, weekly
from tests.analytics.world import ams, build

pytestmark = pytest.mark.django_db
MONDAY = ams(2026, 11, 30, 8, 0)  # the report of 23–29 November


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1", "port": port,
                              "security": "none"}  # fmt: skip
    settings.LEADLOOP_BASE_URL = "https://leads.example.nl"
    yield handler
    controller.stop()


@pytest.fixture
def world(rep, teammate, team, marketing):
    for user in (rep, teammate, marketing):
        user.email = f"{user.username}@example.nl"
        user.save()
    return build(rep, teammate, team)


def _html(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    return ""


def test_the_report_goes_out_on_monday_morning_once_to_each(world, inbox, marketing, rep):
    with time_machine.travel(ams(2026, 11, 30, 6, 30), tick=False):
        early = weekly.send_due()  # last week's (16–22 Nov) fell due on the 23rd: sent now
    first_batch = len(inbox.messages)
    with time_machine.travel(MONDAY, tick=False):
        sent = weekly.send_due()
        again = weekly.send_due()

    assert early["sent"] == first_batch == 3
    assert (sent["sent"], again["sent"]) == (3, 0)
    this_week = inbox.messages[first_batch:]
    to = sorted(m["To"] for m in this_week)
    assert to == ["marketing@example.nl", "rep@example.nl", "teammate@example.nl"]
    assert WeeklyReport.objects.filter(week_of="2026-11-30", state="sent").count() == 3


def test_marketing_reads_its_sources_and_a_rep_only_their_kpis(world, inbox, marketing):
    alerts.create_rule(
        by=marketing, name="ROI", kind=AlertKind.ROI_BELOW, threshold="1", owner=marketing
    )
    with time_machine.travel(MONDAY, tick=False):
        alerts.evaluate()
        weekly.send_due()

    by_to = {m["To"]: m for m in inbox.messages}
    mine = _html(by_to["marketing@example.nl"])
    assert "Your week in Leadloop: 23 November to 29 November 2026." in mine
    assert "https://leads.example.nl/analytics/sources/?period=2026-11-23..2026-11-29" in mine
    assert "Alerts breaching now" in mine
    theirs = _html(by_to["rep@example.nl"])
    assert "Sources and campaigns" not in theirs
    assert "Followed up" in theirs


def test_a_dutch_user_reads_it_in_dutch_and_who_turned_it_off_gets_none(
    world, inbox, rep, teammate
):
    rep.language = "nl"
    rep.save()
    weekly.set_weekly_report(teammate, subscribed=False, by=teammate)

    with time_machine.travel(MONDAY, tick=False):
        weekly.send_due()

    by_to = {m["To"]: m for m in inbox.messages}
    assert "teammate@example.nl" not in by_to
    assert "Opgevolgd" in _html(by_to["rep@example.nl"])


def test_a_refused_send_is_recorded_and_not_sent_again(world, settings, rep):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1", "port": closed,
                              "security": "none", "timeout": 2}  # fmt: skip

    with time_machine.travel(MONDAY, tick=False):
        failed = weekly.send_due()
        again = weekly.send_due()

    assert failed == {"sent": 0, "failed": 3}
    assert again == {"sent": 0, "failed": 0}
    assert WeeklyReport.objects.filter(state="failed").count() == 3


def test_the_choice_over_the_api_and_the_page(world, api_client_for, logged_in_client, rep):
    client = api_client_for(rep)
    assert client.get("/api/v1/analytics/weekly-report").json() == {"weekly_report": True}

    turned = client.put("/api/v1/analytics/weekly-report", {"weekly_report": False},
                        "application/json")  # fmt: skip

    assert turned.json() == {"weekly_report": False}
    assert weekly.wants_weekly_report(rep) is False
    logged_in_client(rep).post("/analytics/weekly-report/", {"weekly_report": "on"})
    assert weekly.wants_weekly_report(rep) is True
