"""`leadloop backup` on PostgreSQL: pg_dump's custom format, restored with pg_restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.distribution.processes import PRELUDE, fresh_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the PostgreSQL run (DATABASE_URL=postgres://…) tests pg_dump",
)

SEED = """
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import create_lead
from leadloop.leads import services
source = services.create_source(name="Dumped", kind="http_post", by=SYSTEM).source
for n in range(25):
    create_lead({"first_name": f"Dump{n}", "last_name": "Restore", "email": f"d{n}@example.com"},
                source=source, by=SYSTEM)
"""

COUNTS = """
import json
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import Activity, Lead
print(json.dumps([Lead.objects.count(), Activity.objects.count(),
                  sorted(Lead.objects.values_list("email", flat=True))]))
"""


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)


def test_a_pg_dump_backup_restores_every_lead_and_its_timeline(tmp_path):
    import psycopg

    with fresh_database(tmp_path) as env:
        seeded = _run([sys.executable, "-c", PRELUDE + SEED], env)
        assert seeded.returncode == 0, seeded.stderr[-2000:]
        dump = tmp_path / "nightly.dump"
        taken = _run(
            [sys.executable, "-m", "leadloop.cli", "backup", "-o", str(dump), "--json"], env
        )
        assert taken.returncode == 0, taken.stderr
        report = json.loads(taken.stdout)
        assert (report["database"], report["path"]) == ("postgresql", str(dump))
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        before = _run([sys.executable, "-c", PRELUDE + COUNTS], env)

        base, _, _name = env["DATABASE_URL"].rpartition("/")
        restored = f"leadloop_restored_{uuid.uuid4().hex[:8]}"
        admin = base.replace("postgres://", "postgresql://") + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{restored}"')
        try:
            loaded = _run(
                [
                    "pg_restore",
                    "--no-owner",
                    f"--dbname={base}/{restored}".replace("postgres://", "postgresql://"),
                    str(dump),
                ],
                env,
            )
            assert loaded.returncode == 0, loaded.stderr
            restored_env = {**env, "DATABASE_URL": f"{base}/{restored}"}
            current = _run(
                [sys.executable, "-m", "leadloop.cli", "migrate", "--check"], restored_env
            )
            assert current.returncode == 0, current.stdout + current.stderr
            after = _run([sys.executable, "-c", PRELUDE + COUNTS], restored_env)
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')

    assert after.returncode == 0, after.stderr[-2000:]
    leads, entries, emails = json.loads(after.stdout.strip().splitlines()[-1])
    assert [leads, entries, emails] == json.loads(before.stdout.strip().splitlines()[-1])
    assert leads == 25
    assert entries >= 25


def test_a_failing_pg_dump_is_a_one_line_error_and_leaves_no_file(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/no_such_database_here",
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "TASKS_BACKEND": "dummy",
    }
    dump = tmp_path / "nightly.dump"

    done = _run([sys.executable, "-m", "leadloop.cli", "backup", "-o", str(dump)], env)

    assert done.returncode != 0
    assert "pg_dump failed" in done.stderr
    assert "no_such_database_here" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.glob("*dump*")) == []
