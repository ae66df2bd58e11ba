from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from leadloop.core.backup import take_backup
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = (
        "Back up the database while Leadloop serves: SQLite's online backup (checked), or "
        "pg_dump's custom format on PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help="The backup file (default: var/backups/leadloop-<UTC time>.sqlite3 or .dump).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = take_backup(options["output"])
        checked = " (integrity and foreign keys checked)" if done.checked else ""
        self.emit(
            options,
            {
                "path": str(done.path),
                "database": done.vendor,
                "bytes": done.bytes,
                "seconds": done.seconds,
                "checked": done.checked,
            },
            f"Backed up the {done.vendor} database to {done.path} "
            f"({done.bytes / 1_048_576:.1f} MiB in {done.seconds:g} s){checked}.",
        )
