"""The SQLite backend's writer queue: a transaction waits for the one before it, not for ever."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from leadloop.core.sqlite_backend.base import DatabaseWrapper

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="the writer queue belongs to the SQLite backend"
    ),
    pytest.mark.django_db,  # lets these tests open their own connections to a file database
]


def _wrapper(path, *, timeout=20):
    settings = {
        **connection.settings_dict,
        "NAME": str(path),
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "timeout": timeout},
    }
    wrapper = DatabaseWrapper(settings, alias=f"queue-{id(settings)}")
    wrapper.ensure_connection()
    return wrapper


def _begin(wrapper):
    wrapper._start_transaction_under_autocommit()


def test_a_second_writer_starts_only_after_the_first_commits(tmp_path):
    first = _wrapper(tmp_path / "q.sqlite3")
    first.connection.execute("CREATE TABLE t (x INTEGER)")
    _begin(first)
    first.connection.execute("INSERT INTO t VALUES (1)")
    started = threading.Event()

    def write():
        second = _wrapper(tmp_path / "q.sqlite3")  # a connection belongs to its thread
        _begin(second)
        started.set()
        second.connection.execute("INSERT INTO t VALUES (2)")
        second._commit()
        second.close()

    thread = threading.Thread(target=write)
    thread.start()
    assert not started.wait(0.3), "the second writer began while the first held the lock"
    first._commit()
    assert started.wait(5), "the second writer never began after the first committed"
    thread.join(5)
    assert first.connection.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
    first.close()


def test_a_writer_gives_up_after_the_timeout_with_a_database_error(tmp_path):
    first = _wrapper(tmp_path / "q.sqlite3")
    second = _wrapper(tmp_path / "q.sqlite3", timeout=0.2)
    _begin(first)
    with pytest.raises(OperationalError, match="locked"):
        _begin(second)
    first._rollback()
    _begin(second)  # free again once the holder rolled back
    second._rollback()
    first.close()
    second.close()


def test_closing_a_connection_mid_transaction_frees_the_queue(tmp_path):
    first = _wrapper(tmp_path / "q.sqlite3")
    second = _wrapper(tmp_path / "q.sqlite3", timeout=2)
    _begin(first)
    first.close()
    _begin(second)
    second._commit()
    second.close()


def test_an_in_memory_database_needs_no_lock_file(tmp_path):
    wrapper = DatabaseWrapper(
        {**connection.settings_dict, "NAME": ":memory:"}, alias="queue-memory"
    )
    assert wrapper._lock_path() is None


def test_placeholders_are_converted_once_and_as_django_converts_them(tmp_path):
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    from leadloop.core.sqlite_backend.base import CursorWrapper

    wrapper = _wrapper(tmp_path / "convert.sqlite3")
    try:
        with wrapper.cursor() as cursor:
            assert isinstance(cursor.cursor, CursorWrapper)
            sql = "SELECT %s || '%%' || %s"
            cursor.execute(sql, ["a", "b"])
            assert cursor.fetchone() == ("a%b",)
            cursor.execute(sql, ["c", "d"])  # from the cache this time
            assert cursor.fetchone() == ("c%d",)
            assert CursorWrapper.converted[sql] == SQLiteCursorWrapper.convert_query(
                cursor.cursor, sql
            )
            cursor.execute("SELECT %(x)s + %(x)s", {"x": 2})  # named style: not cached
            assert cursor.fetchone() == (4,)
    finally:
        wrapper.close()
