"""The demo's sales floor: clocks met, late, running and breached with their history, a next step
on most leads being worked (and some without), quotes that follow the lead, in several
currencies, and the teams' follow-up rules."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.db.models import Min

from leadloop.demo.dataset import load_demo
from leadloop.leads.models import OWNED_STATUSES, Lead, LeadStatus
from leadloop.sales.models import (
    OPEN_TASK,
    BreachAction,
    ClockState,
    EmailTemplate,
    FirstContactClock,
    Quote,
    SlaEvent,
    SlaTarget,
    Task,
    TeamSla,
)
from leadloop.sales.services import tally

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for this module's tests, which only read it: inside a transaction
    that stays open for the module and is rolled back after it, each test in a savepoint of its
    own (what Django's setUpTestData does)."""
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(NOW, tick=False):
            load_demo(leads=600, seed=5, now=NOW)
        yield
        transaction.set_rollback(True)


def test_the_demo_has_clocks_in_every_state_with_their_history(demo):
    states = set(FirstContactClock.objects.values_list("state", flat=True))
    assert {ClockState.MET, ClockState.LATE, ClockState.RUNNING, ClockState.STOPPED} <= states
    late = FirstContactClock.objects.filter(state=ClockState.LATE).first()
    kinds = list(SlaEvent.objects.filter(lead_id=late.lead_id).values_list("kind", flat=True))
    assert kinds[0] == "started"
    assert "breached" in kinds
    assert kinds[-1] == "late"
    assert late.breached_at == late.due_at < late.ended_at
    met = FirstContactClock.objects.filter(state=ClockState.MET).first()
    assert met.ended_at <= met.due_at
    assert met.breached_at is None


def test_every_running_clock_is_mirrored_on_its_lead(demo):
    for clock in FirstContactClock.objects.filter(state=ClockState.RUNNING).select_related("lead"):
        assert clock.lead.first_contact_due_at == clock.due_at
        assert clock.lead.last_contacted_at is None


def test_the_next_follow_up_of_a_lead_is_its_earliest_open_task(demo):
    earliest = dict(
        Task.objects.filter(OPEN_TASK)
        .values("lead_id")
        .annotate(first=Min("due_at"))
        .values_list("lead_id", "first")
    )
    worked = Lead.objects.filter(status__in=OWNED_STATUSES, assigned_to__isnull=False)
    assert worked.count() > 20
    without = 0
    for lead_id, follow_up in worked.values_list("pk", "next_follow_up_at"):
        assert earliest.get(lead_id) == follow_up
        without += follow_up is None
    assert 0 < without < worked.count() / 3  # some leads show "no next step"


def test_quoted_and_won_leads_carry_their_current_quote(demo):
    quoted = Lead.objects.filter(status=LeadStatus.QUOTED).exclude(potential_revenue=None)
    assert quoted.exists()
    for lead in quoted:
        quote = Quote.objects.get(lead=lead, is_current=True)
        assert (quote.amount, quote.currency) == (lead.potential_revenue, lead.currency)
    assert Quote.objects.exclude(currency="EUR").exists()


def test_the_teams_have_their_rules_and_templates_exist_in_both_languages(demo):
    rules = dict(TeamSla.objects.values_list("team__name", "on_breach"))
    assert rules == {"Sales North": BreachAction.POOL, "Sales South": BreachAction.ALERT}
    assert SlaTarget.objects.get(fit_grade="A").business_minutes == 60
    languages = set(EmailTemplate.objects.values_list("language", flat=True))
    assert languages == {"en", "nl"}


def test_the_pipeline_totals_equal_the_demos_leads(demo):
    assert tally.verify() == []
    assert tally.totals()
