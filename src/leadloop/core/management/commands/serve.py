from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import connection

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
        sqlite = connection.vendor == "sqlite"
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
        worker_cmd = [sys.executable, "-m", "leadloop.cli", "worker"]
        use_worker = not options["no_worker"] and settings.TASKS_BACKEND in ("db", "rq")
        web = subprocess.Popen(granian)
        worker = subprocess.Popen(worker_cmd) if use_worker else None
        self.stdout.write(
            f"Leadloop is serving on http://{options['host']}:{options['port']}/ "
            f"({options['workers']} web worker(s){', 1 task worker' if use_worker else ''})."
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True
            for child in (web, worker):
                if child is not None and child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        restarts = 0
        try:
            while not stopping and web.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    web.wait(timeout=1)
                if worker is not None and worker.poll() is not None and not stopping:
                    # A dead worker must not take the web app down with it: restart it, waiting
                    # longer after each crash so a worker that cannot start does not spin.
                    restarts += 1
                    delay = min(2**restarts, 60)
                    self.stderr.write(
                        f"The task worker exited ({worker.returncode}); restarting in {delay} s."
                    )
                    time.sleep(delay)
                    if not stopping:
                        worker = subprocess.Popen(worker_cmd)
        finally:
            stop(signal.SIGTERM, None)
            for child in (web, worker):
                if child is None:
                    continue
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
