"""The demo as `make run` loads it (300 leads, seed 3): every status, consistent owners and
timelines, valid phones, search, objections, the call desk and the seed workflow. The demo is
loaded once for the module; the tests only read it."""

from __future__ import annotations

import datetime as dt

import phonenumbers
import pytest
from django.apps import apps
from django.db import transaction

from leadloop.accounts.models import Role, User
from leadloop.analytics.services import facts, totals
from leadloop.demo.dataset import load_demo
from leadloop.demo.dataset.loading import HELD_EXAMPLES
from leadloop.leads import lifecycle, selectors
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    Lead,
    LeadStatus,
    Organization,
)
from leadloop.leads.normalize import build_search_text, normalize_phone
from leadloop.nurture.mail.models import MarketingMessage

NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
OPEN_OWNED = (LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUOTED, LeadStatus.WON)
UNOWNED = (LeadStatus.NEW, LeadStatus.NURTURING, LeadStatus.DISQUALIFIED)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once: inside a transaction that stays open for the module and is rolled
    back after it, each test in a savepoint of its own (what Django's setUpTestData does)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_demo(leads=300, seed=3, now=NOW)
        yield
        transaction.set_rollback(True)


def test_demo_has_every_status_in_plausible_numbers(demo):
    counts = {s: Lead.objects.filter(status=s).count() for s in LeadStatus.values}
    assert sum(counts.values()) == 300 + len(HELD_EXAMPLES)
    assert all(n > 0 for n in counts.values()), counts


def test_demo_owners_match_status(demo):
    assert not Lead.objects.filter(
        status__in=OPEN_OWNED, assigned_to__isnull=True, owner_partner__isnull=True
    ).exists()
    assert not Lead.objects.filter(status__in=UNOWNED, assigned_to__isnull=False).exists()
    assert not Lead.objects.filter(status__in=UNOWNED, owner_partner__isnull=False).exists()
    assert not Lead.objects.filter(
        status=LeadStatus.SALES_READY, assigned_to__isnull=False
    ).exists()
    for lead in Lead.objects.filter(assigned_to__isnull=False).select_related("assigned_to"):
        assert lead.assigned_to.role in (Role.SALES_REP, Role.SALES_MANAGER)
        assert lead.team_id == lead.assigned_to.team_id
    assert not Lead.objects.filter(status=LeadStatus.LOST, lost_reason__isnull=True).exists()
    assert not Lead.objects.filter(status=LeadStatus.WON, order_value__isnull=True).exists()
    assert not Lead.objects.filter(status=LeadStatus.QUOTED, probability__isnull=True).exists()
    assert not Lead.objects.filter(status__in=lifecycle.CLOSED, closed_at__isnull=True).exists()


def test_demo_timelines_replay_allowed_moves_to_the_current_status(demo):
    nurtured = set(MarketingMessage.objects.values_list("lead_id", flat=True))
    assert nurtured  # the brochure follow-up ran on some of the demo's nurturing leads
    called = set(apps.get_model("nurture", "CallEntry").objects.values_list("lead_id", flat=True))
    assert called  # and some of them went on the call list
    nurtured |= called

    for lead in Lead.objects.all():
        moves = [
            a.data
            for a in lead.activities.filter(kind=ActivityKind.STATUS_CHANGED).order_by(
                "created_at", "id"
            )
        ]
        status = LeadStatus.NEW
        for move in moves:
            assert move["from"] == status
            assert move["to"] in lifecycle.ALLOWED_MOVES[status]
            status = move["to"]
        assert status == lead.status
        first = lead.activities.order_by("created_at", "id").first()
        assert first.kind == ActivityKind.CREATED
        assert first.created_at == lead.created_at
        if lead.pk in nurtured:
            continue  # a marketing mail's or a call's entries come later, through the services
        assert lead.activities.order_by("-created_at", "-id").first().created_at == lead.updated_at


def test_demo_phones_are_valid_and_stored_as_the_services_would(demo):
    leads = list(Lead.objects.exclude(phone_raw=""))
    assert len(leads) > 200
    for lead in leads:
        assert phonenumbers.is_valid_number(phonenumbers.parse(lead.phone_e164))
        assert normalize_phone(lead.phone_raw, region=lead.country) == lead.phone_e164


def test_demo_search_text_is_what_build_search_text_makes(demo):
    for lead in Lead.objects.all():
        assert lead.search_text == build_search_text(
            first_name=lead.first_name,
            last_name=lead.last_name,
            email=lead.email,
            company_name=lead.company_name,
            phone_e164=lead.phone_e164,
            phone_raw=lead.phone_raw,
        )


def test_demo_organisation_paths_follow_their_parents(demo):
    orgs = list(Organization.objects.select_related("parent"))
    for org in orgs:
        expected = f"{org.parent.path if org.parent else '/'}{org.pk}/"
        assert org.path == expected
    assert max(org.depth for org in orgs) == 2
    assert Lead.objects.filter(organization__parent__isnull=False).exists()


def test_search_finds_a_demo_lead_by_email_and_by_last_name(demo):
    admin = User.objects.get(username="admin")
    lead = Lead.objects.exclude(email="").order_by("id")[100]

    by_email = selectors.list_leads(admin, selectors.LeadFilters(q=lead.email))
    by_name = selectors.list_leads(admin, selectors.LeadFilters(q=lead.last_name), limit=200)

    assert [found.pk for found in by_email.items] == [
        found.pk for found in Lead.objects.filter(email=lead.email).order_by("-created_at", "-id")
    ]
    assert lead.pk in [found.pk for found in by_name.items]


def test_demo_shows_two_objections_and_one_erased_lead(demo):
    opted_out = Lead.objects.filter(marketing_opt_out_at=NOW)
    assert opted_out.count() == 2
    assert opted_out.filter(processing_objected_at=NOW).count() == 1
    erased = Lead.objects.get(erased_at__isnull=False)
    assert (erased.status, erased.email, erased.search_text) == (LeadStatus.LOST, "", "")
    assert erased.activities.order_by("-created_at", "-id").first().kind == ActivityKind.ERASED


def test_demo_has_an_agent_working_the_brochure_follow_up_calls(demo):
    agent = User.objects.get(username="agent.fenna")
    call_list = apps.get_model("nurture", "CallList").objects.get(name="Brochure follow-up calls")
    attempts = apps.get_model("nurture", "CallAttempt").objects.filter(agent=agent)

    assert agent.role == Role.AGENT
    assert list(call_list.members.all()) == [agent]
    assert "{first_name}" in call_list.script_en
    assert "{first_name}" in call_list.script_nl
    # The workflow put the leads who opened the survey mail but did not answer on the list.
    origins = set(call_list.entries.values_list("origin", flat=True))
    assert origins == {"workflow Brochure follow-up"}
    assert attempts.count() >= 1
    assert Activity.objects.filter(kind=ActivityKind.CALL, actor_user=agent).count() == (
        attempts.count()
    )


def test_demo_runs_the_seed_workflow_with_leads_at_every_stage(demo):
    workflow_model = apps.get_model("nurture", "Workflow")
    enrollment = apps.get_model("nurture", "Enrollment")
    step = apps.get_model("nurture", "EnrollmentStep")

    workflow = workflow_model.objects.get(name="Brochure follow-up")
    paths = set(step.objects.values_list("step", "outcome"))
    states = set(enrollment.objects.values_list("state", flat=True))

    assert workflow.state == "active"
    assert workflow.active_version.number == 1
    assert enrollment.objects.count() == 50
    assert {"active", "finished"} <= states
    assert {("brochure", "queued"), ("week", "waited"), ("survey", "queued")} <= paths
    assert ("answer", "no") in paths
    assert ("discard", "disqualified") in paths
    assert not enrollment.objects.filter(state="failed").exists()
    # Each lead's mails follow its workflow: the invitation 7 days after the brochure.
    for one in enrollment.objects.filter(step__in=["bounced", "answer", "call", "called", "end"]):
        sent = list(
            MarketingMessage.objects.filter(lead_id=one.lead_id)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(sent) == 2:
            assert sent[1] - sent[0] >= dt.timedelta(days=7)


def test_demo_runs_a_small_lead_market(demo):
    """Five buyers (one bidding by ping, one by e-mail), leads sold in real auctions and
    charged, a return approved and one waiting, and the portal user linked to its buyer."""
    buyer = apps.get_model("distribution", "Buyer")
    sale = apps.get_model("distribution", "Sale")
    returns = apps.get_model("distribution", "LeadReturn")
    ledger = apps.get_model("distribution", "LedgerEntry")
    assert buyer.objects.count() == 5
    assert buyer.objects.filter(pings=True).count() == 1
    assert set(buyer.objects.values_list("method", flat=True)) == {"json", "xml", "form", "email"}
    sold = sale.objects.filter(state="sold")
    assert sold.count() >= 2  # a 300-lead demo has few unplaced Dutch leads to sell
    assert ledger.objects.filter(kind="sale").count() == sold.count() + 1  # one was returned
    assert sorted(returns.objects.values_list("state", flat=True)) == ["approved", "requested"]
    assert Lead.objects.filter(sold_at__isnull=False).count() == sold.count()
    assert User.objects.get(username="buyer").buyer_login.buyer.name == "WarmtePomp Direct"


def test_demo_analytics_figures_pass_their_own_check(demo):
    """`leadloop analytics verify` right after the demo's rebuild finds nothing: the credited
    revenue (order value x a six-place share) is compared as stored, to six places."""
    assert facts.verify() == []
    assert totals.verify_totals() == []
