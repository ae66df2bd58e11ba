"""The source report, the KPIs and the follow-up impact table on the hand-made November
(world.py): every figure compared exactly with its value worked out by hand."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.analytics.selectors import drill, kpis, periods, sources
from leadloop.analytics.selectors.periods import parse_period
from leadloop.analytics.services.norms import update_norms
from leadloop.errors import NotAllowed
from leadloop.leads import services as lead_services
from tests.analytics.world import AMS, NOW, build
from tests.factories.accounts import make_user

pytestmark = pytest.mark.django_db
NOVEMBER = parse_period("2026-11", today=NOW.date(), zone=AMS)


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


def _by_source(report):
    return {row["source"]: row for row in report.rows}


def test_the_source_report_counts_novembers_leads_and_what_became_of_them(world, marketing):
    rows = _by_source(sources.source_report(marketing, NOVEMBER))

    fair = rows["Fair"]
    assert (fair["received"], fair["duplicates"], fair["valid"]) == (4, 1, 3)
    assert (fair["sales_ready"], fair["contacted"], fair["quoted"], fair["won"]) == (3, 2, 2, 1)
    assert fair["revenue"] == Decimal("20000.00")
    # €1,000 on 5 Nov and 15 of the 31 days of €3,100; the $200 is kept apart.
    assert fair["cost"] == Decimal("2500.00")
    assert fair["cost_other"] == {"USD": "200.00"}
    assert fair["cost_per_lead"] == Decimal("833.33")
    assert fair["cost_per_sales_ready"] == Decimal("833.33")
    assert fair["cost_per_order"] == Decimal("2500.00")
    assert fair["roi"] == Decimal("8.0000")
    assert fair["valid_rate"] == Decimal("0.7500")
    assert fair["won_rate"] == Decimal("0.5000")
    assert fair["lead_to_order"] == Decimal("0.3333")
    assert fair["median_hours_to_contact"] == Decimal("26.0")  # 4 h and 48 h

    broker = rows["Broker"]
    assert (broker["received"], broker["valid"], broker["sales_ready"], broker["won"]) == (
        2,
        2,
        1,
        1,
    )
    assert broker["revenue"] == Decimal("0.00")
    assert broker["revenue_other"] == {"USD": "10000.00"}
    assert broker["cost"] == Decimal("40.00")  # €20 for each of its two valid leads
    assert broker["cost_per_order"] == Decimal("40.00")
    assert broker["roi"] == Decimal("0.0000")


def test_the_total_adds_up_the_rows(world, marketing):
    report = sources.source_report(marketing, NOVEMBER)

    assert report.total["received"] == 6
    assert report.total["won"] == 2
    assert report.total["cost"] == Decimal("2540.00")
    assert report.total["revenue"] == Decimal("20000.00")
    assert report.total["roi"] == Decimal("7.8740")


def test_by_campaign_the_leads_without_a_campaign_get_their_own_row(world, marketing):
    report = sources.source_report(marketing, NOVEMBER, grouping="campaign")
    rows = {(r["source"], r["campaign"]): r for r in report.rows}

    assert set(rows) == {("Broker", ""), ("Fair", ""), ("Fair", "Autumn")}
    assert rows[("Fair", "Autumn")]["valid"] == 2
    assert rows[("Fair", "Autumn")]["cost"] == Decimal("2500.00")
    assert rows[("Fair", "")]["valid"] == 1
    assert rows[("Fair", "")]["cost"] == Decimal("0.00")
    assert rows[("Fair", "")]["roi"] is None


def test_october_holds_the_lead_received_then_and_its_part_of_the_period_cost(world, marketing):
    october = parse_period("2026-10", today=NOW.date(), zone=AMS)

    rows = _by_source(sources.source_report(marketing, october))

    assert rows["Broker"]["won"] == 1
    assert rows["Broker"]["revenue"] == Decimal("5000.00")
    assert rows["Broker"]["roi"] == Decimal("250.0000")  # €5,000 for one lead at €20
    assert rows["Fair"]["cost"] == Decimal("1600.00")  # 16 of 31 days of €3,100
    assert rows["Fair"]["valid"] == 0
    assert rows["Fair"]["cost_per_lead"] is None
    assert rows["Fair"]["roi"] == Decimal("0.0000")


def test_a_period_with_no_data_gives_empty_rows_not_errors(world, marketing):
    report = sources.source_report(marketing, parse_period("2025-01", today=NOW.date(), zone=AMS))

    assert report.rows == []
    assert report.total["received"] == 0
    assert report.total["roi"] is None
    assert report.total["valid_rate"] is None


def test_only_marketing_and_admins_see_the_source_report(world, rep, manager, partner_user):
    for viewer in (rep, manager, partner_user):
        with pytest.raises(NotAllowed):
            sources.source_report(viewer, NOVEMBER)


def _rows(report):
    return {row["name"]: row for row in report.rows}


def test_kpis_per_rep_against_the_norms(world, admin, rep, teammate):
    report = kpis.kpi_report(admin, NOVEMBER, grouping="rep", now=NOW)
    rows = _rows(report)

    mine = rows[rep.get_full_name() or rep.username]
    assert (mine["handed"], mine["followed_up"], mine["overdue"]) == (2, 2, 1)
    assert mine["kpis"]["followed_up"] == {
        "value": Decimal("1.0000"),
        "norm": Decimal("0.8"),
        "meets": True,
    }
    assert mine["kpis"]["overdue"]["value"] == Decimal("0.5000")
    assert mine["kpis"]["overdue"]["meets"] is False
    assert mine["kpis"]["quoted"]["value"] == Decimal("1.0000")
    assert mine["kpis"]["won"]["value"] == Decimal("0.5000")
    assert mine["kpis"]["won"]["meets"] is True
    assert mine["kpis"]["order_value"] == {
        "value": Decimal("20000.00"),
        "norm": Decimal("15000.00"),
        "meets": True,
    }
    assert mine["kpis"]["hours_to_contact"]["value"] == Decimal("26.0")
    assert mine["kpis"]["hours_to_contact"]["meets"] is False

    theirs = rows[teammate.get_full_name() or teammate.username]
    assert (theirs["handed"], theirs["followed_up"], theirs["overdue"]) == (2, 1, 1)
    assert theirs["kpis"]["won"]["value"] == Decimal("1.0000")
    # Its one order is in dollars: no average in euros, and so no mark.
    assert theirs["kpis"]["order_value"] == {
        "value": None,
        "norm": Decimal("15000.00"),
        "meets": None,
    }
    assert theirs["revenue_other"] == {"USD": "10000.00"}
    assert theirs["kpis"]["hours_to_contact"]["value"] == Decimal("23.0")
    assert report.total["handed"] == 4


def test_changed_norms_change_the_marks(world, admin, marketing, rep):
    update_norms(by=marketing, overdue_max=50, first_contact_hours_max=30)

    mine = _rows(kpis.kpi_report(admin, NOVEMBER, now=NOW))[rep.get_full_name() or rep.username]

    assert mine["kpis"]["overdue"]["meets"] is True
    assert mine["kpis"]["hours_to_contact"]["meets"] is True


def test_a_rep_sees_only_their_own_figures_and_a_partner_none_of_the_reps(
    world, rep, teammate, partner_user
):
    report = kpis.kpi_report(rep, NOVEMBER, now=NOW)

    assert [row["name"] for row in report.rows] == [rep.get_full_name() or rep.username]
    assert report.total["handed"] == 2
    assert kpis.kpi_report(partner_user, NOVEMBER, now=NOW).total["handed"] == 0


def test_a_manager_sees_their_team_and_another_teams_manager_nothing_of_it(
    world, manager, other_team
):
    stranger = make_user("sales_manager", username="stranger")
    other_team.manager = stranger
    other_team.save()

    assert kpis.kpi_report(manager, NOVEMBER, grouping="team", now=NOW).total["handed"] == 4
    assert kpis.kpi_report(stranger, NOVEMBER, grouping="team", now=NOW).rows == []


def test_an_agent_has_no_sales_figures(world, agent):
    with pytest.raises(NotAllowed):
        kpis.kpi_report(agent, NOVEMBER, now=NOW)


def test_the_follow_up_impact_splits_by_how_soon_leads_were_first_contacted(world, admin):
    currency, rows = kpis.follow_up_impact(admin, NOVEMBER)
    by = {row.bucket: row for row in rows}

    assert currency == "EUR"
    assert (by["within_24h"].leads, by["within_24h"].won) == (2, 2)
    assert by["within_24h"].revenue == Decimal("20000.00")
    assert by["within_24h"].revenue_per_lead == Decimal("10000.00")
    assert (by["later"].leads, by["later"].quoted, by["later"].won) == (1, 1, 0)
    assert by["later"].conversion == Decimal("0.0000")
    assert (by["never"].leads, by["never"].won) == (1, 0)


def test_the_leads_behind_a_number_are_the_ones_it_counts(world, marketing, rep):
    won = drill.leads_behind(marketing, NOVEMBER, step="won", now=NOW, source=world.fair.pk)
    overdue = drill.leads_behind(marketing, NOVEMBER, step="overdue", basis="sales_ready", now=NOW)
    mine = drill.leads_behind(rep, NOVEMBER, step="received", now=NOW)

    assert [lead.pk for lead in won.leads] == [world.leads["L1"].pk]
    assert {lead.pk for lead in overdue.leads} == {world.leads["L2"].pk, world.leads["L3"].pk}
    assert {lead.pk for lead in mine.leads} == {world.leads["L1"].pk, world.leads["L2"].pk}


def test_the_cli_prints_the_report_as_csv_and_json(world, capsys):
    call_command("report", "sources", "--period", "2026-11", "--csv")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("source,received,rejected,duplicates,valid,")
    assert lines[1].startswith("Broker,2,0,0,2,1,1,1,1,")
    assert lines[-1].startswith("Total,6,0,1,5,4,")

    call_command("report", "kpis", "--period", "2026-11", "--by", "team", "--json")
    data = capsys.readouterr().out
    assert '"handed": 4' in data


def test_a_source_whose_price_is_removed_costs_nothing_per_lead(world, marketing):
    lead_services.set_source_cost(world.broker, cost_per_lead=None, by=SYSTEM)

    rows = _by_source(sources.source_report(marketing, NOVEMBER))

    assert rows["Broker"]["cost"] == Decimal("0.00")
    assert rows["Broker"]["roi"] is None


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-11", "2026-11-01", "2026-11-30"),
        ("2026-Q4", "2026-10-01", "2026-12-31"),
        ("2024", "2024-01-01", "2024-12-31"),
        ("2026-02-27..2026-03-02", "2026-02-27", "2026-03-02"),
        ("this-month", "2026-12-01", "2026-12-31"),
        ("last-month", "2026-11-01", "2026-11-30"),
        ("last-30-days", "2026-11-05", "2026-12-04"),
        ("last-12-months", "2026-01-01", "2026-12-31"),
    ],
)
def test_periods_are_whole_days_in_the_zone(text, first, last):
    period = parse_period(text, today=NOW.date(), zone=AMS)

    assert (str(period.first), str(period.last)) == (first, last)
    assert period.start_at.utcoffset() is not None


def test_a_month_in_amsterdam_starts_the_evening_before_in_utc():
    period = parse_period("2026-11", today=NOW.date(), zone=AMS)

    assert period.start_at.isoformat() == "2026-11-01T00:00:00+01:00"
    assert period.previous().first.isoformat() == "2026-10-01"
    assert period.previous().last.isoformat() == "2026-10-31"


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "nonsense",
        "2026-11-30..2026-11-01",
        "last-0-days",
        "2020-01-01..2026-01-01",
        "'; DROP TABLE x; --",
    ],
)
def test_a_bad_period_is_refused_with_what_to_write(text):
    from leadloop.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as raised:
        periods.parse_period(text, today=NOW.date(), zone=AMS)
    assert "period" in raised.value.errors
