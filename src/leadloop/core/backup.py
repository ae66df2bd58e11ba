"""A consistent copy of the whole database, taken while Leadloop serves.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies every page in one step
  inside one read transaction, so the copy is the database as it was at one commit, while
  writers go on (WAL). The copy is checked (`PRAGMA integrity_check`, `foreign_key_check`)
  before it gets its name.
- PostgreSQL: `pg_dump --format=custom`, which reads one snapshot. Restore with `pg_restore`
  (docs/operations.md).

Either way the file is written under a temporary name and renamed when complete: a backup that
stopped half-way never looks like one that did not.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext as _

from leadloop.errors import ValidationFailed


@dataclass(frozen=True)
class Backup:
    path: Path
    vendor: str
    bytes: int
    seconds: float
    checked: bool


def default_path(vendor: str, now: dt.datetime) -> Path:
    suffix = "sqlite3" if vendor == "sqlite" else "dump"
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.VAR_DIR) / "backups" / f"leadloop-{stamp}.{suffix}"


def take_backup(target: Path | None = None, *, alias: str = "default") -> Backup:
    """Back up the database of `alias` to `target` (default: var/backups/leadloop-<UTC>.*)."""
    connection = connections[alias]
    vendor = connection.vendor
    began = dt.datetime.now(dt.UTC)
    path = Path(target) if target is not None else default_path(vendor, began)
    if path.exists():
        raise ValidationFailed(
            _("A file of that name exists already."), errors={"output": [str(path)]}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if vendor == "sqlite":
            _sqlite(connection.settings_dict["NAME"], partial)
            checked = True
        elif vendor == "postgresql":
            _pg_dump(connection.settings_dict, partial)
            checked = False
        else:  # pragma: no cover - the two databases Leadloop runs on
            raise ValidationFailed(_("No backup for this database."))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    seconds = (dt.datetime.now(dt.UTC) - began).total_seconds()
    return Backup(path, vendor, path.stat().st_size, round(seconds, 2), checked)


def _sqlite(name: Any, partial: Path) -> None:
    source = sqlite3.connect(str(name), timeout=20)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)  # every page in one step: one read transaction, one commit
            problems = check_sqlite(target)
        finally:
            target.close()
    finally:
        source.close()
    if problems:
        raise ValidationFailed(_("The copy is not consistent: %s") % "; ".join(problems[:5]))


def check_sqlite(db: sqlite3.Connection) -> list[str]:
    """What SQLite finds wrong with a database: its pages, and rows whose references dangle."""
    problems = [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [
        f"{row[0]} row {row[1]} → {row[2]}" for row in db.execute("PRAGMA foreign_key_check")
    ]
    return problems


def _pg_dump(database: dict[str, Any], partial: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise ValidationFailed(
            _("pg_dump is not installed (Debian: apt-get install postgresql-client).")
        )
    env = {**os.environ}
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    command = [
        program,
        "--format=custom",
        "--no-owner",
        f"--file={partial}",
        f"--dbname={database['NAME']}",
    ]
    if database.get("HOST"):
        command.append(f"--host={database['HOST']}")
    if database.get("PORT"):
        command.append(f"--port={database['PORT']}")
    if database.get("USER"):
        command.append(f"--username={database['USER']}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pg_dump failed"])[-1]
        raise ValidationFailed(_("pg_dump failed: %s") % last)
