"""Connections kept open between posts to the same endpoint (`sending.IDLE`), against real local
servers: reused while the server keeps them, never when it closes them or the answer was not
read to its end."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from leadloop.webhooks.services import sending


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.clients.append(self.client_address[1])
        body = b"x" * self.server.size
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if self.server.say_close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if self.server.hang_up:
            # Closes the connection after answering without saying so (an idle time-out).
            self.close_connection = True


@pytest.fixture
def server(settings: Any) -> Iterator[Any]:
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = True
    sending.IDLE.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.clients, httpd.size, httpd.say_close, httpd.hang_up = [], 20, False, False
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    sending.IDLE.clear()


def _post(httpd: Any, keep: int = 1000) -> sending.Answer:
    url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    return sending.post(url, b"{}", {"Content-Type": "application/json"}, timeout=5, keep=keep)


def test_a_connection_is_used_again_while_the_server_keeps_it(server: Any) -> None:
    answers = [_post(server) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert len(set(server.clients)) == 1  # one client port: one connection for all three


def test_a_connection_the_server_closed_is_not_used_again(server: Any) -> None:
    server.hang_up = True
    answers = [_post(server) for _ in range(3)]
    assert [a.status for a in answers] == [200, 200, 200]
    assert len(set(server.clients)) == 3


def test_connection_close_is_honoured(server: Any) -> None:
    server.say_close = True
    assert [_post(server).status for _ in range(2)] == [200, 200]
    assert len(set(server.clients)) == 2


def test_an_answer_not_read_to_its_end_closes_the_connection(server: Any) -> None:
    server.size = 5000
    first = _post(server, keep=100)
    assert first.status == 200
    assert len(first.body) == 100
    assert _post(server).status == 200
    assert len(set(server.clients)) == 2


def test_a_connection_idle_too_long_is_not_used_again(server: Any, monkeypatch: Any) -> None:
    assert _post(server).status == 200
    monkeypatch.setattr(sending._Idle, "IDLE_SECONDS", 0.0)
    assert _post(server).status == 200
    assert len(set(server.clients)) == 2
