"""`leadloop fake-buyer --port N --behaviour accept|reject|slow|garbage`: a local test buyer.

For trying a buyer integration without a real buyer: it answers pings with `--price` and
posts as its behaviour says, and prints what it receives. Not used in production."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from leadloop.distribution.selling import fakebuyer


class Command(BaseCommand):
    help = "Run a local test buyer (pings at /ping, posts anywhere else)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8099)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--behaviour", choices=fakebuyer.BEHAVIOURS, default="accept")
        parser.add_argument("--price", default="30.00", help="What it bids when pinged.")

    def handle(self, *args: Any, **options: Any) -> None:
        server, state = fakebuyer.start(
            options["port"],
            behaviour=options["behaviour"],
            price=options["price"],
            host=options["host"],
        )
        port = server.server_address[1]
        self.stdout.write(
            f"Fake buyer ({options['behaviour']}) on http://{options['host']}:{port}/lead, "
            f"pings at /ping. Ctrl+C stops it."
        )
        seen = 0
        try:
            while True:
                time.sleep(0.5)
                for received in state.received[seen:]:
                    key = received.headers.get("Idempotency-Key", "")
                    self.stdout.write(f"{received.path} key={key} {received.body[:200]!r}")
                seen = len(state.received)
        except KeyboardInterrupt:
            server.shutdown()
