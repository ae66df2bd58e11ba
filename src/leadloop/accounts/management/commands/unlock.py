from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts import services
from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = "Lift a login lockout of a user or an address (and the address's wrong-key block)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username", nargs="?", default="", help="The locked user's name.")
        parser.add_argument("--ip", default="", help="A locked client address.")

    def handle(self, *args: Any, **options: Any) -> None:
        username, ip = options["username"], options["ip"]
        if not (username or ip):
            raise CommandError("Give a user name, --ip ADDRESS, or both.")
        removed = services.unlock(username=username, ip=ip, by=CLI)
        what = " and ".join(part for part in (username, ip and f"address {ip}") if part)
        self.emit(
            options,
            {"username": username, "ip": ip, "removed": removed},
            f"Unlocked {what} ({removed} failure record(s) removed).",
        )
