"""Journey: make an API key on its page, see it once, use it, revoke it on the confirmation page."""

import re

import pytest
from django.test import Client

from leadloop.accounts.models import Role
from tests.factories.accounts import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_make_use_and_revoke_an_api_key(page, live_server, log_in):
    make_user(Role.SALES_REP, username="ria")
    log_in(page, "ria")

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create key").click()
    raw = page.locator("code.secret").inner_text()
    page.screenshot(path="/tmp/var-access/api-keys.png", full_page=True)

    assert re.fullmatch(r"llu_[A-Za-z0-9_-]{43}", raw)
    assert Client(headers={"X-API-Key": raw}).get("/api/v1/me").status_code == 200

    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()
    page.get_by_text("no longer works").wait_for()

    assert page.locator("code.secret").count() == 0
    assert Client(headers={"X-API-Key": raw}).get("/api/v1/me").status_code == 401
