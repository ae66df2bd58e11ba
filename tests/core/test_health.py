"""/healthz and /readyz, as a load balancer asks them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db.migrations.recorder import MigrationRecorder

from leadloop.accounts.models import AuditEvent
from leadloop.core import health


@pytest.fixture(autouse=True)
def _plan_migrations_again():
    health._migrated.clear()
    yield
    health._migrated.clear()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_liveness_answers_without_login_database_or_a_known_host(client, settings):
    settings.ALLOWED_HOSTS = ["leads.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    answer = client.get("/healthz", HTTP_HOST="10.0.0.7")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert answer["Cache-Control"] == "no-store"
    assert "sessionid" not in answer.cookies


def test_readiness_checks_the_database_migrations_and_queue(client, db):
    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "tasks": "ok"},
    }
    assert not AuditEvent.objects.exists()


def test_a_migration_not_yet_applied_is_not_ready(client, db):
    # The new release's code before `leadloop migrate` ran: a migration it knows is missing.
    MigrationRecorder.Migration.objects.filter(app="leads").order_by("-id")[:1].get().delete()

    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["Retry-After"] == "5"
    problem = answer.json()
    assert problem["status"] == 503
    assert problem["checks"] == {"database": "ok", "migrations": "pending", "tasks": "ok"}
    assert problem["detail"] == "Not ready: migrations pending."


def test_a_queue_that_does_not_answer_is_not_ready(client, db, settings):
    settings.TASKS_BACKEND = "rq"
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"

    answer = client.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["checks"]["tasks"] == "failed"
    # No address, port or error text in the answer.
    assert "127.0.0.1" not in answer.text
    assert "refused" not in answer.text.lower()


def test_a_queue_that_answers_is_ready(client, db, settings):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        if os.environ.get("CI", "").strip().lower() in ("1", "true"):
            pytest.fail("CI must have Redis at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")
    settings.TASKS_BACKEND = "rq"
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"

    answer = client.get("/readyz")

    assert answer.status_code == 200
    assert answer.json()["checks"]["tasks"] == "ok"


def test_only_get_and_head(client, db):
    assert client.head("/readyz").status_code == 200
    answer = client.post("/healthz")
    assert answer.status_code == 405
    assert answer["Allow"] == "GET, HEAD"
    assert answer["Content-Type"] == "application/problem+json"


PROBE = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.test import Client
client = Client()
live, ready = client.get("/healthz"), client.get("/readyz")
print(json.dumps([live.status_code, ready.status_code, ready.json()]))
"""


def test_a_database_that_does_not_answer_is_not_ready_but_still_alive(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/leadloop",
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "TASKS_BACKEND": "dummy",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    live, ready, problem = json.loads(done.stdout.strip().splitlines()[-1])

    assert (live, ready) == (200, 503)
    assert problem["checks"] == {"database": "failed", "migrations": "failed", "tasks": "ok"}
