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


# The clock jumping (NTP correcting a drifted clock, a VM restored from a snapshot): the
# schedule and the lease must not wait for the clock to catch up with their old stamps.


def test_jobs_stamped_before_the_clock_was_set_back_are_due_at_once(
    django_capture_on_commit_callbacks, db
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.enqueue_due_jobs()
    back = NOW - dt.timedelta(hours=1)
    with time_machine.travel(back, tick=False), django_capture_on_commit_callbacks(execute=True):
        after_jump = services.enqueue_due_jobs()
        right_after = services.enqueue_due_jobs()

    assert after_jump == [job.name for job in SCHEDULE]  # not an hour of silence
    assert right_after == []  # restamped at the new time: once, not every round
    assert {row.last_enqueued_at for row in PeriodicJob.objects.all()} == {back}


def test_a_small_disagreement_between_clocks_does_not_run_jobs_twice(
    django_capture_on_commit_callbacks, db
):
    # Two workers on machines whose clocks differ by a minute share the schedule.
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.enqueue_due_jobs()
    behind = NOW - dt.timedelta(minutes=1)
    with time_machine.travel(behind, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.enqueue_due_jobs() == []


def test_a_dead_holders_lease_from_before_the_clock_was_set_back_is_taken_over(db):
    with time_machine.travel(NOW, tick=False):
        services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)
    # worker-a dies; the clock goes back an hour. Without a check the lease would look held
    # for an hour and a minute.
    with time_machine.travel(NOW - dt.timedelta(hours=1), tick=False):
        taken = services.acquire_lease("scheduler", holder="worker-b", ttl=TTL)
        old_holder = services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)

    assert (taken, old_holder) == (True, False)  # and still one holder


def test_a_lease_renewed_just_now_is_not_taken_for_a_clock_jump(db):
    with time_machine.travel(NOW, tick=False):
        services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)
    with time_machine.travel(NOW - dt.timedelta(seconds=90), tick=False):
        assert services.acquire_lease("scheduler", holder="worker-b", ttl=TTL) is False


def test_the_clock_jumping_forward_hands_the_lease_over_once(db):
    with time_machine.travel(NOW, tick=False):
        services.acquire_lease("scheduler", holder="worker-a", ttl=TTL)
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        results = [
            services.acquire_lease("scheduler", holder=holder, ttl=TTL)
            for holder in ("worker-b", "worker-a", "worker-c")
        ]

    assert results == [True, False, False]
