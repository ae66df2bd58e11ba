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
