"""A lead's stored priority follows its status: closing it takes the contact urgency away at once,
through every path that moves a status, and reopening it gives the urgency back."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.priority import priority_of
from leadloop.leads import services
from leadloop.leads.models import Lead, LeadStatus
from tests.factories.leads import make_lead

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def lost_reason(db):
    return services.get_or_create_lost_reason("Too expensive")


def _overdue_lead(source, rep) -> Lead:
    """An assigned lead whose first contact was due five hours ago, assessed with that deadline."""
    lead = make_lead(source, assigned_to=rep)
    services.apply_changes(
        lead, {"first_contact_due_at": NOW - dt.timedelta(hours=5)}, by=SYSTEM, touch=False
    )
    assessment_services.reassess_lead(lead, by=SYSTEM)
    return Lead.objects.get(pk=lead.pk)


def test_an_overdue_open_lead_stores_its_urgency(clock, source, rep):
    lead = _overdue_lead(source, rep)

    assert lead.status == LeadStatus.ASSIGNED
    assert lead.assessment["priority"]["sla"] == 150
    assert lead.priority == sum(lead.assessment["priority"].values())


@pytest.mark.parametrize("to", [LeadStatus.LOST, LeadStatus.DISQUALIFIED])
def test_closing_through_the_service_takes_the_urgency_out_of_the_stored_priority(
    clock, source, rep, lost_reason, to
):
    lead = _overdue_lead(source, rep)

    services.transition(
        lead, to=to, by=SYSTEM, lost_reason=lost_reason if to == LeadStatus.LOST else None
    )

    closed = Lead.objects.get(pk=lead.pk)
    assert closed.status == to
    assert closed.priority == lead.priority - 150
    assert "sla" not in closed.assessment["priority"]
    assert closed.assessment["priority"] == {
        k: v for k, v in lead.assessment["priority"].items() if k != "sla"
    }
    assert closed.priority == priority_of(closed, now=NOW)[0]


def test_a_won_lead_keeps_no_urgency(clock, source, rep):
    lead = _overdue_lead(source, rep)

    services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
    services.transition(lead, to=LeadStatus.WON, by=SYSTEM)

    won = Lead.objects.get(pk=lead.pk)
    assert won.status == LeadStatus.WON
    assert won.priority == lead.priority - 150
    assert "sla" not in won.assessment["priority"]


def test_reopening_a_lost_lead_brings_the_urgency_back(clock, source, rep, lost_reason):
    lead = _overdue_lead(source, rep)
    services.transition(lead, to=LeadStatus.LOST, by=SYSTEM, lost_reason=lost_reason)
    assert Lead.objects.get(pk=lead.pk).priority == lead.priority - 150

    services.transition(lead, to=LeadStatus.NURTURING, by=SYSTEM)

    reopened = Lead.objects.get(pk=lead.pk)
    assert reopened.status == LeadStatus.NURTURING
    assert reopened.priority == lead.priority
    assert reopened.assessment["priority"]["sla"] == 150


def test_the_bulk_status_action_closes_without_urgency(
    clock, logged_in_client, source, admin, rep, lost_reason
):
    leads = [_overdue_lead(source, rep) for _ in range(2)]
    untouched = _overdue_lead(source, rep)

    logged_in_client(admin).post(
        reverse("leads:lead-bulk"),
        {
            "ids": [lead.pk for lead in leads],
            "action": "status",
            "bulk-to": "lost",
            "bulk-lost_reason": lost_reason.pk,
            "query": "",
        },
        headers=HTMX,
    )

    for lead in leads:
        closed = Lead.objects.get(pk=lead.pk)
        assert (closed.status, closed.priority) == (LeadStatus.LOST, lead.priority - 150)
        assert "sla" not in closed.assessment["priority"]
    still_open = Lead.objects.get(pk=untouched.pk)
    assert still_open.priority == untouched.priority
    assert still_open.assessment["priority"]["sla"] == 150


def test_the_api_transition_closes_without_urgency(clock, api_client_for, source, admin, rep):
    lead = _overdue_lead(source, rep)

    answer = api_client_for(admin).post(
        f"/api/v1/leads/{lead.pk}/transition",
        {"to": "disqualified"},
        content_type="application/json",
    )

    assert answer.status_code == 200
    assert answer.json()["priority"] == lead.priority - 150
    assert "sla" not in Lead.objects.get(pk=lead.pk).assessment["priority"]


def test_a_lead_not_assessed_yet_keeps_its_priority_until_it_is(clock, source, rep):
    lead = _overdue_lead(source, rep)
    services.apply_changes(lead, {"assessed_at": None, "priority": 7}, by=SYSTEM, touch=False)

    services.transition(lead, to=LeadStatus.DISQUALIFIED, by=SYSTEM)

    assert Lead.objects.get(pk=lead.pk).priority == 7


def test_the_migration_takes_the_urgency_out_of_leads_closed_before(clock, source, rep):
    migration = importlib.import_module(
        "leadloop.assessment.migrations.0004_closed_leads_without_urgency"
    )
    stale = _overdue_lead(source, rep)
    open_lead = _overdue_lead(source, rep)
    services.transition(stale, to=LeadStatus.DISQUALIFIED, by=SYSTEM)
    # As an older version left it: closed, with the urgency it had while open.
    services.apply_changes(
        stale,
        {"priority": open_lead.priority, "assessment": open_lead.assessment},
        by=SYSTEM,
        touch=False,
    )

    changed = migration.forget_closed_urgency(apps, connection.schema_editor())

    fixed = Lead.objects.get(pk=stale.pk)
    assert changed == 1
    assert fixed.priority == open_lead.priority - 150
    assert "sla" not in fixed.assessment["priority"]
    assert fixed.assessment["findings"] == open_lead.assessment["findings"]
    assert (fixed.priority, fixed.assessment["priority"]) == priority_of(fixed, now=NOW)
    assert Lead.objects.get(pk=open_lead.pk).priority == open_lead.priority
    assert migration.forget_closed_urgency(apps, connection.schema_editor()) == 0
