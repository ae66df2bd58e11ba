"""Won and lost per month, the win rate and the sales cycle on the hand-made November."""

from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from leadloop.analytics.selectors.outcomes import outcome_report
from leadloop.analytics.selectors.periods import parse_period
from tests.analytics.world import AMS, NOW, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


def test_novembers_outcomes_as_worked_out_by_hand(world, admin):
    report = outcome_report(admin, parse_period("2026-11", today=NOW.date(), zone=AMS))

    # Won: L6 (2 Nov, €5,000), L5 (13 Nov, $10,000), L1 (20 Nov, €20,000); lost: L2 (25 Nov).
    assert [(str(m["month"]), m["won"], m["lost"]) for m in report.months] == [("2026-11-01", 3, 1)]
    assert report.months[0]["revenue"] == Decimal("25000.00")
    assert report.months[0]["revenue_other"] == {"USD": "10000.00"}
    assert report.win_rate == Decimal("0.7500")
    # Days from receipt to the win: 18 (L1), 1 (L5), 2 (L6).
    assert report.median_days_to_win == Decimal("2")


def test_a_rep_sees_only_their_own_outcomes(world, rep):
    report = outcome_report(rep, parse_period("2026-11", today=NOW.date(), zone=AMS))

    assert (report.won, report.lost) == (2, 1)  # L1 and L6 won, L2 lost


def test_a_month_without_outcomes_has_no_rate(world, admin):
    report = outcome_report(admin, parse_period("2026-09", today=NOW.date(), zone=AMS))

    assert report.months == []
    assert report.win_rate is None
    assert report.median_days_to_win is None


def test_the_api_page_and_cli_show_the_outcomes(
    world, admin, api_client_for, logged_in_client, capsys
):
    with time_machine.travel(NOW, tick=False):
        body = api_client_for(admin).get("/api/v1/analytics/outcomes", {"period": "2026-11"})
        page = logged_in_client(admin).get("/analytics/kpis/", {"period": "2026-11"})
        call_command("report", "outcomes", "--period", "2026-11", "--csv")

    assert body.json()["win_rate"] == "0.7500"
    assert "Won and lost" in page.content.decode()
    assert capsys.readouterr().out.splitlines()[1].startswith("2026-11,3,1,0.7500,25000.00,")
