"""Notification mail in the background."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.notifications import services


@retrying_task(max_attempts=services.MAX_ATTEMPTS, base_seconds=30.0)
def send_email_task(notification_id: int) -> str:
    """Send one notification's e-mail; an unreachable server raises, and the task retries."""
    return services.send_email(notification_id)


@retrying_task(max_attempts=3)
def send_pending_task() -> int:
    """Send what a lost task left, and retry failed mails after their back-off."""
    return services.send_pending()


@retrying_task(max_attempts=3)
def send_digests_task() -> int:
    """The daily e-mail of users who chose the digest."""
    return services.send_digests()
