"""Background work of the intake; each task loads by id and calls one service."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.intake import services
from leadloop.intake.channels.feeds import ingest as feed_ingest
from leadloop.intake.channels.ftp import ingest as ftp_ingest


@retrying_task(max_attempts=6)
def process_submission_task(submission_id: int) -> str:
    """Process one stored submission (safe to run twice)."""
    return services.process_submission(submission_id).state


@retrying_task(max_attempts=3)
def process_orphans_task() -> int:
    """Finish submissions that a crash left `received`."""
    return services.process_orphans()


@retrying_task(max_attempts=3)
def poll_feeds_task() -> int:
    """Poll every RSS source; returns how many new entries were taken in."""
    return sum(poll.new for poll in feed_ingest.poll_all_feeds())


@retrying_task(max_attempts=3)
def poll_imap_sources_task() -> int:
    """Store the unseen mails of every source's IMAP mailbox; returns how many."""
    from leadloop.intake.channels.email import ingest as email_ingest

    return email_ingest.poll_imap_sources()


@retrying_task(max_attempts=3)
def poll_ftp_task() -> int:
    """Poll every FTP drop folder; returns how many files were taken in."""
    return sum(len(poll.files) for poll in ftp_ingest.poll_all_ftp())


@retrying_task(max_attempts=3)
def import_file_task(batch_id: int) -> str:
    """Import an uploaded, stored batch (safe to run twice); returns its state."""
    from leadloop.intake.imports import services as import_batches

    return import_batches.run_batch(batch_id).state
