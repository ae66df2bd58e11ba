"""The production shape on one machine in one command: `leadloop serve` on PostgreSQL with
`TASKS_BACKEND=rq` starts granian and an RQ worker on Redis. A lead posted to the intake is
answered `201`, and the worker, through Redis, routes it to a rep; `/readyz` checks the database,
the migrations and Redis; SIGTERM stops it all with exit status 0.

The PostgreSQL run only (a fresh database of its own); Redis on 127.0.0.1:6379, as CI has it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.distribution.processes import PRELUDE, fresh_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the production shape is PostgreSQL and Redis (the PostgreSQL run)",
)

REDIS_DB = 12  # a database of Redis's own for this test, emptied first

SOURCE = """
from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
print(services.create_source(name="Production shape", kind="http_post", by=SYSTEM).raw_key)
"""

ROUTED = """
import json
from leadloop.distribution.models import RouteDecision
from leadloop.leads.models import Lead
lead = Lead.objects.get(pk=int(sys.argv[1]))
decision = RouteDecision.objects.filter(lead_id=lead.pk).first()
print(json.dumps([lead.assigned_to_id, decision.outcome if decision else None]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_one_serve_command_runs_the_production_shape(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    redis.Redis(port=6379, db=REDIS_DB).flushdb()
    with fresh_database(tmp_path) as env:
        env = {**env, "TASKS_BACKEND": "rq", "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
               "LEADLOOP_LOG_LEVEL": "WARNING"}  # fmt: skip

        def python(code: str, *args: str) -> str:
            done = subprocess.run([sys.executable, "-c", PRELUDE + code, *args], env=env,
                                  capture_output=True, text=True, timeout=180)  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            return done.stdout.strip().splitlines()[-1]

        # As an operator would: migrate with the production settings (django_rq's own
        # migrations; /readyz is not ready without them), then the demo's teams, reps and
        # published routing rules, whose own tasks go through Redis too.
        migrate = subprocess.run([sys.executable, "-m", "leadloop.cli", "migrate", "-v0"],
                                 env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        demo = subprocess.run([sys.executable, "-m", "leadloop.cli", "demo", "--leads", "30"],
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert demo.returncode == 0, demo.stderr[-3000:]
        key = python(SOURCE)
        port = _free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as output:
            serve = subprocess.Popen(
                [sys.executable, "-m", "leadloop.cli", "serve", "--port", str(port),
                 "--workers", "1"],
                env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        try:
            deadline, body = time.monotonic() + 120, b""
            while True:
                assert serve.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, (body, log.read_text()[-2000:])
                try:
                    status, body = _get(port, "/readyz")
                except OSError:
                    status, body = 0, b""
                if status == 200:
                    break
                time.sleep(0.5)
            assert json.loads(body)["checks"]["tasks"] == "ok"  # Redis answers

            lead = {"first_name": "Prod", "last_name": "Shape", "email": "prod@shape.example",
                    "phone": "0612345678", "country": "NL",
                    "bant_budget": "met", "bant_need": "met", "bant_timeframe": "met"}  # fmt: skip
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", f"/in/{key}", json.dumps(lead),
                         {"Content-Type": "application/json"})  # fmt: skip
            answer = conn.getresponse()
            posted = json.loads(answer.read())
            conn.close()
            assert answer.status == 201, posted

            # Routing happens in the RQ worker serve started, not in the web process.
            deadline = time.monotonic() + 90
            while True:
                owner, outcome = json.loads(python(ROUTED, str(posted["lead_id"])))
                if outcome is not None or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert outcome is not None, log.read_text()[-3000:]
            assert owner is not None or outcome != "assigned"
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            code = serve.wait(60)
        assert code == 0, log.read_text()[-3000:]
