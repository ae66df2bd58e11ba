"""The embedded default's disk fills up under intake: a clear error, no corruption, and nothing
answered as taken is lost.

A real SQLite database on a small tmpfs of its own (mounting needs root: the test is skipped,
saying so, where it cannot mount). Leads are posted through the real WSGI stack until the disk
is full. Every answer is then either `201` (its lead is in the database), `202` (the raw post is
stored and the worker finishes it once there is room) or `503` problem details with Retry-After
(nothing kept; the sender sends again); never a `500`. The database passes SQLite's integrity
check, and after the disk is given room the worker turns every `202` into its lead.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.distribution.processes import PRELUDE, migrated_sqlite_copy

pytestmark = pytest.mark.own_sqlite

POST_UNTIL_FULL = """
import json
from django.test import Client
from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
key = services.create_source(name="Filling", kind="http_post", by=SYSTEM).raw_key
client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
answers, refused = [], 0
for n in range(5000):
    body = {"first_name": f"Fill{n}", "last_name": "Disk", "email": f"fill{n}@example.com",
            "company": "Full Disk BV", "notes": "n" * 1000}
    answer = client.post(f"/in/{key}", json.dumps(body), content_type="application/json")
    answers.append({"n": n, "status": answer.status_code,
                    "type": answer.headers.get("Content-Type", ""),
                    "retry_after": answer.headers.get("Retry-After"),
                    "body": answer.content.decode(errors="replace")[:500]})
    refused = refused + 1 if answer.status_code >= 300 else 0
    if refused >= 5:
        break
print(json.dumps(answers))
"""


def _mount(folder: Path, size: str) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def test_a_full_disk_refuses_leads_clearly_and_loses_none_it_answered(tmp_path):
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux")
    disk = tmp_path / "disk"
    disk.mkdir()
    template = tmp_path / "template.sqlite3"
    migrated_sqlite_copy(template)
    # Room for the migrated database and a dozen leads or more (the WAL file takes most).
    _mount(disk, f"{template.stat().st_size + 3_000_000}")
    try:
        database = disk / "leadloop.sqlite3"
        database.write_bytes(template.read_bytes())
        env = {
            **os.environ, "LEADLOOP_VAR_DIR": str(disk), "LEADLOOP_SQLITE_PATH": str(database),
            "TASKS_BACKEND": "db", "LEADLOOP_ORPHAN_AFTER_SECONDS": "0",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
        }  # fmt: skip
        env.pop("DATABASE_URL", None)

        posted = _run([sys.executable, "-c", PRELUDE + POST_UNTIL_FULL], env)
        assert posted.returncode == 0, posted.stderr[-3000:]
        answers = json.loads(posted.stdout.strip().splitlines()[-1])
        statuses = {a["status"] for a in answers}
        taken = [a for a in answers if a["status"] == 201]
        deferred = [a for a in answers if a["status"] == 202]
        refused = [a for a in answers if a["status"] not in (201, 202)]

        assert len(taken) > 10, [(a["n"], a["status"]) for a in answers]  # room for a while
        assert statuses <= {201, 202, 503}, [(a["n"], a["status"]) for a in answers]
        assert refused, "the disk never filled up"
        for answer in refused:
            problem = json.loads(answer["body"])
            assert answer["type"] == "application/problem+json"
            assert answer["retry_after"] == "30"
            assert (problem["status"], problem["reason"]) == (503, "full"), problem

        # No corruption, and every 201 has its lead.
        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            lead_ids = {row[0] for row in db.execute("SELECT id FROM leads_lead")}
            received = {
                row[0]
                for row in db.execute(
                    "SELECT id FROM intake_rawsubmission WHERE state = 'received'"
                )
            }
        assert {json.loads(a["body"])["lead_id"] for a in taken} <= lead_ids
        assert {json.loads(a["body"])["submission_id"] for a in deferred} <= received

        # Room again: the worker's orphan sweep makes the deferred posts' leads.
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        worker = _run([sys.executable, "-m", "leadloop.cli", "worker", "--once"], env)
        assert worker.returncode == 0, worker.stderr[-3000:]
        with sqlite3.connect(database) as db:
            left = db.execute(
                "SELECT count(*) FROM intake_rawsubmission WHERE state = 'received'"
            ).fetchone()[0]
            made = db.execute(
                "SELECT count(*) FROM leads_lead WHERE last_name = 'Disk'"
            ).fetchone()[0]
        assert left == 0
        assert made == len(taken) + len(deferred)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
