"""A local test buyer, for trying an integration (`leadloop fake-buyer`) and for the tests and
benchmarks: it answers pings with a price and posts as told by its behaviour. Not used in
production.

- accept: 200 {"status": "accepted", "id": "fb-N"}; the same Idempotency-Key gets the same id
- reject: 200 {"status": "rejected", "reason": "outside our area"}
- duplicate: 409 {"status": "duplicate", "reason": "we have this person"}
- slow: accepts after `delay` seconds
- garbage: 200 with an HTML page instead of JSON
- error: 500
- huge: 200 with an endless body (the reader must cap it)
- redirect: 302 to http://127.0.0.1:1/ (a private address)
- nobid: pings are answered 204 without a price
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BEHAVIOURS = (
    "accept",
    "reject",
    "duplicate",
    "slow",
    "garbage",
    "error",
    "huge",
    "redirect",
    "nobid",
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class State:
    behaviour: str = "accept"
    price: str = "30.00"
    delay: float = 2.0
    ping_delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self) -> list[Received]:
        return [r for r in self.received if r.path != "/ping"]

    def pings(self) -> list[Received]:
        return [r for r in self.received if r.path == "/ping"]


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"
    # Keep-alive connections: the head and the body go out as two writes, and without this the
    # body waits for the client's delayed acknowledgement (40 ms) before it is sent.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, document: Any, content_type: str = "application/json") -> None:
        data = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        state: State = self.server.state
        length = min(int(self.headers.get("Content-Length") or 0), 1_000_000)
        body = self.rfile.read(length)
        with state.lock:
            state.received.append(Received(self.path, dict(self.headers.items()), body))
        behaviour = state.behaviour
        if self.path == "/ping":
            if state.ping_delay:
                time.sleep(state.ping_delay)
            if behaviour == "nobid":
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if behaviour == "error":
                self._answer(500, {"error": "down"})
                return
            self._answer(200, {"price": state.price})
            return
        if behaviour == "slow":
            time.sleep(state.delay)
            behaviour = "accept"
        if behaviour == "accept":
            key = self.headers.get("Idempotency-Key", "")
            with state.lock:
                ref = state.ids.setdefault(key, f"fb-{len(state.ids) + 1}")
            self._answer(200, {"status": "accepted", "id": ref})
        elif behaviour == "reject":
            self._answer(200, {"status": "rejected", "reason": "outside our area"})
        elif behaviour == "duplicate":
            self._answer(409, {"status": "duplicate", "reason": "we have this person"})
        elif behaviour == "garbage":
            self._answer(200, b"<html><body>Thanks!</body></html>", "text/html")
        elif behaviour == "error":
            self._answer(500, {"error": "internal"})
        elif behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif behaviour == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(16384):  # up to a gigabyte, unless the reader stops first
                    self.wfile.write(chunk)
            except OSError:
                return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a ping past its deadline) closes the socket: not an error.
        return


def start(
    port: int = 0, *, behaviour: str = "accept", price: str = "30.00", host: str = "127.0.0.1"
) -> tuple[ThreadingHTTPServer, State]:
    """A fake buyer serving in a thread; `server.server_address[1]` is its port."""
    server = _Server((host, port), _Handler)
    server.state = State(behaviour=behaviour, price=price)  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True, name="fake-buyer").start()
    return server, server.state  # type: ignore[attr-defined]
