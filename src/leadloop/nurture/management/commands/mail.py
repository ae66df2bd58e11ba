"""`leadloop mail test <address> | send-waiting | bounce FILE | bounce-poll | bounce-listener`:
check the mail settings with a test mail, run the marketing mail sweep once, read a returned
mail (bounce or complaint) from a file, read the bounce mailbox over IMAP once, or receive
returned mail with Leadloop's own SMTP listener."""

from __future__ import annotations

import sys
import threading
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.nurture.mail import services as mail


class Command(LeadloopCommand):
    help = (
        "Marketing e-mail: test ADDRESS (send a test mail with the configured SMTP settings; "
        "exits non-zero when none are set or the server refuses), send-waiting (the sweep, once), "
        "bounce FILE (read a bounce or complaint mail; - reads standard input), bounce-poll "
        "(read the bounce mailbox over IMAP once), bounce-listener [--host H] [--port P] "
        "(receive returned mail over SMTP until stopped)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "action", choices=["test", "send-waiting", "bounce", "bounce-poll", "bounce-listener"]
        )
        parser.add_argument(
            "address", nargs="?", default="", help="test: where to send it; bounce: the file."
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="bounce-listener: address to listen on."
        )
        parser.add_argument(
            "--port", type=int, default=2526, help="bounce-listener: port to listen on (2526)."
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
        if options["action"] == "bounce-poll":
            if not mail.imap_configured():
                raise CommandError("No bounce mailbox is set (LEADLOOP_BOUNCE_IMAP_HOST).")
            stored = mail.poll_bounce_mailbox()
            self.emit(options, {"stored": stored}, f"{stored} returned mail(s) stored and read.")
            return
        if options["action"] == "bounce-listener":
            self._listen(options["host"], options["port"])
            return
        counts = mail.send_waiting()
        self.emit(
            options,
            counts,
            ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items()),
        )

    def _listen(self, host: str, port: int) -> None:
        controller = mail.bounce_smtp_controller(host=host, port=port)
        controller.start()
        self.stdout.write(f"Listening for returned mail on {host}:{port} (Ctrl+C stops).")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()

    def _read(self, name: str) -> bytes:
        if name in ("", "-"):
            return sys.stdin.buffer.read()
        try:
            with open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}") from exc
