"""`leadloop backup` and the restore drill: a backup taken while leads arrive restores to a
consistent database that loses nothing it had acknowledged."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.distribution.processes import PRELUDE, migrated_sqlite_copy

pytestmark = pytest.mark.own_sqlite

SETUP = """
from leadloop.leads import services
from leadloop.accounts.actors import SYSTEM
created = services.create_source(name="Drill", kind="http_post", by=SYSTEM)
print(created.source.pk)
"""

# Leads arriving the way the intake takes them: the raw post stored in its own transaction, then
# processed into a lead. After each commit the writer prints what is committed.
WRITER = """
import json, pathlib
from leadloop.intake.services import process_submission, receive
from leadloop.leads.models import Source
source = Source.objects.get(pk=SOURCE)
stop, n = pathlib.Path(STOP), 0
while not stop.exists():
    n += 1
    body = json.dumps({"first_name": f"Drill{n}", "last_name": "Writer WRITER",
                       "email": f"drill{n}.wWRITER@example.com"}).encode()
    submission = receive(source=source, channel="http", body=body,
                         content_type="application/json")
    print("received", submission.pk, flush=True)
    process_submission(submission.pk)
    print("processed", submission.pk, flush=True)
"""

STATE = """
import datetime as dt, json
from django.utils import timezone
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.services import process_orphans
from leadloop.leads.models import Activity, Lead
def state():
    return {
        "leads": Lead.objects.count(),
        "processed": sorted(RawSubmission.objects.filter(state=SubmissionState.PROCESSED)
                            .values_list("pk", flat=True)),
        "received": sorted(RawSubmission.objects.filter(state=SubmissionState.RECEIVED)
                           .values_list("pk", flat=True)),
        "leads_without_submission": Lead.objects.exclude(
            pk__in=RawSubmission.objects.values("lead_id")).count(),
        "leads_without_timeline": Lead.objects.exclude(
            pk__in=Activity.objects.values("lead_id")).count(),
    }
before = state()
# What the scheduler's sweep does after a restart: finish what was stored but not processed.
swept = process_orphans(now=timezone.now() + dt.timedelta(hours=1))
print(json.dumps({"restored": before, "swept": swept, "after": state()}))
"""


def _env(db: Path, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        LEADLOOP_SQLITE_PATH=str(db),
        LEADLOOP_VAR_DIR=str(var),
        TASKS_BACKEND="dummy",
        PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"),
    )
    return env


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _leadloop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadloop.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _leads(db: Path) -> int:
    with sqlite3.connect(db, timeout=20) as reader:
        return int(reader.execute("SELECT COUNT(*) FROM leads_lead").fetchone()[0])


def _wait_for_leads(db: Path, *, at_least: int, writers: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 120
    while _leads(db) < at_least:
        assert all(w.poll() is None for w in writers), "a writer stopped"
        assert time.monotonic() < deadline, f"the writers did not reach {at_least} leads"
        time.sleep(0.1)


def test_a_backup_under_write_load_restores_consistent_and_loses_nothing_acknowledged(tmp_path):
    live = tmp_path / "live" / "leadloop.sqlite3"
    live.parent.mkdir()
    migrated_sqlite_copy(live)
    env = _env(live, tmp_path / "var")
    source_id = int(_python(SETUP, env).strip().splitlines()[-1])
    stop = tmp_path / "stop"
    writer_code = WRITER.replace("SOURCE", str(source_id)).replace("STOP", repr(str(stop)))
    logs = [tmp_path / f"writer{n}.log" for n in range(2)]
    outputs = [log.open("w") for log in logs]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", PRELUDE + writer_code.replace("WRITER", str(n))],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n, output in enumerate(outputs)
    ]
    try:
        _wait_for_leads(live, at_least=10, writers=writers)  # the writers are writing
        backup = tmp_path / "backups" / "drill.sqlite3"
        taken = _leadloop(env, "backup", "--output", str(backup), "--json")
        assert taken.returncode == 0, taken.stderr
        # And go on writing after it.
        _wait_for_leads(live, at_least=_leads(live) + 10, writers=writers)
    finally:
        stop.touch()
        for writer in writers:
            writer.wait(timeout=60)
        for output in outputs:
            output.close()
    assert [w.returncode for w in writers] == [0, 0], [log.read_text()[-2000:] for log in logs]
    report = json.loads(taken.stdout)
    assert report["checked"] is True
    assert report["path"] == str(backup)
    assert not list(backup.parent.glob(".*partial"))
    written = [line.split() for log in logs for line in log.read_text().splitlines()]
    processed = {int(pk) for what, pk in written if what == "processed"}

    # The restore: the backup file put in place of a database (Leadloop stopped), here a new one.
    restored = tmp_path / "restored" / "leadloop.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup, restored)
    with sqlite3.connect(restored) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    restored_env = _env(restored, tmp_path / "var2")
    migrated = _leadloop(restored_env, "migrate", "--check")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    found = json.loads(_python(STATE, restored_env).strip().splitlines()[-1])
    live_state = json.loads(_python(STATE, env).strip().splitlines()[-1])["restored"]

    at_backup = found["restored"]
    # A consistent moment: every lead came with its raw post and its timeline entry.
    assert at_backup["leads_without_submission"] == 0
    assert at_backup["leads_without_timeline"] == 0
    assert at_backup["leads"] == len(at_backup["processed"])
    # Taken under load: it holds some of what was written, not all of it.
    assert 0 < at_backup["leads"] < live_state["leads"]
    # Every post a writer saw processed is in the live database; the backup holds some of them
    # and nothing else: it is a past state of the same database.
    assert processed <= set(live_state["processed"])
    assert set(at_backup["processed"]) <= processed
    # A post stored but not yet processed at that moment (at most one a writer) is not lost:
    # the sweep that runs after a restart makes its lead.
    assert len(at_backup["received"]) <= 2
    after = found["after"]
    assert found["swept"] == len(at_backup["received"])
    assert after["received"] == []
    assert after["leads"] == at_backup["leads"] + len(at_backup["received"])
    assert after["leads_without_submission"] == 0


def test_backup_refuses_to_overwrite_and_says_why(tmp_path):
    live = tmp_path / "leadloop.sqlite3"
    migrated_sqlite_copy(live)
    env = _env(live, tmp_path / "var")
    taken = tmp_path / "taken.sqlite3"
    taken.write_bytes(b"an earlier backup")

    done = _leadloop(env, "backup", "--output", str(taken))

    assert done.returncode != 0
    assert "exists already" in done.stderr
    assert taken.read_bytes() == b"an earlier backup"
    assert len(done.stderr.strip().splitlines()) == 1


def test_backup_without_a_name_goes_to_var_backups(tmp_path):
    live = tmp_path / "leadloop.sqlite3"
    migrated_sqlite_copy(live)
    env = _env(live, tmp_path / "var")

    done = _leadloop(env, "backup", "--json")

    assert done.returncode == 0, done.stderr
    path = Path(json.loads(done.stdout)["path"])
    assert path.parent == tmp_path / "var" / "backups"
    assert path.name.startswith("leadloop-")
    assert path.suffix == ".sqlite3"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0] > 50
