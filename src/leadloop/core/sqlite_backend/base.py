"""SQLite with a queue for writers: Django's backend plus a file lock around write transactions.

SQLite allows one writer at a time. A second process that finds the write lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, … up to 100 ms between tries: under steady load
from two web processes, a waiting writer kept oversleeping the other's short transactions (the
intake benchmark's p99 was 200 ms with 2 processes against 80 ms with one). Here every
transaction first takes an exclusive `flock` on a file beside the database, polled every 0.2 ms,
so a writer starts within a fraction of a millisecond of the previous one's commit. The lock is
released at commit or rollback, and the kernel releases it if the process dies.

Threads of one process (an auction's, a worker's) queue first on a lock of the process, so that
only one of them polls the file lock: forty threads polling it every 0.2 ms spent the CPU the
writer they waited for needed (bench/selling.py).

Only transactions (`transaction.atomic`, which on SQLite begin IMMEDIATE) queue here; a single
autocommitted statement still relies on SQLite's own busy timeout.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOperations

POLL_SECONDS = 0.0002
# One lock per database file for the threads of this process.
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock(path: str) -> threading.Lock:
    with _THREAD_LOCKS_GUARD:
        found = _THREAD_LOCKS.get(path)
        if found is None:
            found = _THREAD_LOCKS[path] = threading.Lock()
        return found


CONVERTED_MAX = 4096


class CursorWrapper(base.SQLiteCursorWrapper):
    """Django's cursor, remembering each statement's "%s" → "?" conversion.

    Django rewrites the placeholders of every statement with a regular expression, each time it
    runs (~25 µs for a lead's INSERT, a dozen statements per intake post). The statements are a
    fixed set per process, so the rewritten text is kept; the cache is emptied when it fills
    (statements with IN lists of many lengths).
    """

    converted: dict[str, str] = {}

    def convert_query(self, query: str, *, param_names: Any = None) -> str:
        if param_names is not None:
            return str(super().convert_query(query, param_names=param_names))
        done = self.converted.get(query)
        if done is None:
            if len(self.converted) >= CONVERTED_MAX:
                self.converted.clear()
            done = self.converted[query] = str(super().convert_query(query))
        return done


class DatabaseOperations(SQLiteOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        """Empty whole tables as PostgreSQL's TRUNCATE does: row triggers (the audit log's
        append-only guard) are set aside for the statement and put back after it.

        Django's `flush` and transactional tests use this; SQLite has no TRUNCATE and deletes
        row by row, which the guard would refuse.
        """
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not tables:
            return statements
        marks = ", ".join(["%s"] * len(tables))
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "  # noqa: S608
                f"AND tbl_name IN ({marks}) ORDER BY name",
                list(tables),
            )
            triggers = cursor.fetchall()
        drops = [f"DROP TRIGGER {self.quote_name(name)}" for name, _sql in triggers]
        return [*drops, *statements, *(sql for _name, sql in triggers)]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock_fd: int | None = None
        self._lock_held = False
        self._thread_lock: threading.Lock | None = None

    def create_cursor(self, name: Any = None) -> Any:
        return self.connection.cursor(factory=CursorWrapper)

    def _lock_path(self) -> str | None:
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        return f"{name}-writers"

    def _take_write_lock(self) -> None:
        path = self._lock_path()
        if path is None or self._lock_held:
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + float(self.settings_dict["OPTIONS"].get("timeout", 20))
        in_process = _thread_lock(path)
        if not in_process.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise OperationalError("database is locked (writer queue)")
        self._thread_lock = in_process
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._release_thread_lock()
                    raise OperationalError("database is locked (writer queue)") from None
                time.sleep(POLL_SECONDS)
        self._lock_held = True

    def _release_thread_lock(self) -> None:
        if self._thread_lock is not None:
            self._thread_lock.release()
            self._thread_lock = None

    def _drop_write_lock(self) -> None:
        if self._lock_held and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._lock_held = False
        self._release_thread_lock()

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._drop_write_lock()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._drop_write_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._drop_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._drop_write_lock()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None
