"""Webhook sending in the background."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.webhooks.services import sending


@retrying_task(max_attempts=3)
def deliver_task(delivery_ids: list[int]) -> int:
    """Try these deliveries now; a failed try schedules its own retry (see sending.SCHEDULE)."""
    return sending.send_many(delivery_ids)


@retrying_task(max_attempts=3)
def send_backlog_task() -> int:
    """After a change that made deliveries: send everything due (queued once, not per change)."""
    return sending.send_backlog()


@retrying_task(max_attempts=3)
def send_due_task() -> int:
    """Every minute: what a lost task left, retries whose wait has passed, abandoned sends."""
    return sending.send_due()


@retrying_task(max_attempts=3)
def prune_log_task() -> int:
    """Daily: forget messages past LEADLOOP_WEBHOOK_LOG_DAYS whose deliveries are all done."""
    return sending.prune_log()
