"""Retention: the daily job erases what was kept long enough, through the erasure path."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.core.schedule import SCHEDULE
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.models import RawSubmission
from leadloop.leads import services as leads_services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.privacy import services
from leadloop.privacy.models import RetentionRule
from leadloop.privacy.tasks import apply_retention_task
from tests.privacy.conftest import submit, submit_throttled

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _lost(web, email, *, at):
    with time_machine.travel(at, tick=False):
        lead = assessment_services.create_lead({"email": email}, source=web, by=SYSTEM)
        reason = leads_services.get_or_create_lost_reason("Too expensive")
        return leads_services.transition(lead, to=LeadStatus.LOST, by=SYSTEM, lost_reason=reason)


def test_default_rules_are_installed(db):
    rules = {(r.target, r.state): r.keep_days for r in RetentionRule.objects.all()}

    assert rules == {
        ("submission", "rejected"): 90,
        ("submission", "quarantined"): 90,
        ("submission", "throttled"): 30,
        ("lead", "lost"): 730,
        ("lead", "disqualified"): 730,
    }


def test_refused_submissions_are_erased_after_90_days(web):
    with time_machine.travel(START, tick=False):
        old = submit(web, {"first_name": "Old", "note": "no contact"})
    with time_machine.travel(START + dt.timedelta(days=60), tick=False):
        young = submit(web, {"first_name": "Young", "note": "no contact"})

    with time_machine.travel(START + dt.timedelta(days=91), tick=False):
        report = services.apply_retention()

    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.erased_at is not None, bytes(old.body)) == (True, b"")
    assert young.erased_at is None
    assert {(r.target, r.state): r.count for r in report.rules}[("submission", "rejected")] == 1


def test_throttled_submissions_are_erased_after_30_days(web):
    with time_machine.travel(START, tick=False):
        old = submit_throttled(web, b"first_name=Old&email=old%40example.org")
    with time_machine.travel(START + dt.timedelta(days=20), tick=False):
        young = submit_throttled(web, b"first_name=Young&email=young%40example.org")
    assert (old.state, young.state) == ("throttled", "throttled")

    with time_machine.travel(START + dt.timedelta(days=31), tick=False):
        report = services.apply_retention()

    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.erased_at is not None, bytes(old.body)) == (True, b"")
    assert young.erased_at is None
    assert {(r.target, r.state): r.count for r in report.rules}[("submission", "throttled")] == 1


def test_lost_leads_are_erased_two_years_after_their_last_activity(web):
    quiet = _lost(web, "quiet@example.org", at=START)
    talking = _lost(web, "talking@example.org", at=START)
    with time_machine.travel(START + dt.timedelta(days=700), tick=False):
        leads_services.record_activity(talking, kind=ActivityKind.EMAIL_OPENED, by=SYSTEM)

    with time_machine.travel(START + dt.timedelta(days=731), tick=False):
        report = services.apply_retention()

    assert Lead.objects.get(pk=quiet.pk).erased_at is not None
    assert Lead.objects.get(pk=quiet.pk).status == LeadStatus.LOST
    assert Lead.objects.get(pk=talking.pk).email == "talking@example.org"
    assert report.total == 1
    erased = Activity.objects.get(kind=ActivityKind.ERASED)
    assert (erased.lead_id, erased.data, erased.actor_label) == (
        quiet.pk,
        {"reason": "retention"},
        "system",
    )


def test_a_dry_run_counts_and_changes_nothing(web):
    lead = _lost(web, "quiet@example.org", at=START)

    with time_machine.travel(START + dt.timedelta(days=800), tick=False):
        report = services.apply_retention(dry_run=True)

    assert report.total == 1
    assert Lead.objects.get(pk=lead.pk).erased_at is None
    assert not Activity.objects.filter(kind=ActivityKind.ERASED).exists()


def test_running_twice_erases_nothing_more(web):
    _lost(web, "quiet@example.org", at=START)

    with time_machine.travel(START + dt.timedelta(days=800), tick=False):
        first = services.apply_retention()
        second = services.apply_retention()

    assert (first.total, second.total) == (1, 0)


def test_an_inactive_rule_is_not_applied(web):
    lead = _lost(web, "quiet@example.org", at=START)
    services.set_retention_rule(
        by=SYSTEM, target="lead", state="lost", keep_days=730, is_active=False
    )

    with time_machine.travel(START + dt.timedelta(days=800), tick=False):
        services.apply_retention()

    assert Lead.objects.get(pk=lead.pk).erased_at is None


def test_admin_changes_a_rule(admin):
    rule = services.set_retention_rule(by=admin, target="lead", state="lost", keep_days=365)

    assert (rule.keep_days, rule.updated_by) == (365, admin)
    assert RetentionRule.objects.filter(target="lead", state="lost").count() == 1


@pytest.mark.parametrize(
    ("target", "state", "days"),
    [("lead", "rejected", 30), ("submission", "lost", 30), ("lead", "lost", 0), ("x", "lost", 5)],
)
def test_a_rule_must_name_a_real_state_and_a_positive_period(admin, target, state, days):
    with pytest.raises(ValidationFailed):
        services.set_retention_rule(by=admin, target=target, state=state, keep_days=days)


def test_marketing_cannot_change_or_apply_rules(marketing):
    with pytest.raises(NotAllowed):
        services.set_retention_rule(by=marketing, target="lead", state="lost", keep_days=1)
    with pytest.raises(NotAllowed):
        services.apply_retention(by=marketing)

    assert RetentionRule.objects.get(target="lead", state="lost").keep_days == 730


def test_the_schedule_applies_retention_daily(db):
    spec = next(s for s in SCHEDULE if s.name == "apply_retention")

    assert (spec.every, spec.task) == (dt.timedelta(hours=24), apply_retention_task)


def test_the_task_reports_how_many_it_erased(web):
    _lost(web, "quiet@example.org", at=START)

    with time_machine.travel(START + dt.timedelta(days=800), tick=False):
        erased = apply_retention_task.call()

    assert erased == 1
    assert RawSubmission.objects.count() == 0
