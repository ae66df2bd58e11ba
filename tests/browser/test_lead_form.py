"""The lead form's extra-field rows in Chromium, under the enforced CSP (Alpine's CSP build)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadloop.accounts.models import Role
from leadloop.leads.models import Lead
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_extra_rows_are_added_removed_and_saved(page, live_server, log_in):
    make_user(Role.SALES_REP, username="rita", team=make_team("North"))
    make_source("Website")
    log_in(page, "rita")
    page.goto(f"{live_server.url}/leads/new/")
    page.locator("#id_source").select_option(label="Website")
    page.get_by_label("Last name", exact=True).fill("Zwartkruis")
    rows = page.locator(".kv-row")
    expect(rows).to_have_count(1)

    rows.nth(0).get_by_label("Field name").fill("size")
    rows.nth(0).get_by_label("Value").fill("large")
    page.get_by_role("button", name="Add a field").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_label("Field name")).to_be_focused()
    rows.nth(1).get_by_label("Field name").fill("colour")
    rows.nth(1).get_by_label("Value").fill("red")
    page.get_by_role("button", name="Add a field").click()
    rows.nth(2).get_by_label("Field name").fill("drop")
    rows.nth(2).get_by_role("button", name="Remove this field").click()
    expect(rows).to_have_count(2)
    page.get_by_role("button", name="Create lead").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Zwartkruis")
    assert Lead.objects.get().extra == {"size": "large", "colour": "red"}
