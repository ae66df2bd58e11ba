from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = "Serve Leadloop with granian (WSGI) and a task worker in the same process group."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--host", default=os.environ.get("LEADLOOP_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("LEADLOOP_PORT", 8000)))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("LEADLOOP_WEB_WORKERS", os.cpu_count() or 1)),
            help="Web worker processes (default: one per core).",
        )
        parser.add_argument("--no-worker", action="store_true", help="Do not start a task worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        # SQLite allows one writer at a time: one blocking thread per process keeps writes in a
        # queue instead of piling up lock waits. PostgreSQL gets a few threads per process.
        threads = "1" if sqlite else os.environ.get("LEADLOOP_WEB_THREADS", "4")
        granian = [
            sys.executable, "-m", "granian",
            "--interface", "wsgi",
            "--host", options["host"],
            "--port", str(options["port"]),
            "--workers", str(options["workers"]),
            "--blocking-threads", threads,
            "--no-ws",
            "leadloop.wsgi:application",
        ]  # fmt: skip
        children: list[subprocess.Popen[bytes]] = []
        use_worker = not options["no_worker"] and settings.TASKS_BACKEND in ("db", "rq")
        if use_worker:
            children.append(subprocess.Popen([sys.executable, "-m", "leadloop.cli", "worker"]))
        children.append(subprocess.Popen(granian))
        self.stdout.write(
            f"Leadloop is serving on http://{options['host']}:{options['port']}/ "
            f"({options['workers']} web worker(s){', 1 task worker' if use_worker else ''})."
        )

        def stop(signum: int, frame: Any) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                try:
                    children[-1].wait(timeout=1)
                except subprocess.TimeoutExpired:
                    continue
        finally:
            stop(signal.SIGTERM, None)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
