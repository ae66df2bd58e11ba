import datetime as dt

import pytest
import time_machine
from django_tasks import default_task_backend

from tests.core import tasks_for_tests
from tests.core.tasks_for_tests import (
    always_fails_task,
    fails_until_third_call_task,
    flaky_immediate_task,
)

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _reset():
    tasks_for_tests.CALLS.clear()
    default_task_backend.clear()
    yield
    default_task_backend.clear()


def test_a_failed_run_enqueues_a_retry_with_back_off():
    with time_machine.travel(NOW, tick=False), pytest.raises(RuntimeError):
        fails_until_third_call_task.call(7)

    [retry] = default_task_backend.results
    assert list(retry.args) == [7]
    assert retry.kwargs == {"_attempt": 2}
    delay = (retry.task.run_after - NOW).total_seconds()
    assert 27 <= delay <= 33


def test_the_second_retry_waits_twice_as_long():
    with time_machine.travel(NOW, tick=False), pytest.raises(RuntimeError):
        fails_until_third_call_task.call(7, _attempt=2)

    [retry] = default_task_backend.results
    assert retry.kwargs["_attempt"] == 3
    assert 54 <= (retry.task.run_after - NOW).total_seconds() <= 66


def test_retries_run_until_the_task_succeeds():
    result = flaky_immediate_task.enqueue(1)

    assert tasks_for_tests.CALLS == [1, 1, 1]
    assert result.status == "FAILED"  # the first attempt failed; its retries carried on


def test_the_task_gives_up_after_max_attempts():
    always_fails_task.enqueue(5)

    assert tasks_for_tests.CALLS == [5, 5]
