"""`leadloop mail test <address> | send-waiting`: check the mail settings with a test mail, or run
the marketing mail sweep once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.nurture.mail import services as mail


class Command(LeadloopCommand):
    help = (
        "Marketing e-mail: test ADDRESS (send a test mail with the configured SMTP settings; "
        "exits non-zero when none are set or the server refuses), send-waiting (the sweep, once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["test", "send-waiting"])
        parser.add_argument("address", nargs="?", default="", help="test: where to send it.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "test":
            message_id = mail.send_test_mail(options["address"])
            self.emit(
                options,
                {"to": options["address"], "message_id": message_id},
                f"Test mail sent to {options['address']} ({message_id}).",
            )
            return
        counts = mail.send_waiting()
        self.emit(
            options,
            counts,
            ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items()),
        )
