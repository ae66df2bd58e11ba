"""`leadloop worker --once` really runs tasks on the database backend and on Redis (RQ)."""

import os
import socket
import subprocess
import sys

import pytest

SNIPPET = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.core.management import call_command
from leadloop.core.tasks import requeue_stalled_tasks_task
call_command("migrate", verbosity=0)
result = requeue_stalled_tasks_task.enqueue()
call_command("worker", once=True, no_scheduler=True, verbosity=0)
result.refresh()
print(result.status)
"""


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def _run(tmp_path, **env):
    full = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "LEADLOOP_SQLITE_PATH": str(tmp_path / "worker.sqlite3"),
        **env,
    }
    full.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET], env=full, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_worker_runs_a_task_on_the_database_backend(tmp_path):
    assert _run(tmp_path, TASKS_BACKEND="db") == "SUCCESSFUL"


def test_worker_runs_a_task_on_redis(tmp_path):
    if not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Redis at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")

    assert _run(tmp_path, TASKS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:6379/14") == "SUCCESSFUL"
