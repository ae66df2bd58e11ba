from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import close_old_connections

from leadloop.core import services
from leadloop.core.commands import LeadloopCommand

logger = logging.getLogger("leadloop.worker")

LEASE_TTL = timedelta(seconds=60)
TICK_SECONDS = 15.0
# RQ's own Job class cannot run a django_tasks Task; the backend ships the one that can.
RQ_JOB_CLASS = "django_tasks_rq.backend.Job"
# RQ's worker, stopping within a second instead of a minute (core/rq_worker.py).
RQ_WORKER_CLASS = "leadloop.core.rq_worker.Worker"
# How long a worker that lost Redis waits before it starts RQ's worker again: doubling, capped.
REDIS_RETRY_FIRST = 1.0
REDIS_RETRY_MAX = 30.0


class Scheduler(threading.Thread):
    """Holds the deployment's single scheduler lease and enqueues due periodic jobs.

    Every worker runs one; only the lease holder enqueues, so there is exactly one scheduler
    however many workers run. When the holder dies, its lease lapses within a minute and another
    worker takes over.
    """

    def __init__(self, holder: str, tick: float = TICK_SECONDS) -> None:
        super().__init__(name="leadloop-scheduler", daemon=True)
        self.holder = holder
        self.tick = tick
        self.stopped = threading.Event()

    def run_once(self) -> list[str]:
        if not services.acquire_lease(services.SCHEDULER_LEASE, holder=self.holder, ttl=LEASE_TTL):
            return []
        return services.enqueue_due_jobs()

    def run(self) -> None:
        while not self.stopped.is_set():
            close_old_connections()
            try:
                self.run_once()
            except Exception:
                logger.exception("scheduler round failed")
            self.stopped.wait(self.tick)
        services.release_lease(services.SCHEDULER_LEASE, holder=self.holder)


class Command(LeadloopCommand):
    help = "Run queued background tasks and the periodic schedule (one scheduler per deployment)."
    requires_system_checks = "__all__"  # a long-running process checks its setup first

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--once", action="store_true", help="Run due jobs and every ready task, then exit."
        )
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument("--no-scheduler", action="store_true", help="Only run tasks.")

    def handle(self, *args: Any, **options: Any) -> None:
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        scheduler = Scheduler(holder)
        backend = str(settings.TASKS["default"]["BACKEND"])
        if options["once"]:
            enqueued = [] if options["no_scheduler"] else scheduler.run_once()
            services.release_lease(services.SCHEDULER_LEASE, holder=holder)
            if backend.startswith("django_tasks_db"):
                call_command("db_worker", batch=True, interval=0, verbosity=0)
            elif backend.startswith("django_tasks_rq"):
                call_command(
                    "rqworker",
                    "default",
                    burst=True,
                    job_class=RQ_JOB_CLASS,
                    worker_class=RQ_WORKER_CLASS,
                )
            self.emit(options, {"enqueued": enqueued}, f"Enqueued: {', '.join(enqueued) or 'none'}")
            return
        if not options["no_scheduler"]:
            scheduler.start()
        self.stdout.write(f"Worker {holder} running tasks ({backend}); Ctrl+C stops it.")
        try:
            if backend.startswith("django_tasks_rq"):
                run_rq_until_stopped()
            else:
                call_command(
                    "db_worker",
                    interval=options["interval"],
                    worker_id=holder[:64],
                    startup_delay=True,
                )
        finally:
            scheduler.stopped.set()
            if scheduler.is_alive():
                scheduler.join(timeout=5)


def run_rq_until_stopped() -> None:
    """Run RQ's worker, and start it again while Redis is away instead of exiting.

    RQ retries a lost connection only while it waits for a job; a Redis that goes away while it
    registers, beats its heartbeat or records a job's end makes `rqworker` exit 1 (seen in the
    fault drill: both workers gone after a Redis restart). A deployment without a supervisor
    would then run no tasks at all. SIGTERM or Ctrl+C while it waits stops it, exit 0.
    """
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    delay = REDIS_RETRY_FIRST
    while True:
        began = time.monotonic()
        try:
            call_command(
                "rqworker",
                "default",
                with_scheduler=True,
                job_class=RQ_JOB_CLASS,
                worker_class=RQ_WORKER_CLASS,
            )
            return
        except SystemExit as stop:
            if stop.code in (0, None):
                return
            logger.warning("RQ worker exited code=%s (Redis unavailable?)", stop.code)
        except (RedisConnectionError, RedisTimeoutError) as error:
            logger.warning("RQ worker lost Redis: %s", error)
        if time.monotonic() - began > REDIS_RETRY_MAX:
            delay = REDIS_RETRY_FIRST  # it ran a while: Redis went away now, not still
        logger.warning("waiting for Redis, next try in %.0f s", delay)
        if _stopped_while_waiting(delay):
            return
        delay = min(delay * 2, REDIS_RETRY_MAX)


def _stopped_while_waiting(seconds: float) -> bool:
    """Wait `seconds`; True when SIGTERM or SIGINT came meanwhile (RQ's own handlers, which
    would ask the lost Redis for the worker's state, are replaced for the wait)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return stop.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
