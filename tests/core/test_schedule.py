import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django_tasks import default_task_backend

from leadloop.core import services
from leadloop.core.models import PeriodicJob
from leadloop.core.schedule import SCHEDULE

TTL = dt.timedelta(seconds=60)
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clear_queue():
    default_task_backend.clear()
    yield
    default_task_backend.clear()


def test_only_one_worker_holds_the_scheduler_lease(db):
    with time_machine.travel(NOW, tick=False):
        first = services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)
        second = services.acquire_lease("scheduler", holder="worker-b", ttl=TTL)
        renewed = services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)

    assert (first, second, renewed) == (True, False, True)


def test_a_lapsed_lease_is_taken_over(db):
    with time_machine.travel(NOW, tick=False):
        services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)
    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        taken = services.acquire_lease("scheduler", holder="worker-b", ttl=TTL)
        old_holder = services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)

    assert (taken, old_holder) == (True, False)


def test_a_released_lease_is_free_at_once(db):
    services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)

    services.release_lease("scheduler", holder="worker-a")

    assert services.acquire_lease("scheduler", holder="worker-b", ttl=TTL) is True


def test_due_jobs_are_enqueued_once_per_interval(django_capture_on_commit_callbacks, db):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        first = services.enqueue_due_jobs()
        again = services.enqueue_due_jobs()
    later = NOW + dt.timedelta(minutes=6)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        after_interval = services.enqueue_due_jobs()

    short = [job.name for job in SCHEDULE if job.every <= dt.timedelta(minutes=6)]
    assert first == [job.name for job in SCHEDULE]
    assert again == []
    assert after_interval == short
    assert "requeue_stalled_tasks" in short
    assert len(default_task_backend.results) == len(SCHEDULE) + len(short)
    assert PeriodicJob.objects.get(name="requeue_stalled_tasks").runs == 2


def test_worker_once_runs_the_schedule_and_releases_the_lease(db, capsys):
    call_command("worker", once=True, json=True)

    assert '"enqueued"' in capsys.readouterr().out
    assert services.acquire_lease("scheduler", holder="someone-else", ttl=TTL) is True


def test_optimize_task_runs_on_either_database(db):
    from django.db import connection

    from leadloop.core.tasks import optimize_database_task

    result = optimize_database_task.call()

    assert result == ("optimized" if connection.vendor == "sqlite" else "skipped")
