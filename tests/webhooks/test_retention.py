"""What the webhook log keeps: done messages for LEADLOOP_WEBHOOK_LOG_DAYS, waiting ones until
they are done; a person's erasure blanks the copies of their data, and their export names the
systems that were told. Issue 13, item 6."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone

from leadloop.privacy import services as privacy
from leadloop.privacy.selectors import PersonQuery
from leadloop.webhooks.models import Attempt, Delivery, DeliveryState, Message
from leadloop.webhooks.services import sending
from tests.factories.leads import make_lead
from tests.webhooks.conftest import send_all

pytestmark = pytest.mark.django_db


def test_done_messages_are_pruned_after_the_log_days_and_waiting_ones_are_kept(
    subscribe, httpserver, source, settings
):
    settings.LEADLOOP_WEBHOOK_LOG_DAYS = 30
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    subscribe("lead.created")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        make_lead(source)
        make_lead(source)
        send_all()  # the first is delivered; the second fails (no more answers) and waits
    states = sorted(Delivery.objects.values_list("state", flat=True))
    assert states == [DeliveryState.DELIVERED, DeliveryState.PENDING]

    assert sending.prune_log(at=start + dt.timedelta(days=29)) == 0
    assert sending.prune_log(at=start + dt.timedelta(days=31)) == 1
    assert Delivery.objects.get().state == DeliveryState.PENDING
    assert Message.objects.count() == 1
    assert Attempt.objects.count() == 1  # the delivered one's try went with it


def test_erasing_a_person_blanks_the_log_and_a_waiting_delivery_sends_the_tombstone(
    subscribe, httpserver, source, admin
):
    httpserver.expect_ordered_request("/hook").respond_with_data("echo ann@example.nl", status=500)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    _subscription, verifier = subscribe("lead.created")
    lead = make_lead(source, first_name="Ann", email="ann@example.nl")
    send_all()
    assert "ann@example.nl" in Message.objects.get().body

    exported = privacy.export_person(PersonQuery(email="ann@example.nl"), by=admin)
    assert [(w["event"], w["sent_to"], w["state"]) for w in exported["webhooks"]] == [
        ("lead.created", "localhost", DeliveryState.PENDING)
    ]
    result = privacy.erase_person(PersonQuery(lead_id=lead.pk), by=admin, confirm="ERASE")

    assert result.counts["webhook_messages"] >= 1
    body = json.loads(Message.objects.get(type="lead.created").body)
    assert body["data"] == {"lead_id": lead.pk, "erased": True}
    assert "ann@example.nl" not in "".join(Attempt.objects.values_list("response", flat=True))
    later = timezone.now() + dt.timedelta(seconds=10)
    with time_machine.travel(later):
        assert send_all() >= 1
        last = httpserver.log[-1][0]
        tombstone = verifier.verify(last.get_data(as_text=True), dict(last.headers))
    assert "ann@example.nl" not in last.get_data(as_text=True)
    assert tombstone["data"]["erased"] is True
