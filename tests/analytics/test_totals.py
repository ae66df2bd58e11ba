"""The day totals: every report gives the same figures from them as from the facts, they follow
every change of a lead (refresh, deletion, a crash before settling), `verify` finds a wrong
total, and a change of the deployment's zone counts every day again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.test import override_settings

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.defaults import change_defaults
from leadloop.analytics.models import (
    CONTACT_BINS,
    ClosedTotal,
    DirtyDay,
    ReadyTotal,
    ReceivedTotal,
)
from leadloop.analytics.selectors import attribution, counts, kpis, outcomes, sources
from leadloop.analytics.selectors.figures import ContactBinned
from leadloop.analytics.selectors.periods import parse_period
from leadloop.analytics.services import facts, totals
from leadloop.assessment.dedup.services import merge_leads
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.sales.services import clocks
from tests.analytics.world import AMS, NOW, ams, build
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
NOVEMBER = parse_period("2026-11", today=NOW.date(), zone=AMS)
AUTUMN = parse_period("2026-10-01..2026-11-30", today=NOW.date(), zone=AMS)
# Two edge days, November's month rows, two edge days.
ACROSS = parse_period("2026-10-30..2026-12-02", today=NOW.date(), zone=AMS)


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


def _reports(actor, period):
    """Every figure the reports give, as plain data."""
    return {
        **_sales_reports(actor, period),
        "sources": sources.source_report(actor, period).rows,
        "campaigns": sources.source_report(actor, period, grouping="campaign").rows,
        "attribution": attribution.attribution_report(actor, period).rows,
        "attribution per campaign": attribution.attribution_report(
            actor, period, grouping="campaign"
        ).rows,
    }


def _sales_reports(actor, period):
    return {
        **{
            f"kpis {g}": kpis.kpi_report(actor, period, grouping=g, now=NOW).rows
            for g in ("rep", "team", "source", "partner")
        },
        "impact": kpis.follow_up_impact(actor, period, now=NOW),
        "outcomes": outcomes.outcome_report(actor, period).months,
        "cycle": outcomes.outcome_report(actor, period).median_days_to_win,
    }


@pytest.mark.parametrize("period", [NOVEMBER, AUTUMN, ACROSS], ids=["november", "autumn", "across"])
def test_the_reports_give_the_same_figures_from_the_totals_as_from_the_facts(
    world, marketing, period
):
    assert counts.reads_totals(period)
    from_totals = _reports(marketing, period)
    with override_settings(ANALYTICS_DAY_TOTALS=False):
        assert not counts.reads_totals(period)
        from_facts = _reports(marketing, period)

    assert from_totals == from_facts
    assert from_totals["kpis rep"]  # not two empty reports


def test_a_period_reads_the_month_rows_of_its_whole_months_and_day_rows_around_them():
    assert counts.in_period(ACROSS) == (
        Q(whole_month=True, day__in=[dt.date(2026, 11, 1)])
        | Q(whole_month=False, day__gte=dt.date(2026, 10, 30), day__lt=dt.date(2026, 11, 1))
        | Q(whole_month=False, day__gte=dt.date(2026, 12, 1), day__lt=dt.date(2026, 12, 3))
    )
    assert counts.in_period(NOVEMBER) == Q(whole_month=True, day__in=[dt.date(2026, 11, 1)])
    week = parse_period("2026-11-02..2026-11-08", today=NOW.date(), zone=AMS)
    assert counts.in_period(week) == Q(
        whole_month=False, day__gte=dt.date(2026, 11, 2), day__lt=dt.date(2026, 11, 9)
    )


def test_a_manager_reads_their_teams_totals_and_their_own_rows_elsewhere(
    world, manager, team, other_team
):
    own = _assigned_lead(world.fair, manager, other_team, ams(2026, 11, 18, 10, 0))
    with time_machine.travel(NOW, tick=False):
        facts.refresh_leads([own.pk])

    reading = counts.totals_reading(manager, NOVEMBER)
    assert reading is not None
    assert reading.teams == [team.pk]
    from_totals = _sales_reports(manager, NOVEMBER)
    with override_settings(ANALYTICS_DAY_TOTALS=False):
        assert counts.totals_reading(manager, NOVEMBER) is None
        from_facts = _sales_reports(manager, NOVEMBER)

    assert from_totals == from_facts
    by_team = {row["key"]: row for row in from_totals["kpis team"]}
    assert by_team[other_team.pk]["handed"] == 1  # their own lead in South
    assert by_team[team.pk]["handed"] == 4  # North's L1, L2, L3 and L5

    # Where each figure comes from: their own lead in South from their rows kept per rep, per
    # rep and team from the rows of the "rep" grouping, per source from the source rows with
    # them as rep; none of their rows in North, which the team's rows already count.
    ReadyTotal.objects.filter(grouping="rep", key=manager.pk).update(handed=7)
    by_team = {
        row["key"]: row for row in kpis.kpi_report(manager, NOVEMBER, grouping="team", now=NOW).rows
    }
    assert (by_team[other_team.pk]["handed"], by_team[team.pk]["handed"]) == (7, 4)
    assert kpis.kpi_report(manager, NOVEMBER, grouping="source", now=NOW).total["handed"] == 5
    assert ReadyTotal.objects.filter(grouping="source", rep=manager, whole_month=True).count() == 1
    ReadyTotal.objects.filter(grouping="source", rep=manager).update(handed=9)
    month = {"day": dt.date(2026, 11, 1), "whole_month": True, "currency": "EUR"}
    ReadyTotal.objects.create(**month, grouping="source", key=world.fair.pk, team=team, rep=manager)
    ReadyTotal.objects.filter(grouping="source", team=team, rep=manager).update(handed=100)
    assert kpis.kpi_report(manager, NOVEMBER, grouping="source", now=NOW).total["handed"] == 4 + 9
    ClosedTotal.objects.create(**month, team=other_team, rep=manager, lost=3)
    ClosedTotal.objects.create(**month, team=team, rep=manager, lost=100)  # North's: not again
    assert outcomes.outcome_report(manager, NOVEMBER).lost == 1 + 3  # L2, and theirs in South


def _assigned_lead(source, user, team, when):
    with time_machine.travel(when, tick=False):
        lead = make_lead(source, assigned_to=user, team=team)
        clocks.follow([lead.pk])
    return lead


def test_a_rep_reads_their_own_totals_and_a_partner_its_facts(world, rep, partner_user):
    reading = counts.totals_reading(rep, NOVEMBER)
    assert reading == counts.Reading(teams=[], rest=Q(assigned_to_id=rep.pk), own=rep.pk)
    assert counts.totals_reading(partner_user, NOVEMBER) is None


@pytest.mark.parametrize("period", [NOVEMBER, AUTUMN, ACROSS], ids=["november", "autumn", "across"])
def test_a_rep_gets_the_same_figures_from_their_totals_as_from_the_facts(
    world, rep, teammate, period
):
    for viewer in (rep, teammate):
        from_totals = _sales_reports(viewer, period)
        with override_settings(ANALYTICS_DAY_TOTALS=False):
            assert counts.totals_reading(viewer, period) is None
            from_facts = _sales_reports(viewer, period)
        assert from_totals == from_facts

    closed = outcomes.outcome_report(rep, NOVEMBER)
    # L1 won 20 Nov and L6 won 2 Nov, L2 lost 25 Nov; not the teammate's L5
    assert (closed.won, closed.lost, closed.revenue) == (2, 1, Decimal("25000.00"))


def test_the_whole_floor_and_a_rep_read_the_totals_a_rep_only_their_own_rows(world, marketing, rep):
    floor_by_source = kpis.kpi_report(marketing, NOVEMBER, grouping="source", now=NOW)
    ReceivedTotal.objects.filter(source_id=world.fair.pk, whole_month=True).update(leads=100)
    ReadyTotal.objects.filter(grouping="rep", key=rep.pk).update(handed=100)
    november = ReadyTotal.objects.filter(rep=rep, whole_month=True, day=dt.date(2026, 11, 1))
    november.filter(grouping="source").update(handed=30)
    november.filter(grouping="partner").update(handed=40)
    ClosedTotal.objects.filter(rep=rep, whole_month=True, days=None).update(lost=50)
    by_source = november.filter(grouping="source").count()
    by_partner = november.filter(grouping="partner").count()

    fair = next(r for r in sources.source_report(marketing, NOVEMBER).rows if r["source"] == "Fair")
    floor = kpis.kpi_report(marketing, NOVEMBER, grouping="rep", now=NOW)
    own = kpis.kpi_report(rep, NOVEMBER, grouping="rep", now=NOW)
    own_by_source = kpis.kpi_report(rep, NOVEMBER, grouping="source", now=NOW)
    own_by_partner = kpis.kpi_report(rep, NOVEMBER, grouping="partner", now=NOW)

    assert fair["received"] > 100
    assert next(r for r in floor.rows if r["key"] == rep.pk)["handed"] >= 100
    assert own.total["handed"] == 100  # the rep's own rows
    assert by_source >= 1
    assert by_partner >= 1
    assert own_by_source.total["handed"] == 30 * by_source  # their rows per source
    assert own_by_partner.total["handed"] == 40 * by_partner
    # The floor's rows per source are the teams', not the rows per rep again.
    assert kpis.kpi_report(marketing, NOVEMBER, grouping="source", now=NOW) == floor_by_source
    assert outcomes.outcome_report(rep, NOVEMBER).lost == 50
    assert outcomes.outcome_report(marketing, NOVEMBER).lost == 1  # the teams' rows: L2


def test_the_ready_totals_per_source_and_partner_count_a_lead_again_for_its_rep(
    world, rep, teammate
):
    rows = ReadyTotal.objects.filter(whole_month=True, day=dt.date(2026, 11, 1))
    for grouping in ("source", "partner"):
        teams = rows.filter(grouping=grouping, rep=None)
        for who in (rep, teammate):
            theirs = rows.filter(grouping=grouping, rep=who)
            as_rep = rows.filter(grouping="rep", rep=None, key=who.pk)
            assert theirs.exists()
            assert sum(theirs.values_list("handed", flat=True)) == sum(
                as_rep.values_list("handed", flat=True)
            )
            assert sum(theirs.values_list("won", flat=True)) == sum(
                as_rep.values_list("won", flat=True)
            )
        with_a_rep = rows.filter(grouping="rep", rep=None, key__isnull=False)
        assert sum(
            rows.filter(grouping=grouping, rep__isnull=False).values_list("handed", flat=True)
        ) == sum(with_a_rep.values_list("handed", flat=True))
        assert sum(teams.values_list("handed", flat=True)) == sum(
            rows.filter(grouping="rep", rep=None).values_list("handed", flat=True)
        )
    assert not rows.filter(grouping__in=["rep", "team"], rep__isnull=False).exists()


def test_the_closed_totals_count_a_lead_for_its_team_and_again_for_its_rep(world, rep, team):
    rows = ClosedTotal.objects.filter(whole_month=True, day=dt.date(2026, 11, 1))
    teams = rows.filter(rep=None)
    reps = rows.filter(rep__isnull=False)

    # L1, L6 (rep) and L5 (teammate) won; L2 (rep) lost; all in North
    assert sum(teams.values_list("won", flat=True)) == 3
    assert sum(reps.values_list("won", flat=True)) == 3
    assert sum(reps.filter(rep=rep).values_list("won", flat=True)) == 2
    assert sum(reps.filter(rep=rep).values_list("lost", flat=True)) == 1
    assert set(rows.values_list("team_id", flat=True)) == {team.pk}


def test_a_period_in_another_zone_counts_the_facts(world, marketing):
    tokyo = parse_period("2026-11", today=NOW.date(), zone=ZoneInfo("Asia/Tokyo"))
    ReceivedTotal.objects.update(leads=100)

    assert not counts.reads_totals(tokyo)
    assert sources.source_report(marketing, tokyo).total["received"] < 100


def test_a_refresh_settles_the_days_of_the_leads_it_computed(world, marketing, rep):
    later = NOW + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        lead = make_lead(world.fair, assigned_to=rep)
        lead_services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
    december = parse_period("2026-12", today=NOW.date(), zone=AMS)
    assert sources.source_report(marketing, december).total["received"] == 0

    with time_machine.travel(later + facts.OVERLAP + dt.timedelta(minutes=1), tick=False):
        facts.refresh()

    assert not DirtyDay.objects.exists()
    report = sources.source_report(marketing, december).total
    assert (report["received"], report["contacted"]) == (1, 1)
    assert totals.verify_totals() == []


def test_days_marked_by_a_write_that_was_not_settled_are_counted_by_the_next_settle(
    world, marketing
):
    l3 = world.leads["L3"]
    with time_machine.travel(NOW, tick=False):
        lead_services.transition(Lead.objects.get(pk=l3.pk), to=LeadStatus.CONTACTED, by=SYSTEM)
        facts.write(facts.compute([l3.pk]))  # as a run that crashed before its settle

    marked = set(DirtyDay.objects.values_list("cohort", "day"))
    assert marked == {("received", dt.date(2026, 11, 10)), ("ready", dt.date(2026, 11, 10))}
    assert totals.verify_totals() == []  # the marked days are left to the settle
    assert sources.source_report(marketing, NOVEMBER).total["contacted"] == 3  # not yet

    assert totals.settle() == 2
    assert not DirtyDay.objects.exists()
    assert totals.verify_totals() == []
    assert sources.source_report(marketing, NOVEMBER).total["contacted"] == 4


def test_an_unchanged_lead_marks_no_day(world):
    facts.refresh_leads([world.leads["L1"].pk])
    facts.write(facts.compute([world.leads["L1"].pk]))

    assert not DirtyDay.objects.exists()


def test_a_deleted_lead_leaves_the_totals_of_its_days(world, marketing):
    before = sources.source_report(marketing, NOVEMBER).total["received"]
    Lead.objects.filter(pk=world.leads["L4"].pk).delete()

    totals.settle()

    assert sources.source_report(marketing, NOVEMBER).total["received"] == before - 1
    assert totals.verify_totals() == []


def test_verify_names_a_wrong_total_and_rebuild_counts_it_again(world):
    ReadyTotal.objects.filter(grouping="team", whole_month=False).update(quoted=9)
    ClosedTotal.objects.filter(lost=1, whole_month=True).delete()

    found = totals.verify_totals()

    assert any(line.startswith("ready day total day=2026-11-02 grouping=team") for line in found)
    assert any("quoted 9 (counted 1)" in line for line in found)
    assert any(line.startswith("closed month total") and "missing" in line for line in found)
    with pytest.raises(CommandError, match="day totals"):
        call_command("analytics", "verify")
    with time_machine.travel(NOW, tick=False):
        call_command("analytics", "rebuild")
    assert totals.verify_totals() == []


def test_a_new_deployment_zone_counts_every_day_again_in_it(world, admin, marketing):
    change_defaults(by=admin, time_zone="Asia/Tokyo")
    l1_day = ReceivedTotal.objects.get(
        source_id=world.fair.pk, day=dt.date(2026, 11, 2), whole_month=False
    )
    assert l1_day.leads == 1  # 10:00 in Amsterdam is 18:00 in Tokyo: the same day

    assert totals.settle() == -1

    assert not counts.reads_totals(NOVEMBER)  # November in Amsterdam: from the facts
    tokyo = parse_period("2026-11", today=NOW.date(), zone=ZoneInfo("Asia/Tokyo"))
    assert counts.reads_totals(tokyo)
    assert totals.verify_totals() == []
    # L6 was received on 30 October at 10:00 in Amsterdam, 18:00 in Tokyo.
    assert ReceivedTotal.objects.filter(day=dt.date(2026, 10, 30)).exists()
    late = ams(2026, 11, 30, 20, 0)  # 1 December 04:00 in Tokyo
    with time_machine.travel(late, tick=False):
        facts.refresh_leads([make_lead(world.fair).pk])
    assert ReceivedTotal.objects.filter(day=dt.date(2026, 12, 1)).exists()


def test_the_median_from_bins_is_exact_for_values_alone_in_their_bins():
    binned = ContactBinned()
    # 4 hours and 48 hours: the bins [240, 480) and [2880, 4320) hold one value each.
    binned.add({"c5": 0, "c6": 1, "s6": 240, "c9": 1, "s9": 2880})
    assert binned.median() == Decimal("1560")

    many = ContactBinned()
    many.add({"c0": 1, "s0": 2, "c8": 3, "s8": 900 + 1000 + 1100})
    # Ranks 1 and 2 of four (0-based) both fall in [720, 1440): its mean, 1000.
    assert many.median() == Decimal("1000")
    assert ContactBinned().median() is None
    assert len(many.counts) == CONTACT_BINS


def test_a_lead_merged_into_a_won_one_moves_its_credits_in_the_totals(world, marketing):
    def broker_linear():
        report = attribution.attribution_report(marketing, NOVEMBER)
        row = next(r for r in report.rows if r["source"] == "Broker")
        return row["models"]["linear"]["revenue"]

    before = broker_linear()
    with time_machine.travel(ams(2026, 11, 19, 9, 0), tick=False):
        other = make_lead(world.broker)
    with time_machine.travel(ams(2026, 11, 19, 12, 0), tick=False):
        survivor = Lead.objects.get(pk=world.leads["L1"].pk)
        merge_leads(survivor, Lead.objects.get(pk=other.pk), by=SYSTEM)
    with time_machine.travel(NOW, tick=False):
        facts.refresh_leads([world.leads["L1"].pk, other.pk])

    assert totals.verify_totals() == []
    after = broker_linear()
    assert after > before  # the Broker lead is now one of L1's touchpoints
    with override_settings(ANALYTICS_DAY_TOTALS=False):
        assert broker_linear() == after


def test_a_deadline_still_ahead_is_not_overdue_either_way(world, marketing, teammate):
    """L3 (teammate's, handed to sales on 10 November, never contacted) is overdue now, and was
    not at noon that day, its deadline still ahead; the totals and the facts say the same."""

    def teammate_overdue(now):
        report = kpis.kpi_report(marketing, NOVEMBER, grouping="rep", now=now)
        return next(r for r in report.rows if r["key"] == teammate.pk)["overdue"]

    that_noon = ams(2026, 11, 10, 12, 0)
    assert (teammate_overdue(NOW), teammate_overdue(that_noon)) == (1, 0)
    with override_settings(ANALYTICS_DAY_TOTALS=False):
        assert (teammate_overdue(NOW), teammate_overdue(that_noon)) == (1, 0)
