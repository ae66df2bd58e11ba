"""The demo loader: every status, consistent owners and timelines, valid phones, repeatable data."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from leadloop.accounts.models import ApiKey, PartnerOrganization, Role, Team, User
from leadloop.accounts.selectors import get_defaults
from leadloop.demo.dataset import load_demo
from leadloop.demo.dataset.loading import HELD_EXAMPLES
from leadloop.distribution.models import RuleDraft, RuleSet
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.web_forms.models import LeadForm
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    Campaign,
    CostEntry,
    Lead,
    LeadHold,
    LostReason,
    Organization,
    Source,
)

NOW = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def _digest() -> str:
    """A fingerprint of the loaded data that ignores database ids (they differ between runs)."""
    rows = []
    for lead in Lead.objects.select_related(
        "source", "campaign", "assigned_to", "team", "owner_partner", "organization", "lost_reason"
    ).order_by("created_at", "email"):
        timeline = [
            (a.kind, a.actor_label, a.message, _without_ids(a.data), a.created_at.isoformat())
            for a in lead.activities.order_by("created_at", "id")
        ]
        rows.append(
            (
                lead.first_name,
                lead.last_name,
                lead.email,
                lead.phone_raw,
                lead.phone_e164,
                lead.city,
                lead.status,
                lead.created_at.isoformat(),
                lead.source.name,
                lead.campaign.name if lead.campaign else None,
                lead.assigned_to.username if lead.assigned_to else None,
                lead.team.name if lead.team else None,
                lead.owner_partner.name if lead.owner_partner else None,
                lead.organization.name if lead.organization else None,
                lead.lost_reason.name if lead.lost_reason else None,
                str(lead.order_value),
                str(lead.potential_revenue),
                lead.probability,
                lead.fit_grade,
                lead.external_ref,
                lead.search_text,
                timeline,
            )
        )
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def _without_ids(data):
    """A timeline entry's data without the database ids it names (a marketing mail's, a survey
    response's): they differ between runs."""
    if not isinstance(data, dict):
        return data
    return {k: v for k, v in data.items() if not k.endswith("_id")}


def _wipe() -> None:
    # The lead market's money is kept on purpose (its ledger protects the sales it charged).
    for model in ("LedgerEntry", "LeadReturn", "Bid", "Sale", "Auction", "BuyerLogin", "Buyer"):
        apps.get_model("distribution", model).objects.all().delete()
    apps.get_model("nurture", "Enrollment").objects.all().delete()
    apps.get_model("nurture", "Workflow").objects.update(active_version=None)
    apps.get_model("nurture", "Workflow").objects.all().delete()
    for model in (
        "CallAttempt",
        "CallEntry",
        "CallList",
        "DoNotCall",
        "Suppression",
        "DeliveryReport",
        "SurveyResponse",
        "Survey",
        "MarketingTemplate",
    ):
        apps.get_model("nurture", model).objects.all().delete()
    RuleSet.objects.all().delete()
    RuleDraft.objects.all().delete()
    RawSubmission.objects.all().delete()
    Activity.objects.all().delete()
    Lead.objects.all().delete()
    CostEntry.objects.all().delete()
    Campaign.objects.all().delete()
    LeadForm.objects.all().delete()
    Source.objects.all().delete()
    for depth in (2, 1, 0):
        for org in Organization.objects.all():
            if org.depth == depth:
                org.delete()
    LostReason.objects.all().delete()
    ApiKey.objects.all().delete()
    User.objects.all().delete()
    Team.objects.all().delete()
    PartnerOrganization.objects.all().delete()


def test_demo_is_the_same_for_the_same_seed(db):
    # The intake stamps the held examples with the clock's time, as it stamps every post.
    with time_machine.travel(NOW, tick=False):
        load_demo(leads=300, seed=3, now=NOW)
        first = _digest()
        _wipe()

        load_demo(leads=300, seed=3, now=NOW)
        second = _digest()
        _wipe()
        load_demo(leads=300, seed=4, now=NOW)
        other = _digest()

    assert second == first
    assert other != first


@pytest.mark.django_db(transaction=True)
def test_demo_written_by_two_processes_is_the_same_data():
    """`leadloop demo --jobs 2` on PostgreSQL: forked processes write the chunks, in another
    order, and the data is that of one process."""
    if connection.vendor != "postgresql":
        pytest.skip("one process writes on SQLite")
    with time_machine.travel(NOW, tick=False):
        load_demo(leads=120, seed=3, now=NOW, chunk_size=20)
        first = _digest()
        _wipe()
        load_demo(leads=120, seed=3, now=NOW, chunk_size=20, jobs=2)
        second = _digest()

    assert second == first
    assert Lead.objects.count() == 120 + len(HELD_EXAMPLES)


def test_demo_if_empty_does_nothing_the_second_time(db):
    call_command("demo", "--leads", "40", stdout=io.StringIO())
    leads_before = Lead.objects.count()
    activities_before = Activity.objects.count()
    out = io.StringIO()

    call_command("demo", "--leads", "40", "--if-empty", "--json", stdout=out)

    assert json.loads(out.getvalue())["skipped"] is True
    assert Lead.objects.count() == leads_before == 40 + len(HELD_EXAMPLES)
    assert Activity.objects.count() == activities_before


def test_demo_command_prints_the_admin_login(db):
    out = io.StringIO()

    call_command("demo", "--leads", "20", stdout=out)

    lines = out.getvalue().splitlines()
    assert "Log in at http://127.0.0.1:8000/ as admin / leadloop-demo" in lines
    assert User.objects.get(username="admin").check_password("leadloop-demo")
    assert User.objects.get(username="partner").check_password("leadloop-demo")


def test_demo_keeps_the_password_of_an_existing_admin(db):
    from leadloop.demo.dataset import DEMO_PASSWORD
    from tests.factories.accounts import make_user

    admin = make_user(Role.ADMIN, username="admin", password="my-own-secret-9")

    load_demo(leads=20, seed=3)

    admin.refresh_from_db()
    assert admin.check_password("my-own-secret-9")
    assert not admin.check_password(DEMO_PASSWORD)


def test_demo_leaves_audit_entries_for_the_admins_first_look(db):
    from leadloop.accounts.models import AuditEvent

    call_command("demo", "--leads", "200", stdout=io.StringIO())

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"login", "login_failed", "source_changed", "lead_viewed", "lead_exported"} <= actions
    viewed = AuditEvent.objects.filter(action="lead_viewed")
    noor = User.objects.get(username="rep.noor")
    assert set(viewed.values_list("actor_label", flat=True)) == {"rep.noor"}
    assert all(Lead.objects.get(pk=int(e.target_id)).assigned_to_id == noor.pk for e in viewed)


def test_demo_shows_a_held_lead_and_an_unreadable_post_in_the_intake_queue(db):
    load_demo(leads=50, seed=3, now=NOW)

    queued = dict(
        RawSubmission.objects.exclude(state=SubmissionState.PROCESSED).values_list(
            "disposition", "state"
        )
    )
    assert queued == {"review": SubmissionState.QUARANTINED, "": SubmissionState.QUARANTINED}
    held = RawSubmission.objects.get(disposition="review")
    assert held.fields["phone"] == "+31 6 1234"
    assert held.reasons[0]["field"] == "phone"


def test_demo_shows_held_leads_in_the_review_queue(client, db):
    load_demo(leads=50, seed=3, now=NOW)
    client.force_login(User.objects.get(username="admin"))

    held = Lead.objects.filter(hold=LeadHold.FRAUD_REVIEW)
    page = client.get("/assessment/review/").text

    assert held.count() == len(HELD_EXAMPLES)
    assert '<span class="tab__count">3</span>' in page
    assert all(f"#{lead.pk} " in page for lead in held)


def test_demo_has_a_contact_form_in_english_and_dutch(client, db):
    load_demo(leads=50, seed=3, now=NOW)

    dutch = client.get("/f/contact/", headers={"accept-language": "nl-NL,nl;q=0.9"})
    english = client.get("/f/contact/", headers={"accept-language": "en-GB"})

    assert dutch.status_code == english.status_code == 200
    assert "<h1>Vraag een demo aan</h1>" in dutch.content.decode()
    assert '<label for="q-first_name">Voornaam' in dutch.content.decode()
    assert '<label for="q-team_size">Teamgrootte' in dutch.content.decode()
    assert "<h1>Request a demo</h1>" in english.content.decode()
    assert '<label for="q-team_size">Team size' in english.content.decode()


def test_demo_has_a_dutch_quote_form_that_addresses_visitors_formally(client, db):
    load_demo(leads=50, seed=3, now=NOW)

    page = client.get("/f/offerte/", headers={"accept-language": "en-GB"}).content.decode()

    assert '<html lang="nl">' in page
    assert "<h1>Offerte aanvragen</h1>" in page
    assert '<label for="q-first_name">Voornaam' in page
    assert "Uw gegevens gaan beveiligd naar de organisatie achter dit formulier." in page


def test_demo_sets_the_defaults_and_gives_some_users_api_keys(db, settings):
    settings.LEADLOOP_DEFAULT_COUNTRY = "US"

    load_demo(leads=50, seed=3, now=NOW)

    assert (get_defaults().country, get_defaults().currency) == ("NL", "EUR")
    keys = ApiKey.objects.order_by("name")
    assert [(k.user.username, k.name, k.revoked_at is not None) for k in keys] == [
        ("manager.north", "Dialler export", False),
        ("manager.north", "Old dialler export", True),
        ("marketing", "Web shop sync", False),
    ]


def test_demo_routes_leads_by_published_rules_and_shows_a_pool(db):
    from leadloop.distribution.models import Absence, PoolClaim, RouteDecision

    with time_machine.travel(NOW, tick=False):
        load_demo(leads=300, seed=3, now=NOW)

    assert list(RuleSet.objects.order_by("version").values_list("version", flat=True)) == [1, 2]
    outcomes = set(RouteDecision.objects.values_list("outcome", flat=True))
    assert "assigned" in outcomes
    assert all(d.version == 2 for d in RouteDecision.objects.all())
    assert Absence.objects.filter(user__username="rep.daan").exists()
    assert not RouteDecision.objects.filter(user__username="rep.daan").exists()
    claim = PoolClaim.objects.get()
    assert claim.user.username == "rep.julia"
    routed = RouteDecision.objects.filter(outcome="assigned").first()
    entry = routed.lead.activities.filter(kind=ActivityKind.ASSIGNED).latest("created_at", "id")
    assert entry.message.startswith("Rule “")
    assert "(routing v2)" in entry.message


def test_demo_has_a_paused_webhook_with_delivered_and_retried_deliveries(db):
    from leadloop.webhooks.models import Attempt, Delivery, Subscription

    with time_machine.travel(NOW, tick=False):
        load_demo(leads=300, seed=3, now=NOW)

    hook = Subscription.objects.get()
    assert hook.is_active is False
    assert hook.events == ["lead.claimed", "lead.partner_rejected", "lead.routed"]
    states = set(Delivery.objects.values_list("state", flat=True))
    assert states == {"delivered", "pending"}  # the receiver turned the second one away
    assert Delivery.objects.filter(message__type="lead.claimed").exists()
    assert set(Attempt.objects.values_list("status_code", flat=True)) == {200, 503}
