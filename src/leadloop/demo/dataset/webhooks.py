"""The demo's webhook: a subscription to routing events, with a real delivery log.

While the demo is built, a small HTTP receiver runs on 127.0.0.1 and takes the deliveries (it
turns the second one away with a 503, so the log shows a retry waiting). Afterwards the
receiver is gone, so the subscription is paused with a note: an admin points it at a real
endpoint and resumes it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test.utils import override_settings

from leadloop.accounts.actors import SYSTEM
from leadloop.webhooks.models import Subscription
from leadloop.webhooks.services import sending
from leadloop.webhooks.services import subscriptions as services

EVENTS = ["lead.routed", "lead.claimed", "lead.partner_rejected"]


class _Receiver(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).count += 1
        busy = type(self).count == 2
        self.send_response(503 if busy else 200)
        self.end_headers()
        self.wfile.write(b"busy, try later" if busy else b"received")

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def _receiver() -> Iterator[str]:
    handler = type("Receiver", (_Receiver,), {"count": 0})  # a count of its own
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/crm/leadloop"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def webhook_examples() -> Iterator[None]:
    """Subscribe a local receiver around the block (the routing examples), then send what they
    told it and pause the subscription. Does nothing when a webhook exists already."""
    if Subscription.objects.exists():
        yield
        return
    with _receiver() as url, override_settings(LEADLOOP_ALLOW_PRIVATE_HOSTS=True):
        subscription, _secret = services.create_subscription(
            by=SYSTEM,
            url=url,
            events=EVENTS,
            description="CRM-koppeling (demo): zet hier je eigen endpoint en zet hem weer aan",
        )
        yield
        sending.send_due(limit=1000)
    services.update_subscription(subscription, by=SYSTEM, is_active=False)
