from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand

FIELDS = ("language", "country", "currency", "time_zone")


class Command(LeadloopCommand):
    help = "Show or set the deployment's defaults: language, country, currency, time zone."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="e.g. --set country=BE --set time_zone=Europe/Brussels (audited).",
        )
        parser.add_argument("--show", action="store_true", help="Print them (the default).")

    def handle(self, *args: Any, **options: Any) -> None:
        changes: dict[str, str] = {}
        for item in options["set"]:
            name, sep, value = item.partition("=")
            if not sep or name not in FIELDS:
                raise CommandError(f"Use --set FIELD=VALUE with FIELD one of {', '.join(FIELDS)}.")
            changes[name] = value
        values = (
            services.change_defaults(by=CLI, **changes) if changes else selectors.get_defaults()
        )
        data = asdict(values)
        self.emit(options, data, "\n".join(f"{name}: {data[name]}" for name in FIELDS))
