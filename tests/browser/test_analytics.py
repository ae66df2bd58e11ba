"""The analytics charts draw in Chromium under the enforced Content-Security-Policy (Chart.js
from npm, served by the app), and each number links to the leads behind it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.analytics.world import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(rep, teammate, team, marketing):
    return build(rep, teammate, team)


def test_the_source_report_draws_its_charts_and_drills_down(page, live_server, log_in, world):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, "marketing")

    page.goto(f"{live_server.url}/analytics/sources/?period=2026-11")

    for chart in ("chart-money", "chart-funnel"):
        expect(page.locator(f'canvas[data-chart="{chart}"]')).to_have_attribute(
            "data-drawn", "true"
        )
    box = page.locator('canvas[data-chart="chart-funnel"]').bounding_box()
    assert box is not None
    assert box["height"] > 100
    page.get_by_role("row", name="Fair").get_by_role("link", name="1", exact=True).last.click()
    expect(page.get_by_role("heading", name="The leads behind the number")).to_be_visible()
    expect(page.get_by_role("link", name=world.leads["L1"].first_name, exact=False)).to_be_visible()
    assert errors == []


def test_the_kpi_page_draws_the_norms_and_the_follow_up_impact(page, live_server, log_in, world):
    log_in(page, "marketing")

    page.goto(f"{live_server.url}/analytics/kpis/?period=2026-11&by=team")

    for chart in ("chart-norms", "chart-impact"):
        expect(page.locator(f'canvas[data-chart="{chart}"]')).to_have_attribute(
            "data-drawn", "true"
        )
    expect(page.get_by_role("heading", name="Follow-up impact")).to_be_visible()
