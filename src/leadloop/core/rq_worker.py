"""The RQ worker `leadloop worker` runs on Redis: RQ's own, stopping within a second.

RQ's worker listens for commands (shutdown, stop a job) on a pub/sub channel in a thread that
waits up to 60 s for a message. redis-py 8 joins that thread when it is stopped, so a worker
told to stop (`--once` when the queue is empty, SIGTERM, a deploy) waited up to a minute: the
stop could miss its wake-up (the reply to its unsubscribe is read and ignored before the
thread's running flag is cleared). Here the thread wakes every second to look at its flag.
"""

from __future__ import annotations

from rq.worker import Worker as RQWorker

COMMAND_POLL_SECONDS = 1.0


class Worker(RQWorker):
    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=COMMAND_POLL_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )
