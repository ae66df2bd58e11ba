"""Background work of marketing e-mail; each task calls one service."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.nurture.mail.services import bounces, mailbox, sending, tracking


@retrying_task(max_attempts=3)
def send_marketing_email_task(message_id: int) -> str:
    """Hand one queued marketing mail to SMTP (retries of refused sends are the sweep's)."""
    return sending.deliver(message_id)


@retrying_task(max_attempts=3)
def send_marketing_waiting_task() -> int:
    """Every minute: mails whose task was lost, retries and rate-held mails now due, and
    sends a dead worker abandoned."""
    return sum(sending.send_waiting().values())


@retrying_task(max_attempts=5)
def count_engagement_task(event_id: int) -> bool:
    """Put a counted open or click on the lead's timeline and rescore the lead (queued by
    releases before hits were judged in batches; `process_tracking_hits_task` does it now)."""
    return tracking.count_engagement(event_id)


@retrying_task(max_attempts=3)
def process_tracking_hits_task() -> int:
    """A few seconds after a pixel or click hit, and every minute: judge the waiting hits and
    put the counted opens and clicks on the timeline."""
    return tracking.process_hits()


@retrying_task(max_attempts=3)
def read_bounce_mailbox_task() -> int:
    """Every two minutes: store and read the bounce mailbox's unseen mail (when one is set),
    then read any returned mail a crash left stored but unread."""
    return mailbox.poll_bounce_mailbox() + bounces.read_waiting_reports()
