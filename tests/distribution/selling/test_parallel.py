"""Real parallel sales in separate processes on a database of their own (SQLite or PostgreSQL):
a buyer's cap is never exceeded, and two auctions for one lead never both run."""

import json

from leadloop.distribution.selling import fakebuyer
from tests.distribution.processes import fresh_database, run, run_together

SETUP = """
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import create_lead
from leadloop.distribution.selling.services import buyers
from leadloop.leads import events
from leadloop.leads import services as leads

source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
buyer = buyers.save_buyer(
    {"name": "Capped", "price": "10", "url": "URL/lead", "cap_total": 3}, by=SYSTEM
)
buyers.top_up(buyer.pk, "1000", by=SYSTEM)
ids = []
with events.isolated():
    for n in range(8):
        data = {"first_name": "P", "last_name": f"L{n}", "email": f"p{n}@example.nl"}
        ids.append(create_lead(data, source=source, by=SYSTEM).pk)
print(json.dumps(ids))
"""

SELL = """
from leadloop.distribution.selling.services.auction import sell_lead
from leadloop.errors import Conflict
try:
    print("sold" if sell_lead({lead_id}).is_sold else "unsold")
except Conflict:
    print("conflict")
"""

STATE = """
import json
from leadloop.distribution.selling.models import Buyer, LedgerEntry, Sale
print(json.dumps({
    "sold": Sale.objects.filter(state="sold").count(),
    "charged": LedgerEntry.objects.filter(kind="sale").count(),
    "balance": str(Buyer.objects.get().balance),
}))
"""


def test_eight_parallel_sales_never_exceed_a_cap_of_three(tmp_path):
    server, state = fakebuyer.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with fresh_database(tmp_path) as env:
            env["LEADLOOP_ALLOW_PRIVATE_HOSTS"] = "true"
            setup = run("import json\n" + SETUP.replace("URL", url), env)
            assert setup.returncode == 0, setup.stderr
            ids = json.loads(setup.stdout.strip().splitlines()[-1])
            # Every lead twice: two auctions for one lead at the same instant as well.
            raced = run_together([SELL.format(lead_id=i) for i in ids + ids], env)
            found = run(STATE, env)
    finally:
        server.shutdown()
        server.server_close()
    assert [p.returncode for p in raced] == [0] * 16, [p.stderr[-1500:] for p in raced]
    outcomes = sorted(p.stdout.strip() for p in raced)
    assert outcomes.count("sold") == 3
    assert json.loads(found.stdout) == {"sold": 3, "charged": 3, "balance": "970.00"}
    assert len(state.posts()) == 3


ROUTE_SETUP = """
from leadloop.accounts import services as accounts
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.assessment.services import create_lead
from leadloop.distribution import services as routing
from leadloop.distribution.selling.services import buyers
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import LeadStatus

team = accounts.get_or_create_team(name="North", manager=None)
accounts.create_user(username="noor", role=Role.SALES_REP, team=team)
source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
buyer = buyers.save_buyer({"name": "Slow", "price": "10", "url": "URL/lead", "timeout_ms": 5000},
                          by=SYSTEM)
buyers.top_up(buyer.pk, "1000", by=SYSTEM)
routing.publish(by=SYSTEM, document={
    "rules": [{"name": "Sell", "conditions": "country = NL", "action": {"kind": "sell"}}],
    "default": {"kind": "team", "team_id": team.pk, "mode": "push"}})
ids = []
with events.isolated():
    for n in range(8):
        lead = create_lead({"first_name": "P", "last_name": f"L{n}", "email": f"p{n}@example.nl",
                            "country": "NL"}, source=source, by=SYSTEM)
        if lead.status != LeadStatus.SALES_READY:
            leads.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
        ids.append(lead.pk)
print(json.dumps(ids))
"""

ROUTE_RUN = """
from leadloop.distribution import services as routing
from leadloop.distribution.models import RouteDecision
began = time.monotonic()
placed, failed = routing.route_many(IDS)
print(json.dumps({"placed": placed, "failed": failed, "seconds": time.monotonic() - began,
                  "sold": RouteDecision.objects.filter(outcome="sold").count()}))
"""


def test_a_routing_run_sells_its_leads_side_by_side(tmp_path):
    """Auctions wait for buyers, so a routing run holds them side by side: eight leads sold to
    a buyer that answers after half a second take about one answer's time, not eight."""
    server, state = fakebuyer.start(behaviour="slow")
    state.delay = 0.5
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with fresh_database(tmp_path) as env:
            env["LEADLOOP_ALLOW_PRIVATE_HOSTS"] = "true"
            env["LEADLOOP_SELLING_THREADS"] = "8"
            setup = run("import json\n" + ROUTE_SETUP.replace("URL", url), env)
            assert setup.returncode == 0, setup.stderr
            ids = setup.stdout.strip().splitlines()[-1]
            done = run("import json\n" + ROUTE_RUN.replace("IDS", ids), env)
            assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
        server.server_close()
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert (found["placed"], found["failed"], found["sold"]) == (8, [], 8)
    assert found["seconds"] < 8 * 0.5
