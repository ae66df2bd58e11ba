"""The RQ worker `leadloop worker` runs on Redis: one process that runs each job itself.

RQ's default worker forks a child per job. A forked child of a Django process opens its own
database connection and repeats RQ's per-job set-up: 42 ms a trivial job against 15.5 ms
without the fork on the 2-core machine (docs/benchmarks.md, "RQ worker: fork or not").
Leadloop's tasks are short and safe to run twice, so the worker runs them in its own process,
as the database backend's worker does, and keeps its database connection between jobs the way
a web process keeps it between requests: checked before each job, and closed after a job that
failed (a job stopped by its time-out can leave the connection mid-query).

RQ's worker listens for commands (shutdown, stop a job) on a pub/sub channel in a thread that
waits up to 60 s for a message. redis-py 8 joins that thread when it is stopped, so a worker
told to stop (`--once` when the queue is empty, SIGTERM, a deploy) waited up to a minute: the
stop could miss its wake-up (the reply to its unsubscribe is read and ignored before the
thread's running flag is cleared). Here the thread wakes every second to look at its flag.
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections, connections
from rq.worker import SimpleWorker

COMMAND_POLL_SECONDS = 1.0


class Worker(SimpleWorker):
    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=COMMAND_POLL_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )

    def perform_job(self, job: Any, queue: Any, execution: Any) -> bool:
        close_old_connections()
        done = False
        try:
            done = super().perform_job(job, queue, execution)
        finally:
            if done:
                close_old_connections()
            else:
                connections.close_all()
        return done
