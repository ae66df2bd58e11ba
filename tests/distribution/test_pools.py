"""Pull pools: reps take the next lead by priority or a chosen one, never the same lead twice,
within their limits; a lead left too long in the pool is shown to the manager. Issue 13, item 3."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.distribution import services
from leadloop.distribution.models import PoolAlert, PoolClaim
from leadloop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.distribution.conftest import ready_lead
from tests.distribution.processes import fresh_database, run, run_together

pytestmark = pytest.mark.django_db


def pooled(source, team, **fields):
    lead = ready_lead(source, **fields)
    return lead_services.assign_lead(lead, by=SYSTEM, team=team)


def test_next_lead_is_the_highest_priority_and_the_timeline_says_so(source, team, rep):
    low = pooled(source, team, last_name="Low")
    high = pooled(source, team, last_name="High")
    Lead.objects.filter(pk=low.pk).update(priority=10)
    Lead.objects.filter(pk=high.pk).update(priority=90)

    taken = services.claim_next(rep)

    assert taken.pk == high.pk
    assert (taken.assigned_to, taken.team, taken.status) == (rep, team, LeadStatus.ASSIGNED)
    entry = Activity.objects.filter(lead=taken, kind=ActivityKind.ASSIGNED).latest("id")
    assert entry.message == "Taken from the pool of team North"
    assert entry.actor_user_id == rep.pk
    assert PoolClaim.objects.get().user == rep


def test_a_chosen_lead_taken_by_someone_else_is_a_conflict(source, team, rep, teammate):
    lead = pooled(source, team)
    services.claim_lead(teammate, lead.pk)

    with pytest.raises(Conflict, match="Someone else took this lead first"):
        services.claim_lead(rep, lead.pk)
    assert Lead.objects.get(pk=lead.pk).assigned_to == teammate


def test_the_menu_badge_counts_the_pools_one_takes_from(source, team, other_team, rep, manager):
    from leadloop.distribution.selectors import count_own_pool

    other_team.manager = manager
    other_team.save(update_fields=["manager"])
    pooled(source, team)
    pooled(source, team)
    pooled(source, other_team)
    services.claim_next(rep)  # taken: no longer waiting
    lead_services.assign_lead(ready_lead(source), by=SYSTEM, to=rep)  # never in a pool

    assert count_own_pool(rep) == 1
    assert count_own_pool(manager) == 2  # both teams they run


def test_an_empty_pool_says_so(team, rep):
    with pytest.raises(Conflict, match="The pool of team North is empty"):
        services.claim_next(rep)


def test_a_rep_cannot_take_from_another_teams_pool(source, team, other_team, rep, other_rep):
    lead = pooled(source, team)

    with pytest.raises(NotFound):
        services.claim_lead(other_rep, lead.pk)
    with pytest.raises(NotAllowed):
        services.claim_next(other_rep, team=team)
    assert Lead.objects.get(pk=lead.pk).assigned_to is None


def test_a_reps_claim_limit_and_most_open_hold(source, team, rep, teammate, manager):
    for i in range(4):
        pooled(source, team, last_name=f"P{i}")
    services.set_capacity(rep, by=manager, claim_limit=2)
    services.set_capacity(teammate, by=manager, max_open=1)

    services.claim_next(rep)
    services.claim_next(rep)
    services.claim_next(teammate)

    with pytest.raises(ValidationFailed, match="You took 2 leads from the pool today"):
        services.claim_next(rep)
    with pytest.raises(ValidationFailed, match="You have 1 open leads, your most"):
        services.claim_next(teammate)
    assert PoolClaim.objects.count() == 3
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert services.claim_next(rep).assigned_to == rep


def test_a_lead_unclaimed_too_long_is_shown_to_the_manager_once(source, team, rep, manager):
    services.set_team_routing(team, by=manager, strategy="round_robin", pool_alert_hours=4)
    lead = pooled(source, team)

    assert services.alert_unclaimed(at=timezone.now() + dt.timedelta(hours=3)) == 0
    assert services.alert_unclaimed(at=timezone.now() + dt.timedelta(hours=5)) == 1
    assert services.alert_unclaimed(at=timezone.now() + dt.timedelta(hours=6)) == 0
    assert [a.lead_id for a in services.list_alerts(manager, team)] == [lead.pk]
    assert list(services.list_alerts(rep, team)) == []

    services.claim_lead(rep, lead.pk)

    assert list(services.list_alerts(manager, team)) == []
    assert PoolAlert.objects.count() == 1


def test_the_pool_page_takes_the_next_lead(logged_in_client, source, team, rep):
    lead = pooled(source, team, last_name="<b>Bold</b>")
    client = logged_in_client(rep)

    page = client.get(reverse("distribution:pool"))
    taken = client.post(reverse("distribution:pool-next"), {"team": team.pk})
    empty = client.post(reverse("distribution:pool-next"), {"team": team.pk}, follow=True)

    assert page.status_code == 200
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page.content.decode()
    assert taken.status_code == 302
    assert taken["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    assert "The pool of team North is empty." in empty.content.decode()


def test_the_api_claims_and_answers_conflicts_as_problems(api_client_for, source, team, rep):
    lead = pooled(source, team)
    client = api_client_for(rep)

    listed = client.get("/api/v1/distribution/pool")
    first = client.post("/api/v1/distribution/pool/claim", {}, content_type="application/json")
    second = client.post(
        "/api/v1/distribution/pool/claim", {"lead_id": lead.pk}, content_type="application/json"
    )

    assert [row["id"] for row in listed.json()["leads"]] == [lead.pk]
    assert first.status_code == 201
    assert first.json() == {"lead_id": lead.pk, "team_id": team.pk, "assigned_to_id": rep.pk}
    assert second.status_code == 409
    assert second["Content-Type"] == "application/problem+json"


def test_a_partner_user_has_no_pool(api_client_for, partner_user):
    answer = api_client_for(partner_user).post(
        "/api/v1/distribution/pool/claim", {}, content_type="application/json"
    )

    assert answer.status_code in (403, 404)


SETUP = """
import json
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.accounts import services as accounts
from leadloop.assessment.services import create_lead
from leadloop.leads import events
from leadloop.leads import services as leads

team = accounts.get_or_create_team(name="North", manager=None)
reps = [
    accounts.create_user(username=f"rep{i}", role=Role.SALES_REP, team=team) for i in range(8)
]
source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
with events.isolated():
    for i in range(5):
        lead = create_lead({"first_name": "P", "last_name": f"Pool{i}"}, source=source, by=SYSTEM)
        leads.assign_lead(lead, by=SYSTEM, team=team)
print(json.dumps([rep.pk for rep in reps]))
"""

CLAIM = """
from leadloop.accounts.models import User
from leadloop.distribution import services
from leadloop.errors import Conflict
try:
    print(services.claim_next(User.objects.get(pk={user_id})).pk)
except Conflict:
    print("empty")
"""

STATE = """
import json
from django.db.models import Count
from leadloop.distribution.models import PoolClaim
from leadloop.leads.models import Lead
print(json.dumps({
    "claims": PoolClaim.objects.count(),
    "claims_per_lead": sorted(set(
        PoolClaim.objects.values("lead_id").annotate(n=Count("id")).values_list("n", flat=True)
    )),
    "left": Lead.objects.filter(assigned_to__isnull=True).count(),
}))
"""


def test_eight_reps_claiming_at_once_never_get_the_same_lead(tmp_path):
    with fresh_database(tmp_path) as env:
        setup = run(SETUP, env)
        assert setup.returncode == 0, setup.stderr
        users = json.loads(setup.stdout.strip().splitlines()[-1])

        raced = run_together([CLAIM.format(user_id=user_id) for user_id in users], env)
        state = json.loads(run(STATE, env).stdout)

    assert [p.returncode for p in raced] == [0] * 8, [p.stderr[-2000:] for p in raced]
    outcomes = [p.stdout.strip() for p in raced]
    taken = [outcome for outcome in outcomes if outcome != "empty"]
    assert len(taken) == 5
    assert len(set(taken)) == 5
    assert outcomes.count("empty") == 3
    assert state == {"claims": 5, "claims_per_lead": [1], "left": 0}
