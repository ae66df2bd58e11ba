from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from leadloop.core.commands import LeadloopCommand

# A child that ran this long before it died starts again at once; one that keeps dying waits
# 1, 2, 4 … up to MAX_BACKOFF seconds between attempts.
STABLE_AFTER = 60.0
MAX_BACKOFF = 60.0
# granian stops its workers gracefully on SIGTERM; after this it kills them, and serve kills
# whatever is left a few seconds later.
WORKERS_KILL_TIMEOUT = 10
TICK = 0.25


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child before exec: a SIGTERM when `leadloop serve` dies, even by SIGKILL (Linux)."""
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One supervised process, in a process group of its own (its workers included).

    The group is what lets serve clean up after a crash: a granian main process killed with -9
    leaves its workers running, still holding the port a new granian needs.
    """

    def __init__(self, name: str, command: list[str], log: Any) -> None:
        self.name = name
        self.command = command
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.failures = 0
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, process_group=0, preexec_fn=_stop_with_parent)
        self.started_at = time.monotonic()
        self.restart_at = None

    def watch(self, now: float) -> None:
        """Restart the child when it died: its group is cleared first, then it waits its turn."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self._signal_group(signal.SIGKILL)
                self.start()
            return
        if self.process is None or self.process.poll() is None:
            return
        ran = now - self.started_at
        self.failures = 1 if ran >= STABLE_AFTER else self.failures + 1
        delay = min(2.0 ** (self.failures - 1), MAX_BACKOFF)
        self.log(
            f"The {self.name} exited ({self.process.returncode}) after {ran:.0f} s; "
            f"restarting in {delay:g} s."
        )
        self._signal_group(signal.SIGTERM)
        self.restart_at = now + delay

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, deadline: float) -> None:
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=max(deadline - time.monotonic(), 0))
            self._signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)

    def _signal_group(self, signum: int) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signum)


class Command(LeadloopCommand):
    help = "Serve Leadloop with granian (WSGI) and a task worker, restarting either when it dies."
    requires_system_checks = "__all__"  # a long-running process checks its setup first

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
        # Django runs on LEADLOOP_WEB_THREADS threads per worker (1 on SQLite); the others
        # read request bodies, however slowly they come (core/wsgi_guard.py).
        threads = settings.LEADLOOP_WEB_THREADS + settings.LEADLOOP_BODY_READERS
        header_timeout_ms = round(settings.LEADLOOP_HEADER_READ_TIMEOUT * 1000)
        granian = [
            sys.executable, "-m", "granian",
            "--interface", "wsgi",
            # HTTP/1.1 only: an h2c body without a length would pass the body guard unread and
            # reach Django empty. TLS and HTTP/2 to browsers are the reverse proxy's job.
            "--http", "1",
            "--host", options["host"],
            "--port", str(options["port"]),
            "--workers", str(options["workers"]),
            "--blocking-threads", str(threads),
            "--no-ws",
            # One crashed worker is replaced; the others go on serving meanwhile.
            "--respawn-failed-workers",
            "--respawn-interval", "1",
            "--workers-kill-timeout", str(WORKERS_KILL_TIMEOUT),
            # Headers must arrive, and an idle keep-alive connection is closed, within this.
            "--http1-header-read-timeout", str(min(max(header_timeout_ms, 1), 60_000)),
            "leadloop.wsgi:application",
        ]  # fmt: skip
        use_worker = not options["no_worker"] and settings.TASKS_BACKEND in ("db", "rq")
        log = self.stderr.write
        children = [Child("web server", granian, log)]
        if use_worker:
            children.append(
                Child("task worker", [sys.executable, "-m", "leadloop.cli", "worker"], log)
            )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        for child in children:
            child.start()
        self.stdout.write(
            f"Leadloop is serving on http://{options['host']}:{options['port']}/ "
            f"({options['workers']} web worker(s){', 1 task worker' if use_worker else ''})."
        )
        try:
            while not stopping:
                now = time.monotonic()
                for child in children:
                    child.watch(now)
                time.sleep(TICK)
        finally:
            for child in children:
                child.stop()
            deadline = time.monotonic() + WORKERS_KILL_TIMEOUT + 5
            for child in children:
                child.wait(deadline)
