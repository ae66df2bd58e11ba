"""Webhooks as an admin sets them up: add an endpoint (a real local HTTP server), copy the
secret shown once, send a test event and see it in the delivery log, replay it. In English and
Dutch, on a laptop screen without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.models import Role
from leadloop.webhooks.models import Delivery
from tests.factories.accounts import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"add": "Add a webhook", "url": "Endpoint URL", "event": "lead.routed", "save": "Save",
           "secret": "Signing secret", "test": "Send test event",
           "delivered": "Test event delivered",
           "replay": "Replay", "again": "The delivery is sent again.", "log": "Delivery log"},
    "nl": {"add": "Webhook toevoegen", "url": "Endpoint-URL", "event": "lead.routed",
           "save": "Opslaan", "secret": "Ondertekeningsgeheim", "test": "Testgebeurtenis versturen",
           "delivered": "Testgebeurtenis afgeleverd", "replay": "Opnieuw versturen",
           "again": "De aflevering wordt opnieuw verstuurd.", "log": "Afleverlogboek"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_admin_adds_a_webhook_tests_it_and_replays_the_test(
    page, live_server, log_in, httpserver, lang
):
    words = TEXT[lang]
    httpserver.expect_request("/crm").respond_with_data("thanks")
    make_user(Role.ADMIN, username="ada")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "ada")
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])

    page.goto(live_server.url + "/webhooks/")
    page.get_by_role("link", name=words["add"]).click()
    page.get_by_label(words["url"]).fill(httpserver.url_for("/crm"))
    page.get_by_label(words["event"], exact=False).first.check()
    page.get_by_role("button", name=words["save"]).click()

    expect(page.get_by_role("heading", name=words["secret"])).to_be_visible()
    assert page.locator("code.secret").inner_text().startswith("whsec_")
    page.get_by_role("button", name=words["test"]).click()
    expect(page.get_by_text(words["delivered"])).to_be_visible()
    expect(page.get_by_role("heading", name=words["secret"])).to_have_count(0)
    expect(page.get_by_role("heading", name=words["log"])).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.get_by_role("button", name=words["replay"]).first.click()
    expect(page.get_by_text(words["again"])).to_be_visible()
    assert Delivery.objects.get().state == "pending"
    assert len(httpserver.log) == 1
