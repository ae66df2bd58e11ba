"""`leadloop serve` stopped with SIGTERM (a deploy, systemd's stop): the request in flight is
answered and its lead kept; new connections are refused; serve exits on its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.distribution.processes import PRELUDE, migrated_sqlite_copy

pytestmark = [
    pytest.mark.server,
    pytest.mark.own_sqlite,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals"),
]

SETUP = """
import json
from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
print(json.dumps(services.create_source(name="Stop", kind="http_post", by=SYSTEM).raw_key))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _up(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_a_stopped_server_answers_the_request_in_flight_and_then_exits(tmp_path: Path):
    database = tmp_path / "leadloop.sqlite3"
    migrated_sqlite_copy(database)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        LEADLOOP_SQLITE_PATH=str(database),
        LEADLOOP_VAR_DIR=str(tmp_path),
        TASKS_BACKEND="dummy",
        LEADLOOP_LOG_LEVEL="WARNING",
        PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"),
    )
    made = subprocess.run(
        [sys.executable, "-c", PRELUDE + SETUP], env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr[-2000:]
    key = json.loads(made.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "leadloop.cli", "serve", "--no-worker", "--workers", "1",
         "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _up(port):
            assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.3)
        body = json.dumps(
            {"first_name": "Grace", "last_name": "Stop", "email": "grace.stop@example.com"}
        ).encode()
        sender = socket.create_connection(("127.0.0.1", port), timeout=30)
        sender.sendall(
            f"POST /in/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(0.5)  # the request is in the server's hands, its body half there

        serve.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # the server is stopping; the sender is slow
        sender.sendall(body[10:])
        answer = b""
        while chunk := sender.recv(65536):
            answer += chunk
        sender.close()
        refused = not _up(port)
        exited = serve.wait(timeout=30)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=10)
        log.close()

    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), answer[:500]
    assert json.loads(payload)["disposition"] == "accepted"
    assert refused
    assert exited == 0
    with sqlite3.connect(database) as db:
        assert db.execute(
            "SELECT COUNT(*) FROM leads_lead WHERE email = 'grace.stop@example.com'"
        ).fetchone() == (1,)
