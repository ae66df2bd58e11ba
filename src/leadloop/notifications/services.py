"""Telling users: a notification in the app, in the user's language, and an e-mail as they
chose (at once, in a daily digest, or not).

A notification is written in the caller's transaction, so it exists exactly when what it tells
about happened (a lead routed, a pool waiting too long). Its e-mail is sent by a task queued
after the commit; a sweep every minute sends what a lost task left, and retries a failed send
with back-off. A send takes the row first (pending → sending), so two workers never send the
same mail; a worker that dies mid-send leaves it `sending`, and after ten minutes it is sent
again with the same Message-ID, so a mail client shows a duplicate once at most.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.models import User
from leadloop.core.expressions import indexed
from leadloop.core.retry import backoff_delay, enqueue
from leadloop.errors import ValidationFailed
from leadloop.notifications.models import EmailChoice, EmailState, Notification, Preference

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
STALE_SENDING = dt.timedelta(minutes=10)
FIRST_GRACE = dt.timedelta(minutes=1)
RETRY_BASE_SECONDS, RETRY_MAX_SECONDS = 30.0, 3600.0
DIGEST_EVERY = dt.timedelta(hours=24)
SEND_TASK = "leadloop.notifications.tasks.send_email_task"


class MailFailed(Exception):
    """The SMTP server could not take the mail now; the task retries with back-off."""


def mail_configured() -> bool:
    return bool(settings.LEADLOOP_SMTP.get("host"))


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


@dataclass(frozen=True)
class Tell:
    """One message for `notify_each`: the arguments of `notify`."""

    users: Sequence[User]
    kind: str
    title: str
    body: str = ""
    params: Mapping[str, Any] | None = None
    url: str = ""
    lead_id: int | None = None


def notify(
    users: Iterable[User],
    *,
    kind: str,
    title: str,
    body: str = "",
    params: Mapping[str, Any] | None = None,
    url: str = "",
    lead_id: int | None = None,
) -> list[Notification]:
    """Tell each active user: `title` and `body` are message ids (marked with gettext_noop),
    translated into each user's language and filled with `params`. Users read with
    `select_related("notification_preference")` cost no query for their e-mail choice."""
    return notify_each([Tell(list(users), kind, title, body, params, url, lead_id)])


def notify_each(messages: Iterable[Tell]) -> list[Notification]:
    """`notify` for many messages at once: one read of the e-mail choices and one insert for
    all of them (the first-contact sweep tells a minute's reminders this way)."""
    wanted = [
        (message, [user for user in dict.fromkeys(message.users) if user.is_active])
        for message in messages
    ]
    everyone = {user.pk: user for _message, users in wanted for user in users}
    if not everyone:
        return []
    choices = _email_choices(list(everyone.values()))
    now = timezone.now()
    default_language = get_defaults().language
    sends_mail = mail_configured()
    rows = []
    for message, users in wanted:
        for user in users:
            with translation.override(user.language or default_language):
                text_title = _(message.title) % (message.params or {})
                text_body = _(message.body) % (message.params or {}) if message.body else ""
            choice = choices.get(user.pk, EmailChoice.IMMEDIATE)
            if not sends_mail or not user.email or choice == EmailChoice.NONE:
                state = EmailState.SKIPPED
            elif choice == EmailChoice.DIGEST:
                state = EmailState.DIGEST
            else:
                state = EmailState.PENDING
            rows.append(
                Notification(
                    user=user,
                    kind=message.kind,
                    title=_one_line(text_title, 300),
                    body=text_body,
                    url=message.url if message.url.startswith("/") else "",
                    lead_id=message.lead_id,
                    created_at=now,
                    email_state=state,
                    email_changed_at=now,
                )
            )
    made = Notification.objects.bulk_create(rows)
    for row in made:
        if row.email_state == EmailState.PENDING and row.pk is not None:
            transaction.on_commit(_queue(row.pk))
    return made


def _email_choices(users: list[User]) -> dict[int, str]:
    cached = User.notification_preference.related  # type: ignore[attr-defined]
    choices: dict[int, str] = {}
    unknown = []
    for user in users:
        if cached.is_cached(user):
            preference = cast(Preference | None, cached.get_cached_value(user))
            if preference is not None:
                choices[user.pk] = preference.email
        else:
            unknown.append(user.pk)
    if unknown:
        choices.update(
            Preference.objects.filter(user_id__in=unknown).values_list("user_id", "email")
        )
    return choices


def _queue(notification_id: int) -> Any:
    def run() -> None:
        try:
            enqueue(SEND_TASK, notification_id=notification_id)
        except Exception:
            # The sweep sends it within a minute or two.
            logger.exception("could not queue a notification mail id=%d", notification_id)

    return run


def mail_connection() -> Any:
    smtp = settings.LEADLOOP_SMTP
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=smtp["host"],
        port=smtp["port"],
        username=smtp["username"] or None,
        password=smtp["password"] or None,
        use_tls=smtp["security"] == "starttls",
        use_ssl=smtp["security"] == "ssl",
        timeout=smtp["timeout"],
        fail_silently=False,
    )


def _message(notification: Notification) -> EmailMessage:
    user = notification.user
    with translation.override(user.language or get_defaults().language):
        lines = [notification.title]
        if notification.body:
            lines += ["", notification.body]
        if notification.url:
            lines += [
                "",
                _("Open in Leadloop: %(url)s")
                % {"url": settings.LEADLOOP_BASE_URL + notification.url},
            ]
        lines += ["", _("You get these e-mails at once; change that under Notifications.")]
    return EmailMessage(
        subject=notification.title,
        body="\n".join(lines),
        from_email=settings.LEADLOOP_MAIL_FROM,
        to=[user.email],
        headers={"Message-ID": f"<leadloop-notification-{notification.pk}@leadloop>"},
    )


def send_email(notification_id: int) -> str:
    """Send one notification's e-mail if it is still waiting; the state it ends in."""
    now = timezone.now()
    taken = Notification.objects.filter(pk=notification_id, email_state=EmailState.PENDING).update(
        email_state=EmailState.SENDING, email_attempts=F("email_attempts") + 1, email_changed_at=now
    )
    if not taken:
        return "not pending"
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        with mail_connection() as connection:
            connection.send_messages([_message(notification)])
    except (OSError, smtplib.SMTPException) as exc:
        failed = notification.email_attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification_id).update(
            email_state=EmailState.FAILED if failed else EmailState.PENDING,
            email_error=_one_line(f"{type(exc).__name__}: {exc}", 300),
            email_changed_at=timezone.now(),
        )
        if failed:
            logger.error("notification mail failed for good id=%d", notification_id)
            return EmailState.FAILED
        raise MailFailed(str(exc)) from exc
    Notification.objects.filter(pk=notification_id).update(
        email_state=EmailState.SENT, email_error="", email_changed_at=timezone.now()
    )
    return EmailState.SENT


def _due(notification: Notification, now: dt.datetime) -> bool:
    changed = notification.email_changed_at or notification.created_at
    if notification.email_state == EmailState.SENDING:
        return changed < now - STALE_SENDING
    if notification.email_attempts == 0:
        return changed < now - FIRST_GRACE
    wait = backoff_delay(
        notification.email_attempts, base_seconds=RETRY_BASE_SECONDS, max_seconds=RETRY_MAX_SECONDS
    )
    return changed < now - dt.timedelta(seconds=wait)


def send_pending(*, at: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the mails a lost task left and retry failed ones once their back-off has passed;
    a send that a worker abandoned ten minutes ago is taken back. Returns how many were sent."""
    if not mail_configured():
        return 0
    now = at or timezone.now()
    waiting = list(
        Notification.objects.filter(
            indexed(Notification, "notification_mail_due"),
            email_state__in=[EmailState.PENDING, EmailState.SENDING],
        ).order_by("email_changed_at")[:limit]
    )
    sent = 0
    for notification in waiting:
        if not _due(notification, now):
            continue
        if notification.email_state == EmailState.SENDING:
            Notification.objects.filter(pk=notification.pk, email_state=EmailState.SENDING).update(
                email_state=EmailState.PENDING
            )
        try:
            sent += send_email(notification.pk) == EmailState.SENT
        except MailFailed:
            # The server is down: the next sweep tries again after the back-off.
            break
    return sent


def send_digests(*, at: dt.datetime | None = None) -> int:
    """One e-mail a day to each user who chose the digest, listing what came since the last."""
    if not mail_configured():
        return 0
    now = at or timezone.now()
    due_users = (
        Notification.objects.filter(email_state=EmailState.DIGEST)
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user in User.objects.filter(pk__in=list(due_users), is_active=True):
        preference, _created = Preference.objects.get_or_create(user=user)
        if preference.digest_sent_at and preference.digest_sent_at > now - DIGEST_EVERY:
            continue
        items = list(
            Notification.objects.filter(user=user, email_state=EmailState.DIGEST).order_by(
                "created_at", "id"
            )[:200]
        )
        with translation.override(user.language or get_defaults().language):
            subject = _("Leadloop: %(n)d notifications") % {"n": len(items)}
            body = "\n".join(
                f"- {item.title}"
                + (f"\n  {settings.LEADLOOP_BASE_URL}{item.url}" if item.url else "")
                for item in items
            )
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.LEADLOOP_MAIL_FROM,
            to=[user.email],
            headers={"Message-ID": f"<leadloop-digest-{user.pk}-{now:%Y%m%d%H}@leadloop>"},
        )
        try:
            with mail_connection() as connection:
                connection.send_messages([message])
        except (OSError, smtplib.SMTPException) as exc:
            raise MailFailed(str(exc)) from exc
        Notification.objects.filter(pk__in=[item.pk for item in items]).update(
            email_state=EmailState.SENT, email_changed_at=now
        )
        preference.digest_sent_at = now
        preference.save(update_fields=["digest_sent_at"])
        sent += 1
    return sent


def mark_read(actor: User, *, ids: list[int] | None = None) -> int:
    """Mark `actor`'s notifications read: the ones in `ids`, or all."""
    mine = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        mine = mine.filter(pk__in=[i for i in ids if 0 < i < 2**63])
    return mine.update(read_at=timezone.now())


def set_email_choice(actor: User, *, email: str) -> Preference:
    if email not in EmailChoice.values:
        raise ValidationFailed(
            _("Choose at once, daily or not by e-mail."), errors={"email": [_("Not a choice.")]}
        )
    preference, _created = Preference.objects.update_or_create(
        user=actor, defaults={"email": email}
    )
    if email != EmailChoice.DIGEST:
        # What waited for the digest is not mailed once the user chose otherwise.
        Notification.objects.filter(user=actor, email_state=EmailState.DIGEST).update(
            email_state=EmailState.SKIPPED
        )
    return preference
