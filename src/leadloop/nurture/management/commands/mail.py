"""`leadloop mail test <address> | send-waiting | bounce FILE`: check the mail settings with a
test mail, run the marketing mail sweep once, or read a returned mail (bounce or complaint)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.nurture.mail import services as mail


class Command(LeadloopCommand):
    help = (
        "Marketing e-mail: test ADDRESS (send a test mail with the configured SMTP settings; "
        "exits non-zero when none are set or the server refuses), send-waiting (the sweep, once), "
        "bounce FILE (read a bounce or complaint mail; - reads standard input)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["test", "send-waiting", "bounce"])
        parser.add_argument(
            "address", nargs="?", default="", help="test: where to send it; bounce: the file."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "test":
            message_id = mail.send_test_mail(options["address"])
            self.emit(
                options,
                {"to": options["address"], "message_id": message_id},
                f"Test mail sent to {options['address']} ({message_id}).",
            )
            return
        if options["action"] == "bounce":
            raw = self._read(options["address"])
            report = mail.record_bounce(raw)
            self.emit(
                options,
                {"id": report.pk, "kind": report.kind, "status": report.status,
                 "email": report.email, "message_id": report.message_id},
                f"Report #{report.pk}: {report.kind or 'not understood'} {report.status} "
                f"{report.email}".rstrip(),
            )  # fmt: skip
            return
        counts = mail.send_waiting()
        self.emit(
            options,
            counts,
            ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items()),
        )

    def _read(self, name: str) -> bytes:
        if name in ("", "-"):
            return sys.stdin.buffer.read()
        try:
            with open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}") from exc
