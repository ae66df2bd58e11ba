"""Outbound webhook benchmarks (docs/benchmarks.md, "Webhooks").

    .venv/bin/python bench/webhooks.py [--leads 1000] [--deliveries 2000]
                                       [--databases sqlite,postgres]

outbox   Per database, one process: `--leads` leads created through the one lead path
         (`assessment.services.create_lead`: assessment, timeline, events) with no webhook, then
         with one subscription to `lead.created`, then with three subscriptions to every event
         type. Prints ms per lead and the extra cost the outbox adds in the intake's transaction.
sending  Per database: `--deliveries` pending deliveries to a local receiver (a threaded
         http.server on 127.0.0.1 answering 200), sent by `sending.send_due` in one process:
         deliveries/s and the mean time of one (claim, sign, POST, log, settle).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing_common import fresh_env, python

OUTBOX = """
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment
from leadloop.leads.services.sources import create_source
from leadloop.webhooks.catalog import EVENT_TYPES
from leadloop.webhooks.models import Message
from leadloop.webhooks.services import outbox, subscriptions
from django.test.utils import override_settings

N = {leads}
source = create_source(name="Bench", kind="api", by=SYSTEM).source

def run(label):
    began = time.perf_counter()
    for i in range(N):
        assessment.create_lead(
            {{"first_name": f"Ann{{i}}", "last_name": "Bench",
             "email": f"ann{{i}}.{{label}}@example.nl", "phone": "+31612345678",
             "country": "NL", "postal_code": "1234 AB"}},
            source=source, by=SYSTEM,
        )
    return (time.perf_counter() - began) * 1000 / N

out = {{}}
run("warm")
out["none"] = run("none")
with override_settings(LEADLOOP_ALLOW_PRIVATE_HOSTS=True):
    subscriptions.create_subscription(
        by=SYSTEM, url="http://127.0.0.1:9/a", events=["lead.created"])
    outbox.forget()
    out["one"] = run("one")
    for n in range(2):
        subscriptions.create_subscription(
            by=SYSTEM, url=f"http://127.0.0.1:9/{{n}}", events=list(EVENT_TYPES))
    outbox.forget()
    out["three"] = run("three")
out["messages"] = Message.objects.count()
print(json.dumps(out))
"""

SENDING = """
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from django.test.utils import override_settings
from django.utils import timezone
from leadloop.accounts.actors import SYSTEM
from leadloop.webhooks.models import Delivery
from leadloop.webhooks.services import outbox, sending, subscriptions

class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
threading.Thread(target=server.serve_forever, daemon=True).start()
N = {deliveries}
with override_settings(LEADLOOP_ALLOW_PRIVATE_HOSTS=True):
    hook, _secret = subscriptions.create_subscription(
        by=SYSTEM, url=f"http://127.0.0.1:{{server.server_address[1]}}/in", events=["lead.created"])
    now = timezone.now()
    body = {{"lead_id": 1, "lead": {{"id": 1, "first_name": "Ann", "email": "ann@example.nl"}}}}
    events = [outbox.Outgoing("lead.created", body, now, lead_id=i) for i in range(N)]
    outbox.emit(events, only=[hook.pk])
    began = time.perf_counter()
    sent = 0
    while sent < N:
        got = sending.send_due(limit=1000, budget_seconds=600)
        if not got:
            break
        sent += got
    seconds = time.perf_counter() - began
print(json.dumps({{"sent": sent, "per_second": sent / seconds,
                  "ms_each": seconds * 1000 / max(sent, 1),
                  "delivered": Delivery.objects.filter(state="delivered").count()}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for db in args.databases.split(","):
            env = fresh_env(db, Path(tmp), args.pg_url, "webhooks_outbox")
            got = json.loads(python(OUTBOX.format(leads=args.leads), env).strip().splitlines()[-1])
            base = got["none"]
            print(
                f"[{db}] create_lead, {args.leads} leads: no webhook {base:.2f} ms/lead; "
                f"1 subscription {got['one']:.2f} ms (+{(got['one'] / base - 1) * 100:.1f}%); "
                f"3 subscriptions to every event {got['three']:.2f} ms "
                f"(+{(got['three'] / base - 1) * 100:.1f}%); {got['messages']} messages written"
            )
            env = fresh_env(db, Path(tmp), args.pg_url, "webhooks_sending")
            code = SENDING.format(deliveries=args.deliveries)
            sent = json.loads(python(code, env).strip().splitlines()[-1])
            print(
                f"[{db}] sending {sent['sent']} deliveries to a local receiver, one process: "
                f"{sent['per_second']:.0f}/s, {sent['ms_each']:.2f} ms each, "
                f"{sent['delivered']} delivered"
            )


if __name__ == "__main__":
    main()
