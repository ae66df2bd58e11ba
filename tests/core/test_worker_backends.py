"""`leadloop worker --once` really runs tasks on the database backend and on Redis (RQ), and
exits as soon as they are done (RQ's worker once waited up to a minute for its command thread:
core/rq_worker.py)."""

import os
import socket
import subprocess
import sys

import pytest

from tests.distribution.processes import migrated_sqlite_copy

# The worker's processes use an SQLite file of their own (the Redis test: RQ beside it).
pytestmark = pytest.mark.own_sqlite

SNIPPET = """
import os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.core.management import call_command
from leadloop.core.tasks import requeue_stalled_tasks_task
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
    migrated_sqlite_copy(tmp_path / "worker.sqlite3")
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


def test_the_rq_worker_looks_for_its_stop_every_second():
    """With RQ's own worker, `--once` after a job waited up to 60 s in its command thread's
    poll (this file's Redis test took 78 s); `leadloop worker` runs RQ with this class."""
    if not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Redis at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")
    from redis import Redis
    from rq import Queue
    from rq.worker import Worker as RQWorker

    from leadloop.core import rq_worker
    from leadloop.core.management.commands import worker as command

    assert command.RQ_WORKER_CLASS == "leadloop.core.rq_worker.Worker"
    assert issubclass(rq_worker.Worker, RQWorker)
    redis = Redis.from_url("redis://127.0.0.1:6379/14")
    found = rq_worker.Worker([Queue("leadloop-test", connection=redis)], connection=redis)
    found.subscribe()
    try:
        assert found.pubsub_thread.sleep_time == rq_worker.COMMAND_POLL_SECONDS == 1.0
    finally:
        found.unsubscribe()
    assert not found.pubsub_thread.is_alive()
