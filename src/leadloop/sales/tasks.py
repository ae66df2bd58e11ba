"""Background work of sales follow-up; each task calls one service."""

from __future__ import annotations

import datetime as dt

from leadloop.core.retry import retrying_task
from leadloop.sales.services import clocks, contact, quotes, steps, sweep, tally


@retrying_task(max_attempts=5)
def follow_clocks_task(lead_ids: list[int], starts: dict[str, str] | None = None) -> int:
    """After lead events: start, settle, stop or move these leads' first-contact clocks, and
    cancel the open tasks of those that closed and settle their current quotes."""
    changed = clocks.follow(
        lead_ids,
        starts={int(k): dt.datetime.fromisoformat(v) for k, v in (starts or {}).items()},
    )
    return sum(changed.values()) + steps.tidy(lead_ids) + quotes.settle_closed(lead_ids)


@retrying_task(max_attempts=3)
def check_clocks_task() -> int:
    """Every minute: reminders and breaches that are due, and clocks whose task was lost."""
    return sum(sweep.check().values())


@retrying_task(max_attempts=8)
def send_email_task(email_id: int) -> str:
    """Hand one e-mail a rep wrote to SMTP; a refused send is retried with back-off."""
    return contact.deliver(email_id)


@retrying_task(max_attempts=3)
def send_emails_task() -> int:
    """Every minute: e-mails whose task was lost, retries that are due, abandoned sends."""
    return contact.send_waiting()


@retrying_task(max_attempts=3)
def fold_pipeline_task() -> int:
    """Every minute: add up the rows the database wrote to the whole floor's pipeline totals."""
    return tally.fold()
