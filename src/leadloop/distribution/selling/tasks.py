"""The lead market in the background: sales a dead worker left half-way, and the log's age."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.distribution.selling.services import auction, batches, delivery, recovery


@retrying_task(max_attempts=3)
def recover_sales_task() -> int:
    """Send again (same key) the sales left `delivering`, and close their auctions."""
    return recovery.recover()


@retrying_task(max_attempts=3)
def prune_delivery_log_task() -> int:
    """Delivery log entries older than 90 days go."""
    return delivery.prune_log()


@retrying_task(max_attempts=3)
def send_buyer_batches_task() -> int:
    """Yesterday's CSV to each buyer with an SFTP server that has not had it."""
    return batches.send_due(by=auction.SELLING)
