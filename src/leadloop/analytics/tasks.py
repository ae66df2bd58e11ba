"""Background work of analytics; each task calls one service."""

from __future__ import annotations

from leadloop.analytics.services import alerts, facts, weekly
from leadloop.core.retry import retrying_task


@retrying_task(max_attempts=3)
def refresh_facts_task() -> int:
    """Every minute: the facts of the leads changed since the last run."""
    return facts.refresh().leads


@retrying_task(max_attempts=3)
def evaluate_alerts_task() -> int:
    """Every quarter of an hour: the alert rules, telling owners what breached or recovered."""
    counts = alerts.evaluate()
    return counts["breached"] + counts["recovered"]


@retrying_task(max_attempts=2)
def send_weekly_reports_task() -> int:
    """Every hour: the weekly report e-mails that fell due (Monday from 07:00), once each."""
    return weekly.send_due()["sent"]
