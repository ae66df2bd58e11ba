"""kill -9 between "winner chosen" and "delivered", and between "delivered" and "recorded": after
the restart the lead is delivered and charged exactly once. Real processes on a database of
their own (SQLite or PostgreSQL), a real buyer server in the test process."""

import json
import signal

import pytest

from leadloop.distribution.selling import fakebuyer
from tests.distribution.processes import fresh_database, run

SETUP = """
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import create_lead
from leadloop.distribution.selling.services import buyers
from leadloop.leads import events
from leadloop.leads import services as leads

source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
buyer = buyers.save_buyer({"name": "B", "price": "30", "url": "URL/lead"}, by=SYSTEM)
buyers.top_up(buyer.pk, "100", by=SYSTEM)
with events.isolated():
    lead = create_lead({"first_name": "Ann", "last_name": "Crash"}, source=source, by=SYSTEM)
print(lead.pk)
"""

# Dies after the sale is written (the winner chosen), before the lead is posted.
BEFORE_POST = """
import signal
from leadloop.distribution.selling.services import auction, delivery
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
delivery.post_lead = die
auction.sell_lead(LEAD_ID)
"""

# Dies after the buyer answered, before the answer is recorded.
BEFORE_RECORD = """
import signal
from leadloop.distribution.selling.services import auction
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
auction.record = die
auction.sell_lead(LEAD_ID)
"""

RESTART = """
import datetime as dt
import time_machine
from django.utils import timezone
from leadloop.distribution.selling.models import Auction, Buyer, LedgerEntry, Sale
from leadloop.distribution.selling.services import recovery
from leadloop.leads.models import Lead
with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
    recovery.recover()
    recovery.recover()  # a second sweep finds nothing left to do
print(json.dumps({
    "sales": list(Sale.objects.values_list("state", flat=True)),
    "charged": LedgerEntry.objects.filter(kind="sale").count(),
    "balance": str(Buyer.objects.get().balance),
    "auctions": list(Auction.objects.values_list("state", flat=True)),
    "sold": Lead.objects.filter(sold_at__isnull=False).count(),
}))
"""


@pytest.mark.parametrize(("crash", "posts"), [(BEFORE_POST, 1), (BEFORE_RECORD, 2)])
def test_a_killed_worker_delivers_and_charges_once(tmp_path, crash, posts):
    server, state = fakebuyer.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with fresh_database(tmp_path) as env:
            env["LEADLOOP_ALLOW_PRIVATE_HOSTS"] = "true"
            setup = run(SETUP.replace("URL", url), env)
            assert setup.returncode == 0, setup.stderr
            lead_id = setup.stdout.strip().splitlines()[-1]

            died = run(crash.replace("LEAD_ID", lead_id), env)
            assert died.returncode == -signal.SIGKILL, died.stderr
            after = run("import json\n" + RESTART, env)
            assert after.returncode == 0, after.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert json.loads(after.stdout.strip().splitlines()[-1]) == {
        "sales": ["sold"],
        "charged": 1,
        "balance": "70.00",
        "auctions": ["sold"],
        "sold": 1,
    }
    received = state.posts()
    assert len(received) == posts
    assert len({r.headers["Idempotency-Key"] for r in received}) == 1
