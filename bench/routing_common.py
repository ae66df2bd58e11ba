"""What the routing benchmarks share: a Django process on a database of their own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from run_all import BIN, _pg, run

PRELUDE = """
import os, sys, time, json
os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
import django; django.setup()
"""


def python(code: str, env: dict[str, str]) -> str:
    return run([str(BIN / "python"), "-c", PRELUDE + code], env, capture=True)


def fresh_env(db: str, workdir: Path, pg_url: str, name: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(workdir), "TASKS_BACKEND": "db",
        "LEADLOOP_VAR_DIR": str(workdir), "LEADLOOP_LOG_LEVEL": "WARNING",
    }  # fmt: skip
    if db == "sqlite":
        path = workdir / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["LEADLOOP_SQLITE_PATH"] = str(path)
    else:
        import psycopg

        with psycopg.connect(_pg(pg_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "leadloop_bench_{name}"')
            conn.execute(f'CREATE DATABASE "leadloop_bench_{name}"')
        env["DATABASE_URL"] = f"{pg_url}/leadloop_bench_{name}"
    run([str(BIN / "leadloop"), "migrate", "-v0"], env)
    return env


# --- decide ---------------------------------------------------------------------------------


def wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
             f"http://127.0.0.1:{port}/login/"],
            capture_output=True, text=True,
        )  # fmt: skip
        if probe.stdout == "200":
            return
        time.sleep(0.3)
    raise RuntimeError("the server did not start")
