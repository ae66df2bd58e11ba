"""Marketing mail reaches a real SMTP server with both parts and the RFC 8058 headers; consent
and the suppression list are checked when it leaves, not only when it is queued; the per-domain
rate, 4xx back-off, 5xx hard bounces and a crashed send are handled."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from leadloop.errors import Conflict
from leadloop.leads import services as lead_services
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import (
    MarketingMessage,
    MessageState,
    Suppression,
    SuppressionReason,
)
from leadloop.nurture.mail.services import sending
from tests.factories.leads import make_lead
from tests.nurture.mail.conftest import parts

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_a_marketing_mail_has_both_parts_the_unsubscribe_headers_and_a_working_link(
    inbox, template, lead, marketing
):
    queued = mail.send_marketing_email(lead, template, by=marketing)

    counts = mail.send_waiting()

    assert counts["sent"] == 1
    [received] = inbox.messages
    stored = MarketingMessage.objects.get(pk=queued.pk)
    assert stored.state == MessageState.SENT
    assert received["Message-ID"] == stored.message_id
    assert received["To"] == "Ann@smit.example"
    assert received["From"] == "Acme <news@acme.example>"
    assert received["Subject"] == "Ann, our spring offer"
    header = re.sub(r"\s+", "", received["List-Unsubscribe"])  # unfolded
    unsubscribe = re.fullmatch(r"<(https://leads\.acme\.example/nurture/mail/u/[^>]+/)>", header)
    assert unsubscribe is not None
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    found = parts(received)
    assert set(found) == {"text/plain", "text/html"}
    assert "Dear Ann of Smit BV," in found["text/html"]
    assert "Dear Ann of Smit BV," in found["text/plain"]
    assert unsubscribe.group(1) in found["text/html"]
    assert unsubscribe.group(1) in found["text/plain"]
    page = Client().get(unsubscribe.group(1).removeprefix("https://leads.acme.example"))
    assert page.status_code == 200
    assert "Unsubscribe" in page.text
    entry = Activity.objects.get(lead=lead, kind=ActivityKind.EMAIL)
    assert entry.data == {
        "marketing_message_id": queued.pk,
        "template": "Spring offer",
        "to": "Ann@smit.example",
    }


def test_the_lead_gets_the_version_in_its_own_language(inbox, template, marketing, source):
    mail.create_template(
        by=marketing,
        name="Spring offer",
        language="nl",
        subject="{first_name}, ons aanbod",
        body="Beste {first_name},",
    )
    dutch = make_lead(source, first_name="Jan", email="jan@example.nl", language="nl")

    queued = mail.send_marketing_email(dutch, template, by=marketing)
    mail.send_waiting()

    assert (queued.language, queued.subject) == ("nl", "Jan, ons aanbod")
    assert inbox.messages[0]["Subject"] == "Jan, ons aanbod"


def test_a_lead_who_opted_out_gets_no_mail_and_nothing_is_queued(inbox, template, lead, marketing):
    lead_services.record_objection(lead, by=marketing, marketing=True, source="phone call")

    with pytest.raises(Conflict):
        mail.send_marketing_email(Lead.objects.get(pk=lead.pk), template, by=marketing)

    assert MarketingMessage.objects.count() == 0
    assert inbox.messages == []


def test_a_suppressed_address_gets_no_mail_in_any_case(inbox, template, lead, marketing):
    mail.add_suppression(by=marketing, email="ANN@smit.EXAMPLE", note="asked by phone")

    with pytest.raises(Conflict):
        mail.send_marketing_email(lead, template, by=marketing)

    assert MarketingMessage.objects.count() == 0
    assert Suppression.objects.get().email == "ann@smit.example"


def test_consent_withdrawn_after_queueing_stops_the_mail_at_send_time(
    inbox, template, lead, marketing
):
    queued = mail.send_marketing_email(lead, template, by=marketing)
    lead_services.record_objection(lead, by=marketing, marketing=True, source="phone call")

    counts = mail.send_waiting()

    assert counts["skipped"] == 1
    assert inbox.messages == []
    assert MarketingMessage.objects.get(pk=queued.pk).state == MessageState.SKIPPED


def test_a_suppression_added_after_queueing_stops_the_mail_at_send_time(
    inbox, template, lead, marketing
):
    queued = mail.send_marketing_email(lead, template, by=marketing)
    mail.add_suppression(by=marketing, email="ann@smit.example", reason="complaint")

    mail.send_waiting()

    assert inbox.messages == []
    assert MarketingMessage.objects.get(pk=queued.pk).state == MessageState.SKIPPED


def test_the_per_domain_rate_holds_the_excess_back_for_a_later_sweep(
    inbox, settings, template, marketing, source
):
    settings.LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE = 2
    leads = [make_lead(source, email=f"p{n}@big.example") for n in range(3)]
    other = make_lead(source, email="q@small.example")
    with time_machine.travel(START, tick=False):
        for each in [*leads, other]:
            mail.send_marketing_email(each, template, by=marketing)

        first = mail.send_waiting()

    with time_machine.travel(START + dt.timedelta(seconds=30), tick=False):
        early = mail.send_waiting()
    with time_machine.travel(START + dt.timedelta(seconds=61), tick=False):
        later = mail.send_waiting()

    assert (first["sent"], first["waiting"]) == (3, 1)
    assert early["sent"] == 0
    assert later["sent"] == 1
    assert sorted(m["To"] for m in inbox.messages) == [
        "p0@big.example",
        "p1@big.example",
        "p2@big.example",
        "q@small.example",
    ]
    assert MarketingMessage.objects.filter(state=MessageState.SENT).count() == 4


def test_a_temporary_refusal_is_tried_again_after_a_back_off(inbox, template, lead, marketing):
    inbox.answer = "451 4.7.1 Try again later"
    with time_machine.travel(START, tick=False):
        queued = mail.send_marketing_email(lead, template, by=marketing)
        first = mail.send_waiting()
    inbox.answer = "250 OK"
    with time_machine.travel(START + dt.timedelta(seconds=20), tick=False):
        too_early = mail.send_waiting()

    with time_machine.travel(START + dt.timedelta(minutes=5), tick=False):
        later = mail.send_waiting()

    assert (first["waiting"], too_early["sent"], later["sent"]) == (1, 0, 1)
    stored = MarketingMessage.objects.get(pk=queued.pk)
    assert (stored.state, stored.attempts) == (MessageState.SENT, 2)
    assert len(inbox.messages) == 1
    assert not Suppression.objects.exists()


def test_a_permanent_refusal_fails_the_mail_and_suppresses_the_address(
    inbox, template, lead, marketing
):
    inbox.answer = "550 5.1.1 No such user"
    queued = mail.send_marketing_email(lead, template, by=marketing)

    counts = mail.send_waiting()

    assert counts["failed"] == 1
    stored = MarketingMessage.objects.get(pk=queued.pk)
    assert stored.state == MessageState.FAILED
    assert "550" in stored.error
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason, entry.message_id) == (
        "ann@smit.example",
        SuppressionReason.HARD_BOUNCE,
        queued.pk,
    )
    with pytest.raises(Conflict):
        mail.send_marketing_email(lead, template, by=marketing)


def test_a_send_a_dead_worker_left_is_taken_over_once_with_the_same_message_id(
    inbox, template, lead, marketing
):
    with time_machine.travel(START, tick=False):
        queued = mail.send_marketing_email(lead, template, by=marketing)
        assert sending.claim(queued.pk, now=timezone.now())  # the worker dies after this
        nothing_yet = mail.send_waiting()

    with time_machine.travel(START + dt.timedelta(minutes=11), tick=False):
        taken = mail.send_waiting()
        again = mail.send_waiting()

    assert nothing_yet["sent"] == 0
    assert (taken["taken_over"], taken["sent"]) == (1, 1)
    assert (again["taken_over"], again["sent"]) == (0, 0)
    [received] = inbox.messages
    assert received["Message-ID"] == queued.message_id


def test_without_a_mail_server_sending_is_refused(settings, template, lead, marketing):
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": ""}

    with pytest.raises(Conflict):
        mail.send_marketing_email(lead, template, by=marketing)

    assert MarketingMessage.objects.count() == 0
