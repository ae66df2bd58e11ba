"""`leadloop worker --once` really runs tasks on the database backend and on Redis (RQ), and
exits as soon as they are done (RQ's worker once waited up to a minute for its command thread:
core/rq_worker.py)."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

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
    return _last_line(SNIPPET, full)


def _need_redis() -> None:
    if not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Redis at 127.0.0.1:6379")
        pytest.skip("no Redis at 127.0.0.1:6379")


def _redis_server_port() -> int:
    """A free port for a Redis server of the test's own (skipped where none is installed)."""
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have redis-server")
        pytest.skip("no redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _last_line(snippet: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", snippet], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _rq_env(tmp_path, redis_url: str) -> dict[str, str]:
    """A worker's environment on Redis at `redis_url`, with an SQLite database of its own."""
    env = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "LEADLOOP_SQLITE_PATH": str(tmp_path / "worker.sqlite3"),
        "TASKS_BACKEND": "rq",
        "REDIS_URL": redis_url,
    }
    env.pop("DATABASE_URL", None)
    migrated_sqlite_copy(tmp_path / "worker.sqlite3")
    return env


def test_worker_runs_a_task_on_the_database_backend(tmp_path):
    assert _run(tmp_path, TASKS_BACKEND="db") == "SUCCESSFUL"


def test_worker_runs_a_task_on_redis(tmp_path):
    _need_redis()

    assert _run(tmp_path, TASKS_BACKEND="rq", REDIS_URL="redis://127.0.0.1:6379/14") == "SUCCESSFUL"


def test_the_rq_worker_looks_for_its_stop_every_second():
    """With RQ's own worker, `--once` after a job waited up to 60 s in its command thread's
    poll (this file's Redis test took 78 s); `leadloop worker` runs RQ with this class."""
    _need_redis()
    from redis import Redis
    from rq import Queue
    from rq.worker import SimpleWorker

    from leadloop.core import rq_worker
    from leadloop.core.management.commands import worker as command

    assert command.RQ_WORKER_CLASS == "leadloop.core.rq_worker.Worker"
    assert issubclass(rq_worker.Worker, SimpleWorker)
    redis = Redis.from_url("redis://127.0.0.1:6379/14")
    found = rq_worker.Worker([Queue("leadloop-test", connection=redis)], connection=redis)
    found.subscribe()
    try:
        assert found.pubsub_thread.sleep_time == rq_worker.COMMAND_POLL_SECONDS == 1.0
    finally:
        found.unsubscribe()
    assert not found.pubsub_thread.is_alive()


JOBS_SNIPPET = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.core.management import call_command
from tests.core.worker_tasks_for_tests import connection_mark_task, fails_for_good_task
results = [connection_mark_task.enqueue(), connection_mark_task.enqueue(),
           fails_for_good_task.enqueue(), connection_mark_task.enqueue()]
call_command("worker", once=True, no_scheduler=True, verbosity=0)
for result in results:
    result.refresh()
print(json.dumps({"pid": os.getpid(), "statuses": [r.status for r in results],
                  "marks": [r.return_value for r in results if r.status == "SUCCESSFUL"]}))
"""


def test_the_rq_worker_runs_jobs_itself_and_keeps_its_connection_until_a_job_fails(tmp_path):
    """No fork per job (a forked child opened a connection of its own for every job): the jobs
    run in the worker's process, on one connection, and a failed job's connection is closed,
    since a job stopped by its time-out can leave it in the middle of a query."""
    _need_redis()
    import json

    from redis import Redis

    Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
    env = _rq_env(tmp_path, "redis://127.0.0.1:6379/13")
    found = json.loads(_last_line(JOBS_SNIPPET, env))
    assert found["statuses"] == ["SUCCESSFUL", "SUCCESSFUL", "FAILED", "SUCCESSFUL"]
    pid = found["pid"]
    assert found["marks"] == [[pid, 1], [pid, 2], [pid, 1]]


ENQUEUE_SNIPPET = """
import os, time
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from leadloop.core.tasks import requeue_stalled_tasks_task
result = requeue_stalled_tasks_task.enqueue()
deadline = time.monotonic() + 60
while result.status != "SUCCESSFUL" and time.monotonic() < deadline:
    time.sleep(0.2)
    result.refresh()
print(result.status)
"""


SLEEP_SNIPPET = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from tests.core.worker_tasks_for_tests import sleeps_task
sleeps_task.enqueue(4)
"""


def _private_redis(port: int) -> subprocess.Popen:
    from redis import Redis

    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            Redis(port=port).ping()
            return server
        except Exception:
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


def test_the_worker_waits_for_redis_to_come_back(tmp_path):
    """RQ's worker exits when Redis goes away at most moments (fault drill: both workers
    gone after a Redis restart); `leadloop worker` waits and starts it again, runs the task
    queued once Redis is back, and still stops cleanly on SIGTERM."""
    port = _redis_server_port()
    env = _rq_env(tmp_path, f"redis://127.0.0.1:{port}/0")
    redis = _private_redis(port)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "leadloop.cli", "worker", "--no-scheduler"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _last_line(SLEEP_SNIPPET + "print('queued')", env)
        time.sleep(4)  # the worker is registered and in the middle of the job
        redis.kill()
        redis.wait()
        time.sleep(6)  # several of RQ's own retries, and its exit
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        redis = _private_redis(port)
        assert _last_line(ENQUEUE_SNIPPET, env) == "SUCCESSFUL"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
        redis.kill()
        log.close()


QUEUED_SNIPPET = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.core.management import call_command
from leadloop.core.retry import enqueue, is_queued
path = "tests.core.worker_tasks_for_tests.connection_mark_task"
seen = [is_queued(path)]
enqueue(path)
seen.append(is_queued(path))
import django_rq
queue = django_rq.get_queue("default")
seen.append(queue.fetch_job(queue.job_ids[0]).timeout)
call_command("worker", once=True, no_scheduler=True, verbosity=0)
seen.append(is_queued(path))
print(seen)
"""


def test_on_redis_a_queued_run_is_known_until_it_starts(tmp_path):
    """RQ has no index of its jobs by task: a mark says a run waits, so the routing of each
    sales-ready lead does not queue a run of its own while one waits. A job may run an hour,
    not RQ's 180 s (that stopped the assessment of an import in the middle of a query)."""
    _need_redis()
    from redis import Redis

    Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
    env = _rq_env(tmp_path, "redis://127.0.0.1:6379/12")
    assert _last_line(QUEUED_SNIPPET, env) == "[False, True, 3600, False]"


CONNECTIONS_SNIPPET = """
import os
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
from django.core.management import call_command
from redis import Redis
from leadloop.core.retry import enqueue
counter = Redis.from_url(os.environ["REDIS_URL"])
before = int(counter.info("stats")["total_connections_received"])
for _ in range(20):
    enqueue("tests.core.worker_tasks_for_tests.connection_mark_task")
call_command("worker", once=True, no_scheduler=True, verbosity=0)
print(int(counter.info("stats")["total_connections_received"]) - before)
"""


def test_one_process_keeps_its_connections_to_redis(tmp_path):
    """django_rq made a new Redis client for every enqueue and every job's result, so each
    task opened several TCP connections (62 for these 20 tasks): now 2, one per client kept."""
    port = _redis_server_port()
    env = _rq_env(tmp_path, f"redis://127.0.0.1:{port}/0")
    redis = _private_redis(port)
    try:
        opened = int(_last_line(CONNECTIONS_SNIPPET, env))
    finally:
        redis.kill()
    assert opened <= 5
