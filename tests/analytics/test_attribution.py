"""Attribution: the shares of each model worked out by hand, a lead reached through two
sources, and the November report with cost and ROI per model."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.analytics.models import Credit
from leadloop.analytics.selectors.attribution import attribution_report
from leadloop.analytics.selectors.periods import parse_period
from leadloop.analytics.services import facts
from leadloop.analytics.services.attribution import Touch, shares
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind, Lead, LeadStatus
from tests.analytics.world import AMS, NOW, ams, build
from tests.factories.leads import make_lead, make_source

pytestmark = pytest.mark.django_db
NOVEMBER = parse_period("2026-11", today=NOW.date(), zone=AMS)
WON = ams(2026, 11, 30, 12, 0)


def _touch(days_before: int) -> Touch:
    return Touch(WON - dt.timedelta(days=days_before), "submitted", 1, None, "")


def test_each_model_splits_three_touchpoints_as_worked_out_by_hand():
    split = shares([_touch(14), _touch(7), _touch(0)], WON)

    assert split["first_touch"] == [1, 0, 0]
    assert split["last_touch"] == [0, 0, 1]
    assert split["linear"] == [Decimal("0.333333"), Decimal("0.333333"), Decimal("0.333334")]
    assert split["position_based"] == [Decimal("0.4"), Decimal("0.2"), Decimal("0.4")]
    # Weights 1/4, 1/2 and 1 (halved every seven days before the win), out of 1.75.
    assert split["time_decay"] == [
        Decimal("0.142857"),
        Decimal("0.285714"),
        Decimal("0.571429"),
    ]


def test_position_based_gives_two_touchpoints_half_each_and_one_all():
    assert shares([_touch(3), _touch(1)], WON)["position_based"] == [Decimal("0.5")] * 2
    assert shares([_touch(3)], WON)["position_based"] == [Decimal("1")]


def test_a_lead_reached_through_two_sources_credits_both_as_each_model_says(marketing, rep):
    search = make_source("Search")
    fair = make_source("Fair")
    with time_machine.travel(ams(2026, 11, 2, 10, 0), tick=False):
        lead = make_lead(search, assigned_to=rep)
    with time_machine.travel(ams(2026, 11, 9, 10, 0), tick=False):
        lead_services.record_activity(
            Lead.objects.get(pk=lead.pk),
            kind=ActivityKind.FORM_SUBMITTED,
            by=SYSTEM,
            message=fair.name,
            data={"touchpoint": True, "source_id": fair.pk, "source": fair.name},
        )
    with time_machine.travel(ams(2026, 11, 16, 10, 0), tick=False):
        lead_services.transition(Lead.objects.get(pk=lead.pk), to=LeadStatus.CONTACTED, by=SYSTEM)
        lead_services.transition(
            Lead.objects.get(pk=lead.pk),
            to=LeadStatus.WON,
            by=SYSTEM,
            order_value=Decimal("9000"),
        )
    with time_machine.travel(NOW, tick=False):
        facts.rebuild()

    rows = {r["source"]: r["models"] for r in attribution_report(marketing, NOVEMBER).rows}

    assert rows["Search"]["first_touch"]["revenue"] == Decimal("9000.00")
    assert rows["Fair"]["first_touch"]["revenue"] == Decimal("0.00")
    assert rows["Fair"]["last_touch"]["revenue"] == Decimal("9000.00")
    assert rows["Search"]["linear"]["revenue"] == Decimal("4500.00")
    assert rows["Fair"]["position_based"]["revenue"] == Decimal("4500.00")
    # Seven and fourteen days before the win: weights 1/2 and 1/4 → 1/3 and 2/3.
    assert rows["Search"]["time_decay"]["revenue"] == Decimal("3000.00")
    assert rows["Fair"]["time_decay"]["revenue"] == Decimal("6000.00")
    assert Credit.objects.filter(lead_id=lead.pk).count() == 2
    assert facts.verify() == []


def test_the_november_report_beside_its_costs(rep, teammate, team, marketing):
    build(rep, teammate, team)

    report = attribution_report(marketing, NOVEMBER)
    rows = {r["source"]: r for r in report.rows}

    # Fair: L1's €20,000 (its own arrival and the lead merged into it, both Fair's).
    for model in ("first_touch", "last_touch", "linear", "position_based", "time_decay"):
        assert rows["Fair"]["models"][model]["revenue"] == Decimal("20000.00")
        assert rows["Fair"]["models"][model]["roi"] == Decimal("8.0000")
    # Broker: L6 won on 2 November (€5,000); L5's dollars kept apart.
    assert rows["Broker"]["models"]["linear"]["revenue"] == Decimal("5000.00")
    assert rows["Broker"]["models"]["linear"]["revenue_other"] == {"USD": "10000.00"}
    assert rows["Broker"]["models"]["linear"]["roi"] == Decimal("125.0000")
    assert report.total["models"]["first_touch"]["revenue"] == Decimal("25000.00")


def test_the_attribution_api_page_and_cli(
    rep, teammate, team, marketing, api_client_for, logged_in_client, capsys
):
    from django.core.management import call_command

    build(rep, teammate, team)
    with time_machine.travel(NOW, tick=False):
        body = (
            api_client_for(marketing)
            .get("/api/v1/analytics/attribution", {"period": "2026-11"})
            .json()
        )
        page = logged_in_client(marketing).get("/analytics/attribution/", {"period": "2026-11"})
        refused = api_client_for(rep).get("/api/v1/analytics/attribution")
        call_command("report", "attribution", "--period", "2026-11", "--csv")

    fair = next(row for row in body["rows"] if row["source"] == "Fair")
    assert fair["models"]["time_decay"] == {
        "revenue": "20000.00",
        "revenue_other": {},
        "roi": "8.0000",
    }
    assert page.status_code == 200
    assert "Position (40/20/40)" in page.content.decode()
    assert refused.status_code == 403
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("source,cost,first_touch_revenue,first_touch_roi,")
    assert lines[2].startswith("Fair,2500.00,20000.00,8.0000,")
