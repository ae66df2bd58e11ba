"""Outbound webhooks on the wire: a real HTTP server (pytest-httpserver) receives signed POSTs
that the official Standard Webhooks library verifies; failures are retried on the schedule,
logged, given up after a day, replayed; a crash mid-send is made good. Issue 13, item 6."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug import Response

from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services as lead_services
from leadloop.leads.models import LeadStatus
from leadloop.notifications.models import Notification
from leadloop.webhooks.models import Attempt, Delivery, DeliveryState, Message
from leadloop.webhooks.services import sending
from leadloop.webhooks.services import subscriptions as services
from tests.factories.leads import make_lead
from tests.webhooks.conftest import received, send_all, state_of

pytestmark = pytest.mark.django_db


def _verify(verifier, request):
    return verifier.verify(request.get_data(as_text=True), dict(request.headers))


def test_a_new_lead_reaches_the_endpoint_signed_with_the_lead_in_the_body(
    subscribe, httpserver, source, settings
):
    settings.LEADLOOP_BASE_URL = "https://leads.example.nl"
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    _subscription, verifier = subscribe("lead.created")

    lead = make_lead(source, first_name="Ann", last_name="de Vries", email="ann@example.nl")
    assert send_all() == 1

    (request,) = received(httpserver)
    body = _verify(verifier, request)  # raises unless the signature and timestamp hold
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["webhook-id"].startswith("msg_")
    assert body["type"] == "lead.created"
    assert body["timestamp"].endswith("Z")
    assert body["data"]["lead_id"] == lead.pk
    assert body["data"]["lead"]["email"] == "ann@example.nl"
    assert body["data"]["lead"]["url"] == f"https://leads.example.nl/leads/{lead.pk}/"
    assert body["data"]["lead"]["source"] == {"id": source.pk, "name": source.name}
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.last_status == 200
    assert Attempt.objects.get(delivery=delivery).response == "ok"


def test_a_wrong_secret_or_a_changed_body_fails_verification(subscribe, httpserver, source):
    httpserver.expect_request("/hook").respond_with_data("ok")
    _subscription, verifier = subscribe("lead.created")
    make_lead(source)
    send_all()
    (request,) = received(httpserver)
    headers = dict(request.headers)
    tampered = request.get_data(as_text=True).replace('"lead.created"', '"lead.merged"')
    with pytest.raises(WebhookVerificationError):
        verifier.verify(tampered, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify(request.get_data(as_text=True), headers)


def test_only_the_events_a_subscription_chose_are_sent(subscribe, httpserver, source):
    httpserver.expect_request("/hook").respond_with_data("ok")
    subscribe("lead.status_changed")
    lead = make_lead(source)
    assert Message.objects.count() == 0  # created, not a status change

    lead_services.transition(lead, to=LeadStatus.DISQUALIFIED, by=SYSTEM)
    send_all()
    (request,) = received(httpserver)
    body = json.loads(request.get_data())
    assert body["type"] == "lead.status_changed"
    assert body["data"]["event"]["to"] == LeadStatus.DISQUALIFIED
    assert body["data"]["lead"]["status"] == LeadStatus.DISQUALIFIED


def test_without_subscriptions_an_event_costs_no_query(source):
    make_lead(source)  # reads the (empty) subscription list once into the cache
    with CaptureQueriesContext(connection) as queries:
        make_lead(source)
    assert not [q for q in queries.captured_queries if "webhooks_" in q["sql"]]
    assert Message.objects.count() == 0


def test_a_rolled_back_change_sends_nothing(subscribe, source):
    subscribe("lead.created")

    def intake_that_fails_after_the_lead() -> None:
        with transaction.atomic():
            make_lead(source)
            assert Message.objects.count() == 1
            raise RuntimeError("the intake failed after the lead was written")

    with pytest.raises(RuntimeError):
        intake_that_fails_after_the_lead()
    assert Message.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_the_commit_queues_a_run_that_sends_everything_due(
    subscribe, httpserver, source, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    from leadloop.webhooks.tasks import send_backlog_task

    httpserver.expect_request("/hook").respond_with_data("ok")
    subscribe("lead.created")
    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        make_lead(source)
        make_lead(source)
    results = default_task_backend.results
    queued = [r.kwargs for r in results if r.task.module_path.endswith("send_backlog_task")]
    # A run per commit here (the dummy backend cannot tell that one waits already); a run sends
    # every due delivery, not those of its own commit only.
    assert queued == [{}, {}]
    assert send_backlog_task.call() == 2
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_a_long_backlog_is_sent_in_runs_that_queue_the_next(subscribe, httpserver, source):
    from django_tasks import default_task_backend

    httpserver.expect_request("/hook").respond_with_data("ok")
    subscribe("lead.created")
    for _lead in range(3):
        make_lead(source)
    default_task_backend.clear()
    assert sending.send_backlog(budget_seconds=0.0) == 0  # no time: nothing sent, run queued
    assert [r.task.module_path for r in default_task_backend.results] == [
        "leadloop.webhooks.tasks.send_backlog_task"
    ]
    assert sending.send_backlog() == 3


def test_a_failing_endpoint_is_retried_on_the_schedule_with_the_same_id(
    subscribe, httpserver, source
):
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok", status=204)
    subscribe("lead.created")
    make_lead(source)
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        send_all()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status == 503
    assert "503" in delivery.last_error
    assert delivery.next_attempt_at == now + dt.timedelta(seconds=5)

    with time_machine.travel(now + dt.timedelta(seconds=2), tick=False):
        assert send_all() == 0  # not due yet
    with time_machine.travel(now + dt.timedelta(seconds=6), tick=False):
        assert send_all() == 1

    first, second = received(httpserver)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert [a.status_code for a in delivery.log.order_by("at")] == [503, 204]


def test_an_endpoint_down_for_a_day_gives_up_tells_the_admins_once_and_can_be_replayed(
    subscribe, httpserver, source, admin
):
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    subscription, verifier = subscribe("lead.created")
    make_lead(source)
    make_lead(source)
    moment = timezone.now()
    for _try in range(sending.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            send_all()
        moment += dt.timedelta(hours=11)

    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.FAILED}
    assert Delivery.objects.first().attempts == sending.MAX_ATTEMPTS == 8
    told = Notification.objects.filter(user=admin, kind="webhook_failed")
    assert told.count() == 1  # two deliveries gave up; the admins hear it once a day

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("ok")
    assert services.replay_failed(subscription, by=admin) == 2
    with time_machine.travel(moment, tick=False):
        assert send_all() == 2
    ids = {r.headers["webhook-id"] for r in received(httpserver)}
    assert ids == set(Message.objects.values_list("msg_id", flat=True))
    for request in received(httpserver):
        with time_machine.travel(moment, tick=False):
            _verify(verifier, request)


def test_a_redirect_is_not_followed(subscribe, httpserver, source):
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": "http://169.254.169.254/latest/"})
    )
    subscribe("lead.created")
    make_lead(source)
    send_all()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status == 302
    assert len(received(httpserver)) == 1


def test_a_private_address_is_refused_at_send_time_too(subscribe, httpserver, source, settings):
    subscribe("lead.created")  # saved while private hosts were allowed
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False
    make_lead(source)
    send_all()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert "not a public address" in delivery.last_error
    assert received(httpserver) == []


def test_a_huge_answer_is_cut_to_what_the_log_keeps(subscribe, httpserver, source):
    httpserver.expect_request("/hook").respond_with_data("<script>" + "x" * 2_000_000)
    subscribe("lead.created")
    make_lead(source)
    send_all()
    attempt = Attempt.objects.get()
    assert len(attempt.response) == sending.KEEP_RESPONSE


def test_a_send_a_dead_worker_left_is_taken_back_after_ten_minutes(subscribe, httpserver, source):
    httpserver.expect_request("/hook").respond_with_data("ok")
    subscribe("lead.created")
    make_lead(source)
    delivery = Delivery.objects.get()
    # The worker took the row and died before the POST (kill -9 between the two steps).
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, attempts=1, changed_at=timezone.now()
    )
    assert send_all() == 0
    assert state_of(delivery.pk).state == DeliveryState.SENDING
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        assert send_all() == 1
    assert state_of(delivery.pk).state == DeliveryState.DELIVERED
    assert len(received(httpserver)) == 1


def test_a_paused_webhook_keeps_its_deliveries_and_sends_them_when_resumed(
    subscribe, httpserver, source, admin
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    subscription, _verifier = subscribe("lead.created")
    make_lead(source)
    services.update_subscription(subscription, by=admin, is_active=False)
    assert send_all() == 0
    assert Delivery.objects.get().state == DeliveryState.PENDING
    services.update_subscription(subscription, by=admin, is_active=True)
    assert send_all() == 1


def test_send_test_reports_at_once(subscribe, httpserver, admin):
    httpserver.expect_request("/hook").respond_with_data("ok", status=202)
    subscription, verifier = subscribe("lead.created")
    delivery = services.send_test(subscription, by=admin)
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.last_status == 202
    (request,) = received(httpserver)
    assert _verify(verifier, request)["type"] == "webhook.test"


def test_a_new_secret_signs_at_once_and_the_old_one_beside_it_for_a_day(
    subscribe, httpserver, source, admin
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    subscription, old = subscribe("lead.created")
    new = Webhook(services.rotate_secret(subscription, by=admin))
    make_lead(source)
    send_all()
    (request,) = received(httpserver)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    _verify(new, request)
    _verify(old, request)  # a receiver still on the old secret keeps accepting deliveries

    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        make_lead(source)
        send_all()
        later = received(httpserver)[-1]
        _verify(new, later)
        with pytest.raises(WebhookVerificationError):
            _verify(old, later)
    assert len(later.headers["webhook-signature"].split(" ")) == 1


def test_an_unreachable_endpoint_costs_one_try_per_sweep_not_one_per_delivery(admin, source):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]  # nobody listens once the socket is closed
    services.create_subscription(
        by=admin, url=f"http://127.0.0.1:{closed}/in", events=["lead.created"]
    )
    for _lead in range(3):
        make_lead(source)

    assert send_all() == 0
    assert Attempt.objects.count() == 1
    assert "Connection" in Attempt.objects.get().error
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [0, 0, 1]
