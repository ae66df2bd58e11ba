"""Eight leads routed at the same instant by eight processes: nobody goes over capacity, each
lead is placed once, and round-robin stays fair. Real processes on a real database (SQLite on
the SQLite run, PostgreSQL on the PostgreSQL run). Issue 13, item 2."""

import json

from tests.distribution.processes import fresh_database, run, run_together

SETUP = """
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.accounts import services as accounts
from leadloop.assessment.services import create_lead
from leadloop.distribution import services
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import LeadStatus

team = accounts.get_or_create_team(name="North", manager=None)
reps = [
    accounts.create_user(username=name, role=Role.SALES_REP, team=team, first_name=name)
    for name in ("noor", "daan", "sem")
]
for rep, most in zip(reps, (3, 3, 1)):
    services.set_capacity(rep, by=SYSTEM, max_open=most)
source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
services.publish(by=SYSTEM, document={
    "rules": [], "default": {"kind": "team", "team_id": team.pk, "mode": "push"}})
ids = []
with events.isolated():
    for i in range(8):
        lead = create_lead({"first_name": "L", "last_name": f"Race{i}"}, source=source, by=SYSTEM)
        if lead.status != LeadStatus.SALES_READY:
            lead = leads.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
        ids.append(lead.pk)
print(json.dumps(ids))
"""

ROUTE = """
from leadloop.distribution import services
decision = services.route_lead({lead_id})
print(decision.outcome if decision else "none")
"""

STATE = """
import json
from django.db.models import Count
from leadloop.distribution.models import RouteDecision
from leadloop.leads.models import Lead
owners = dict(
    Lead.objects.filter(assigned_to__isnull=False)
    .values_list("assigned_to__username").annotate(n=Count("id"))
)
print(json.dumps({
    "owners": owners,
    "pooled": Lead.objects.filter(assigned_to__isnull=True, team__isnull=False).count(),
    "decisions": RouteDecision.objects.count(),
    "per_lead": sorted(set(
        RouteDecision.objects.values("lead_id").annotate(n=Count("id")).values_list("n", flat=True)
    )),
}))
"""


def test_eight_leads_routed_at_once_respect_capacity_and_take_turns(tmp_path):
    with fresh_database(tmp_path) as env:
        setup = run("import json\n" + SETUP, env)
        assert setup.returncode == 0, setup.stderr
        ids = json.loads(setup.stdout.strip().splitlines()[-1])

        raced = run_together([ROUTE.format(lead_id=lead_id) for lead_id in ids], env)
        state = run(STATE, env)

    assert [p.returncode for p in raced] == [0] * 8, [p.stderr[-2000:] for p in raced]
    assert sorted(p.stdout.strip() for p in raced) == ["assigned"] * 7 + ["pooled"]
    assert json.loads(state.stdout) == {
        "owners": {"noor": 3, "daan": 3, "sem": 1},
        "pooled": 1,
        "decisions": 8,
        "per_lead": [1],
    }
