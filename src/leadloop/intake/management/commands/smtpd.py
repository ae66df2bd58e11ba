"""leadloop smtpd [--host 127.0.0.1] [--port 2525] [--source-domain DOMAIN] [--inline]"""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from leadloop.core.commands import LeadloopCommand
from leadloop.intake.channels.email.ingest import smtp_controller


class Command(LeadloopCommand):
    help = "Receive lead mails over SMTP: each accepted mail is stored, then processed."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=2525, help="Port to listen on (2525).")
        parser.add_argument(
            "--source-domain",
            default="",
            help="Accept only recipients in this domain (e.g. leads.example.com).",
        )
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Process each mail in this process instead of through the task worker.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        controller = smtp_controller(
            host=options["host"],
            port=options["port"],
            domain=options["source_domain"],
            inline=options["inline"],
        )
        controller.start()
        self.stdout.write(
            _("Listening for lead mail on %(host)s:%(port)d (Ctrl+C stops).")
            % {"host": options["host"], "port": options["port"]}
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
