"""Real processes against a real database of their own, for races that a single test process
cannot show: the suite's own database is inside a transaction the workers cannot see.

On the SQLite run the processes share a fresh SQLite file; on the PostgreSQL run (DATABASE_URL
set) a fresh PostgreSQL database, dropped afterwards. So each race is tested on both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRELUDE = """
import os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
"""


# One migrated database per test process, copied for each test that needs a fresh one: running
# every migration takes 10-20 s, copying a file or a template database a fraction of that.
_TEMPLATE: dict[str, str] = {}


def _base_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "TASKS_BACKEND": "dummy",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }


def _migrate(env: dict[str, str]) -> None:
    done = run(
        "from django.core.management import call_command\ncall_command('migrate', verbosity=0)\n",
        env,
    )
    assert done.returncode == 0, done.stderr


def migrated_sqlite_copy(dest: Path) -> None:
    """A migrated SQLite database at `dest`: a copy of this process's template, made once."""
    import sqlite3
    import tempfile

    template = _TEMPLATE.get("sqlite")
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix="leadloop-template-"))
        env = _base_env(folder)
        env.pop("DATABASE_URL", None)
        env["LEADLOOP_SQLITE_PATH"] = str(folder / "template.sqlite3")
        _migrate(env)
        template = _TEMPLATE["sqlite"] = env["LEADLOOP_SQLITE_PATH"]
    with sqlite3.connect(template) as source, sqlite3.connect(dest) as target:
        source.backup(target)


def _pg_template(base: str) -> str:
    """This process's migrated PostgreSQL template database (made once, dropped at exit)."""
    name = _TEMPLATE.get("postgres")
    if name is None:
        import atexit

        import psycopg

        name = f"leadloop_tpl_{uuid.uuid4().hex[:10]}"
        admin = base.replace("postgres://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env = _base_env(Path("/tmp"))
        env["DATABASE_URL"] = f"{base}/{name}"
        _migrate(env)

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        atexit.register(drop)
        _TEMPLATE["postgres"] = name
    return name


@contextmanager
def fresh_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of processes sharing a new, migrated database."""
    env = _base_env(tmp_path)
    url = os.environ.get("DATABASE_URL", "")
    name = ""
    if url.startswith("postgres"):
        import psycopg

        base, _, _old = url.rpartition("/")
        template = _pg_template(base)
        name = f"leadloop_race_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(
            base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        env["DATABASE_URL"] = f"{base}/{name}"
    else:
        env.pop("DATABASE_URL", None)
        env["LEADLOOP_SQLITE_PATH"] = str(tmp_path / "race.sqlite3")
        migrated_sqlite_copy(Path(env["LEADLOOP_SQLITE_PATH"]))
    try:
        yield env
    finally:
        if name:
            import psycopg

            with psycopg.connect(
                base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def run_together(codes: list[str], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    """Start one process per code; each waits (Django loaded, connection open) for the same
    instant, then runs its code. Returns them in order, finished."""
    start = time.time() + 4.0
    gate = (
        "from django.db import connection\n"
        "connection.ensure_connection()\n"
        f"time.sleep(max(0.0, {start!r} - time.time()))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRELUDE + gate + code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for code in codes
    ]
    finished = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        finished.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return finished
