"""Each lead's milestones, worked out from its timeline, quotes and clock: the one definition
every report counts with, kept in step by the minute's refresh and checked by verify."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.analytics.models import FactMark, LeadFact
from leadloop.analytics.services import facts
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from tests.analytics.world import NOW, ams, build
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


def _fact(lead) -> LeadFact:
    return LeadFact.objects.get(lead_id=lead.pk)


def test_a_won_lead_has_every_step_at_the_moment_it_happened(world, rep):
    fact = _fact(world.leads["L1"])

    assert fact.received_at == ams(2026, 11, 2, 10, 0)
    assert fact.sales_ready_at == ams(2026, 11, 2, 10, 0)
    assert fact.contacted_at == ams(2026, 11, 2, 14, 0)
    assert fact.quoted_at == ams(2026, 11, 5, 10, 0)
    assert fact.won_at == ams(2026, 11, 20, 10, 0)
    assert fact.lost_at is None
    assert fact.first_contact_minutes == 240
    assert fact.order_value == Decimal("20000.00")
    assert fact.assigned_to_id == rep.pk
    # Monday 10:00 plus nine business hours (9:00–18:00): Tuesday 10:00.
    assert fact.contact_due_at == ams(2026, 11, 3, 10, 0)


def test_won_without_a_quote_counts_as_quoted_when_it_was_won(world):
    fact = _fact(world.leads["L5"])

    assert fact.contacted_at == ams(2026, 11, 13, 9, 0)
    assert fact.quoted_at == ams(2026, 11, 13, 11, 0)
    assert fact.won_at == ams(2026, 11, 13, 11, 0)
    assert fact.currency == "USD"


def test_a_lost_lead_keeps_the_steps_it_reached_and_no_order_value(world):
    fact = _fact(world.leads["L2"])

    assert fact.quoted_at == ams(2026, 11, 6, 10, 0)
    assert fact.lost_at == ams(2026, 11, 25, 10, 0)
    assert fact.won_at is None
    assert fact.order_value is None
    assert fact.first_contact_minutes == 48 * 60


def test_a_merged_lead_is_a_duplicate_and_a_new_one_reached_no_step(world):
    merged = _fact(world.leads["L7"])
    new = _fact(world.leads["L4"])

    assert merged.is_duplicate is True
    assert new.is_duplicate is False
    assert (new.sales_ready_at, new.contacted_at, new.quoted_at, new.won_at) == (
        None,
        None,
        None,
        None,
    )
    assert new.contact_due_at is None


def test_verify_finds_a_changed_row_and_rebuild_puts_it_right(world):
    assert facts.verify() == []
    LeadFact.objects.filter(lead_id=world.leads["L1"].pk).update(won_at=None)

    found = facts.verify()

    assert [(d.lead_id, d.field) for d in found] == [(world.leads["L1"].pk, "won_at")]
    # The day totals were counted from the row as it was: they differ from it now too.
    with pytest.raises(
        CommandError, match=r"(?s)lead \d+: won_at is None.*ready day total .*won 1 \(counted 0\)"
    ):
        call_command("analytics", "verify")
    with time_machine.travel(NOW, tick=False):
        call_command("analytics", "rebuild")
    assert facts.verify() == []


def test_refresh_reads_only_leads_changed_since_its_mark_and_catches_up(world, rep):
    later = NOW + dt.timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        lead = make_lead(world.fair, assigned_to=rep)
        lead_services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
    assert not LeadFact.objects.filter(lead_id=lead.pk).exists()

    with time_machine.travel(later + dt.timedelta(seconds=30), tick=False):
        result = facts.refresh()

    assert result.caught_up is True
    assert result.leads == 1
    assert _fact(lead).contacted_at == later
    # The mark stays OVERLAP behind now: a change that commits late is read again.
    assert (
        FactMark.objects.get(name=facts.MARK).upto
        == later + dt.timedelta(seconds=30) - facts.OVERLAP
    )
    assert facts.verify() == []


def test_a_change_the_refresh_has_not_read_yet_is_not_a_difference(world):
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        lead_services.transition(
            Lead.objects.get(pk=world.leads["L3"].pk), to=LeadStatus.CONTACTED, by=SYSTEM
        )
        assert facts.verify() == []
        facts.refresh()
    assert _fact(world.leads["L3"]).contacted_at == NOW + dt.timedelta(minutes=5)


def test_the_first_refresh_computes_every_lead(world):
    LeadFact.objects.all().delete()
    FactMark.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        result = facts.refresh()

    assert result.leads == Lead.objects.count()
    assert facts.verify() == []


def test_the_refresh_task_is_on_the_schedule():
    from leadloop.core.schedule import SCHEDULE

    spec = next(s for s in SCHEDULE if s.name == "refresh_lead_facts")
    assert spec.every == dt.timedelta(minutes=1)
    assert spec.task.func.__name__ == "refresh_facts_task"


def test_a_run_stopped_inside_a_bulk_change_goes_on_after_the_last_lead_it_computed(
    world, monkeypatch
):
    at = NOW + dt.timedelta(hours=1)
    ids = sorted(lead.pk for lead in world.leads.values())
    Lead.objects.filter(pk__in=ids).update(updated_at=at)  # one bulk change, one timestamp
    monkeypatch.setattr(facts, "CHUNK", 3)

    runs = []
    with time_machine.travel(at + dt.timedelta(minutes=10), tick=False):
        for _ in range(4):
            runs.append(facts.refresh(budget=0))

    # Three leads a run (the budget stops it after one chunk), each run after the last.
    assert [r.leads for r in runs] == [3, 3, 1, 0]
    assert [r.caught_up for r in runs] == [False, False, True, True]
    assert FactMark.objects.get(name=facts.MARK).upto == at
