"""What every `leadloop` command shares: JSON output for scripts, one-line errors."""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.management.base import BaseCommand, CommandError, CommandParser

from leadloop.errors import LeadloopError


class LeadloopCommand(BaseCommand):
    """A management command with `--json`, turning domain errors into a one-line CommandError.

    Django's system checks are left to `leadloop check`, `migrate`, `serve` and `worker`: they
    import every URL module and build the API (3.6 s of a 5 s `leadloop sla check`)."""

    requires_system_checks: list[str] | tuple[str, ...] | Literal["__all__"] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print machine-readable JSON.")

    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except LeadloopError as exc:
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            raise CommandError(f"{exc.detail} {details}".strip()) from exc

    def emit(self, options: dict[str, Any], data: Any, text: str) -> None:
        """Print `data` as JSON with --json, else the human text."""
        if options.get("json"):
            self.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(text)
