"""Managing webhooks through the UI, the API and the CLI: admins only, addresses and events
checked, the secret shown once and kept encrypted, every change audited. Issue 13, item 6."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from leadloop.accounts.models import AuditEvent, Role
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.webhooks.models import Delivery, DeliveryState, Subscription
from leadloop.webhooks.services import subscriptions as services
from tests.factories.accounts import make_partner, make_user
from tests.factories.leads import make_lead
from tests.webhooks.conftest import send_all

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/in", "https://"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://127.0.0.1:5432/", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("http://hooks.example.com/in", "https://"),
        ("javascript:alert(1)", "https://"),
    ],
)
def test_bad_addresses_are_refused_with_the_reason(admin, settings, url, message):
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(ValidationFailed) as caught:
        services.create_subscription(by=admin, url=url, events=["lead.created"])
    assert message in caught.value.errors["url"][0]


def test_events_must_be_known_and_at_least_one(admin):
    with pytest.raises(ValidationFailed, match=r"Unknown event types: lead\.exploded"):
        services.create_subscription(
            by=admin, url="https://hooks.example.com/", events=["lead.exploded"]
        )
    with pytest.raises(ValidationFailed, match="at least one"):
        services.create_subscription(by=admin, url="https://hooks.example.com/", events=[])


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP, Role.PARTNER])
def test_only_admins_manage_webhooks(role, api_client_for, logged_in_client, admin):
    user = make_user(role, partner=make_partner("P") if role == Role.PARTNER else None)
    subscription, _secret = services.create_subscription(
        by=admin, url="https://hooks.example.com/", events=["lead.created"]
    )
    with pytest.raises(NotAllowed):
        services.create_subscription(by=user, url="https://x.example.com/", events=["lead.created"])
    api = api_client_for(user)
    assert api.get("/api/v1/webhooks").json() == []
    assert api.get(f"/api/v1/webhooks/{subscription.pk}").status_code == 404
    created = api.post(
        "/api/v1/webhooks",
        {"url": "https://x.example.com/", "events": ["lead.created"]},
        content_type="application/json",
    )
    assert created.status_code == 403
    assert created["Content-Type"] == "application/problem+json"
    page = logged_in_client(user).get(reverse("webhooks:list"))
    assert page.status_code == 403


def test_the_secret_is_stored_encrypted_and_changes_are_audited(admin):
    subscription, secret = services.create_subscription(
        by=admin, url="https://hooks.example.com/in", events=["lead.created"]
    )
    assert secret.startswith("whsec_")
    assert secret not in Subscription.objects.get().secret_encrypted
    services.update_subscription(subscription, by=admin, events=["lead.routed", "lead.claimed"])
    services.rotate_secret(subscription, by=admin)
    services.delete_subscription(subscription, by=admin)
    changes = list(
        AuditEvent.objects.filter(target_type="webhook")
        .order_by("id")
        .values_list("data", flat=True)
    )
    assert [c["change"] for c in changes] == ["created", "changed", "secret rotated", "deleted"]
    assert changes[1]["fields"] == ["events"]
    assert not any(secret in json.dumps(c) for c in changes)


def test_the_api_subscribes_lists_tests_and_replays(api_client_for, admin, httpserver, source):
    httpserver.expect_request("/in").respond_with_data("ok")
    api = api_client_for(admin)

    created = api.post(
        "/api/v1/webhooks",
        {"url": httpserver.url_for("/in"), "events": ["lead.created"], "description": "CRM"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    hook = body["id"]
    listed = api.get("/api/v1/webhooks").json()
    assert [(h["id"], h["description"]) for h in listed] == [(hook, "CRM")]
    assert "secret" not in listed[0]

    tested = api.post(f"/api/v1/webhooks/{hook}/test")
    assert tested.json()["state"] == DeliveryState.DELIVERED
    assert tested.json()["type"] == "webhook.test"

    make_lead(source)
    send_all()
    log = api.get(f"/api/v1/webhooks/deliveries?subscription={hook}").json()
    assert [d["type"] for d in log] == ["lead.created", "webhook.test"]
    detail = api.get(f"/api/v1/webhooks/deliveries/{log[0]['id']}").json()
    assert json.loads(detail["body"])["type"] == "lead.created"
    assert detail["log"][0]["status_code"] == 200
    replayed = api.post(f"/api/v1/webhooks/deliveries/{log[0]['id']}/replay")
    assert replayed.json()["state"] == DeliveryState.PENDING
    assert send_all() == 1

    paused = api.patch(
        f"/api/v1/webhooks/{hook}", {"is_active": False}, content_type="application/json"
    )
    assert paused.json()["is_active"] is False
    bad = api.patch(
        f"/api/v1/webhooks/{hook}", {"events": ["nope"]}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "events"
    assert api.delete(f"/api/v1/webhooks/{hook}").status_code == 204
    assert Delivery.objects.count() == 0


def test_the_page_shows_the_secret_once_and_escapes_what_was_typed(
    logged_in_client, admin, httpserver
):
    client = logged_in_client(admin)
    form = {
        "url": httpserver.url_for("/in"),
        "description": "<script>alert(1)</script>",
        "events": ["lead.created", "lead.routed"],
        "is_active": "on",
    }
    created = client.post(reverse("webhooks:new"), form)
    assert created.status_code == 201
    subscription = Subscription.objects.get()
    secret = services.reveal_secret(subscription, by=admin)
    assert secret in created.content.decode()
    assert "<script>alert(1)</script>" not in created.content.decode()
    assert "&lt;script&gt;" in created.content.decode()

    again = client.get(reverse("webhooks:detail", args=[subscription.pk]))
    assert secret not in again.content.decode()
    listed = client.get(reverse("webhooks:list")).content.decode()
    assert httpserver.url_for("/in") in listed

    wrong = client.post(reverse("webhooks:new"), {**form, "url": "ftp://x", "events": []})
    assert wrong.status_code == 422
    assert "This field is required." in wrong.content.decode()


def test_the_page_in_dutch(logged_in_client, admin):
    services.create_subscription(
        by=admin, url="https://hooks.example.com/", events=["lead.created"]
    )
    client = logged_in_client(admin)
    page = client.get(reverse("webhooks:list"), HTTP_ACCEPT_LANGUAGE="nl")
    assert "Webhook toevoegen" in page.content.decode()


def test_the_cli_adds_tests_lists_and_fails_loudly(admin, httpserver):
    httpserver.expect_request("/in").respond_with_data("nope", status=400)
    out = io.StringIO()
    call_command(
        "webhooks", "add", httpserver.url_for("/in"), "--events", "lead.created,lead.routed",
        "--json", stdout=out,
    )  # fmt: skip
    added = json.loads(out.getvalue())
    assert added["secret"].startswith("whsec_")
    with pytest.raises(CommandError, match="did not accept"):
        call_command("webhooks", "test", str(added["id"]), stdout=io.StringIO())
    out = io.StringIO()
    call_command("webhooks", "deliveries", "--state", "pending", stdout=out)
    assert "webhook.test" in out.getvalue()
    assert "400" in out.getvalue()
    with pytest.raises(CommandError, match="Unknown event types"):
        call_command("webhooks", "add", "https://x.example.com/", "--events", "bogus")
    with pytest.raises(CommandError, match="No such webhook"):
        call_command("webhooks", "test", "999999")
