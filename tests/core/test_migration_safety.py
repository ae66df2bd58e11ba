"""Migrations run while the previous release still serves (docs/upgrades.md).

Two guards:
- every migration newer than the previous release passes django-migration-linter on
  PostgreSQL (the PostgreSQL run): no column dropped or renamed, no NOT NULL column the old code
  does not write, no table renamed;
- the previous release's own code, taken from git, receives a lead over HTTP into a database
  migrated by this code, and this code's worker then finishes that lead's tasks.

At each release, set PREVIOUS_RELEASE to the commit released and its newest migrations.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from tests.distribution.processes import PRELUDE, fresh_database

REPO = Path(__file__).resolve().parents[2]

# The release the migrations must stay compatible with: its commit and every app's newest
# migration then, the dependencies' too (django-tasks-db and django-axes have dropped columns in
# their own migrations: a dependency upgrade is linted like our own). Apps added since are new as
# a whole.
PREVIOUS_RELEASE = {
    "commit": "97cc1cdce828facf04a69df1423d4196887dabe4",
    "migrations": {
        "accounts": "0007_buyer_role",
        "analytics": "0006_day_totals",
        "assessment": "0004_closed_leads_without_urgency",
        "auth": "0012_alter_user_first_name_max_length",
        "axes": "0010_accessattemptexpiration",
        "contenttypes": "0002_remove_content_type_name",
        "core": "0002_rate_counter",
        "distribution": "0005_buyer_batches",
        "django_tasks_database": "0021_conditional_partial_index_ordering",
        "intake": "0012_web_form_formal_address",
        "leads": "0025_lead_sold_at",
        "notifications": "0001_initial",
        "nurture": "0005_bounce_mailbox_and_tracking_hits",
        "privacy": "0003_throttled_retention_rule",
        "sales": "0004_clock_late_running",
        "sessions": "0001_initial",
        "webhooks": "0001_initial",
    },
}


# Migrations the linter flags that were reviewed and are safe, with why (docs/upgrades.md).
REVIEWED: dict[str, str] = {}


def migrations_since(release: dict, loader: MigrationLoader) -> list[tuple[str, str]]:
    """The migrations that the release did not have, in name order."""
    released: set[tuple[str, str]] = set()
    for app, name in release["migrations"].items():
        released.update(loader.graph.forwards_plan((app, name)))
    return sorted(set(loader.disk_migrations) - released)


def lint(keys: list[tuple[str, str]]) -> dict[str, list[str]]:
    """django-migration-linter's errors per migration, in this connection's SQL."""
    from django_migration_linter import MigrationLinter
    from django_migration_linter.sql_analyser.analyser import analyse_sql_statements

    linter = MigrationLinter(
        path=str(REPO), database=connection.alias, no_cache=True, no_output=True
    )
    found: dict[str, list[str]] = {}
    for app, name in keys:
        migration = linter.migration_loader.disk_migrations[(app, name)]
        if f"{app}.{name}" in REVIEWED:
            continue
        errors, _ignored, _warnings = analyse_sql_statements(
            linter.sql_analyser_class, linter.get_sql(app, name), []
        )
        data_errors, _, _ = linter.analyse_data_migration(migration)
        messages = [issue.message for issue in errors + (data_errors or [])]
        if messages:
            found[f"{app}.{name}"] = messages
    return found


@pytest.mark.django_db
def test_the_release_baseline_names_migrations_that_exist():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    for app, name in PREVIOUS_RELEASE["migrations"].items():
        assert (app, name) in loader.disk_migrations, f"{app}.{name} is not a migration"
    # Every app with migrations is in the baseline, or arrived after it as a whole.
    apps = {app for app, _name in loader.disk_migrations}
    assert apps >= set(PREVIOUS_RELEASE["migrations"])


# The rules are the production shape's: PostgreSQL, where old web processes serve while
# `leadloop migrate` runs. The embedded default migrates before it serves; and the linter reads
# SQLite's table rebuilds (how Django alters a column there) as unsafe even when they are not.
postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the migration rules are linted on the PostgreSQL run",
)


@postgres_only
@pytest.mark.django_db
def test_migrations_since_the_previous_release_are_safe_for_it():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    assert lint(migrations_since(PREVIOUS_RELEASE, loader)) == {}


@postgres_only
@pytest.mark.django_db
def test_the_linter_catches_a_not_null_column_the_old_code_would_not_write():
    # The gate is live: a migration from before the first release that added a NOT NULL column
    # with a Python default only (the old code's INSERT would fail) is flagged.
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    earlier = {"commit": "", "migrations": {"intake": "0011_web_form_languages"}}
    assert ("intake", "0012_web_form_formal_address") in migrations_since(earlier, loader)
    found = lint([("intake", "0012_web_form_formal_address")])
    assert any("NOT NULL" in message for message in found["intake.0012_web_form_formal_address"])
    # ... and one with a database default is not (leads.0024 adds `db_default="EUR"`).
    assert lint([("leads", "0024_source_costs")]) == {}


def _previous_release_source(tmp_path: Path) -> Path:
    """The previous release's src/ from git, or a skip when this clone does not have it."""
    commit = PREVIOUS_RELEASE["commit"]
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("no git checkout: the previous release's code is not at hand")
    known = subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True
    )
    if known.returncode != 0:
        pytest.skip(f"this clone's history does not reach the previous release {commit[:12]}")
    target = tmp_path / "previous"
    target.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "src/leadloop"],
        capture_output=True, check=True,
    )  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


SETUP = """
from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
made = services.create_source(name="Rolling deploy", kind="http_post", by=SYSTEM)
print(made.raw_key)
"""

OLD_WEB_POSTS = """
import json, leadloop
from django.test import Client
assert leadloop.__file__.startswith(sys.argv[1]), leadloop.__file__
answers = []
for n in range(3):
    body = {"first_name": f"Old{n}", "last_name": "Release", "email": f"old{n}@example.com",
            "phone": "+31 6 1234 56%02d" % n, "company": "Rolling BV"}
    answer = Client(HTTP_HOST="127.0.0.1").post(
        f"/in/{sys.argv[2]}", json.dumps(body), content_type="application/json"
    )
    answers.append([answer.status_code, answer.content.decode()[:300]])
print(json.dumps(answers))
"""

NEW_READS = """
import json, leadloop
from django_tasks_db.models import DBTaskResult
from leadloop.leads.models import Lead
assert leadloop.__file__.startswith(sys.argv[1]), leadloop.__file__
leads = Lead.objects.filter(last_name="Release").order_by("email")
print(json.dumps({
    "leads": [[lead.email, lead.phone_e164, bool(lead.assessed_at), lead.activities.count()]
              for lead in leads],
    "tasks": sorted({r.status for r in DBTaskResult.objects.all()}),
}))
"""


def test_the_previous_release_takes_leads_into_the_new_schema(tmp_path):
    old_src = _previous_release_source(tmp_path)
    with fresh_database(tmp_path) as env:  # migrated by this code
        env = {**env, "TASKS_BACKEND": "db"}

        def python(code: str, src: Path, *args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-c", PRELUDE + code, str(src), *args],
                env={**env, "PYTHONPATH": str(src)}, capture_output=True, text=True, timeout=180,
            )  # fmt: skip

        made = python(SETUP, REPO / "src")
        assert made.returncode == 0, made.stderr[-2000:]
        key = made.stdout.strip().splitlines()[-1]

        posted = python(OLD_WEB_POSTS, old_src, key)
        assert posted.returncode == 0, posted.stderr[-3000:]
        assert [status for status, _body in json.loads(posted.stdout)] == [201, 201, 201], (
            posted.stdout
        )

        # This release's worker finishes what the old web process queued.
        worker = subprocess.run(
            [sys.executable, "-m", "leadloop.cli", "worker", "--once"],
            env={**env, "PYTHONPATH": str(REPO / "src")}, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip
        assert worker.returncode == 0, worker.stderr[-3000:]

        read = python(NEW_READS, REPO / "src")
        assert read.returncode == 0, read.stderr[-3000:]
        seen = json.loads(read.stdout)
        assert [row[:2] for row in seen["leads"]] == [
            [f"old{n}@example.com", f"+3161234560{n}"] for n in range(3)
        ]
        assert all(assessed for _e, _p, assessed, _n in seen["leads"])
        assert all(count >= 1 for *_rest, count in seen["leads"])  # on the timeline
        assert "FAILED" not in seen["tasks"], seen["tasks"]


def test_the_previous_release_source_is_what_git_says(tmp_path):
    # The baseline's migration names are the previous release's own newest migrations.
    old_src = _previous_release_source(tmp_path)
    for app, name in PREVIOUS_RELEASE["migrations"].items():
        folder = old_src / "leadloop" / app / "migrations"
        if not folder.exists():
            continue  # a dependency's app: its migrations come with its pinned version
        newest = max(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
        assert newest == name, f"{app}: the release's newest migration is {newest}"
