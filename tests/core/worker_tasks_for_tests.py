"""Tasks the worker tests run on a real worker (a module of their own: tasks_for_tests.py names
the "immediate" backend, which only the test settings have)."""

from leadloop.core.retry import retrying_task


@retrying_task(max_attempts=1)
def connection_mark_task() -> list[int]:
    """The process that ran it, and how many jobs its database connection has served: a
    temporary table lives exactly as long as the connection."""
    import os

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS leadloop_test_mark (x integer)")
        cursor.execute("INSERT INTO leadloop_test_mark VALUES (1)")
        cursor.execute("SELECT COUNT(*) FROM leadloop_test_mark")
        (count,) = cursor.fetchone()
    return [os.getpid(), count]


@retrying_task(max_attempts=1)
def fails_for_good_task() -> None:
    raise RuntimeError("fails for good")


@retrying_task(max_attempts=1)
def sleeps_task(seconds: float) -> None:
    import time

    time.sleep(seconds)
