"""Sending marketing mail: a message is rendered and stored first, then a task hands it to SMTP.

At send time, not only when queued, the lead must still consent (`can_receive_marketing`) and
the address must not be suppressed: a person who unsubscribes after a mail was queued gets
nothing. Per receiving domain at most LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE mails leave a
minute; the rest wait for a later sweep. A temporary refusal (4xx, no connection) is tried again
with back-off; a permanent one (5xx) fails the message and suppresses the address as a hard
bounce. A send is claimed (`sending`) before SMTP is called; a worker that dies there leaves the
claim, and the sweep takes it over after STALE_SENDING and sends it again with the same
Message-ID, so the receiving side sees one mail, not two different ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.core.retry import backoff_delay, enqueue
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind, Lead
from leadloop.leads.selectors import can_receive_marketing
from leadloop.notifications.services import mail_configured, mail_connection
from leadloop.nurture.mail.models import (
    MarketingMessage,
    MarketingTemplate,
    MessageState,
    SuppressionReason,
)
from leadloop.nurture.mail.services import rendering, suppression, templates
from leadloop.nurture.surveys.models import Survey

logger = logging.getLogger(__name__)

SEND_TASK = "leadloop.nurture.mail.tasks.send_marketing_email_task"
MAX_ATTEMPTS = 8
STALE_SENDING = dt.timedelta(minutes=10)
RATE_WINDOW = dt.timedelta(minutes=1)
SWEEP_BATCH = 500


def mail_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


def version_for(template: MarketingTemplate, *, language: str) -> MarketingTemplate:
    """The active row of the template's name in `language` (the lead's), else the one given."""
    if language and language != template.language:
        other = MarketingTemplate.objects.filter(
            name=template.name, language=language.lower(), is_active=True
        ).first()
        if other is not None:
            return other
    return template


@transaction.atomic
def _survey_of(version: MarketingTemplate) -> Survey | None:
    """The active survey the version links to; a Conflict when it uses `{survey_url}` and
    its survey is gone or switched off (a mail with a dead link is not sent)."""
    survey = (
        Survey.objects.filter(pk=version.survey_id, is_active=True).first()
        if version.survey_id is not None
        else None
    )
    if survey is None and "{survey_url}" in version.subject + version.body:
        raise Conflict(_("This template links to a survey that is not active any more."))
    return survey


def may_send_to(lead: Lead) -> bool:
    """Whether marketing mail may go to the lead now: consent, an address, not suppressed."""
    return can_receive_marketing(lead) and not suppression.is_suppressed(lead.email)


# Atomic: it locks the lead (select_for_update needs a transaction on PostgreSQL) and writes
# the message and its timeline entry together.
@transaction.atomic
def send_marketing_email(
    lead: Lead, template: MarketingTemplate, *, by: Actor, at: dt.datetime | None = None
) -> MarketingMessage:
    """Queue a marketing mail to a lead the caller may see (marketing and admins): rendered in
    the lead's language where the template has that version, stored, put on the timeline, and
    sent by a task after the commit. Refused without consent or for a suppressed address."""
    require(by, Permission.MANAGE_NURTURE)
    if not mail_configured():
        raise Conflict(_("No mail server is set up (LEADLOOP_SMTP_HOST)."))
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not can_receive_marketing(locked):
        raise Conflict(
            _("This lead may not receive marketing e-mail (no address, opted out or erased).")
        )
    if suppression.is_suppressed(locked.email):
        raise Conflict(_("This address is on the suppression list."))
    version = version_for(template, language=locked.language)
    if not version.is_active:
        raise Conflict(_("This template is not active."))
    key = secrets.token_urlsafe(12)
    mail = rendering.render_mail(
        subject=version.subject,
        body=version.body,
        language=version.language,
        values=templates.lead_values(locked, survey=_survey_of(version)),
        key=key,
    )
    too_large = rendering.size_errors(mail)
    if too_large:
        raise ValidationFailed(too_large[0], errors={"template_id": too_large})
    now = at or timezone.now()
    to = locked.email.strip()
    message = MarketingMessage.objects.create(
        lead=locked,
        template=version,
        queued_by=by if isinstance(by, User) else None,
        key=key,
        to=to,
        domain=mail_domain(to),
        language=version.language,
        subject=mail.subject,
        html=mail.html,
        text=mail.text,
        links=mail.links,
        message_id=make_msgid("nurture", domain=_id_domain()),
        created_at=now,
        changed_at=now,
        next_attempt_at=now,
    )
    lead_services.record_activity(
        locked,
        kind=ActivityKind.EMAIL,
        by=by,
        message=mail.subject,
        data={"marketing_message_id": message.pk, "template": version.name, "to": to},
        at=now,
    )
    transaction.on_commit(lambda: _queue(message.pk))
    return message


def _id_domain() -> str:
    """The host part of Message-IDs: the sender's domain, so they look like its own mail."""
    sender = settings.LEADLOOP_MARKETING_FROM
    domain = sender.rpartition("@")[2].strip(" >").lower()
    return domain or "leadloop"


def _queue(message_id: int) -> None:
    try:
        enqueue(SEND_TASK, message_id=message_id)
    except Exception:
        logger.exception("could not queue marketing mail id=%d; the sweep sends it", message_id)


def _email(message: MarketingMessage) -> EmailMultiAlternatives:
    unsubscribe = rendering.unsubscribe_url(message.key)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.LEADLOOP_MARKETING_FROM,
        to=[message.to],
        headers={
            "Message-ID": message.message_id,
            # RFC 8058: mail clients show an unsubscribe button that POSTs to this address.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(message.html, "text/html")
    return email


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [int(code) for code, _text in exc.recipients.values()]
        return max(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return int(exc.smtp_code)
    return None


def _end(message_id: int, state: str, **fields: Any) -> None:
    MarketingMessage.objects.filter(pk=message_id).update(
        state=state, changed_at=timezone.now(), **fields
    )


def _throttled(message: MarketingMessage, now: dt.datetime) -> dt.datetime | None:
    """When the message's domain has room again, or None when it has room now."""
    recent = MarketingMessage.objects.filter(
        domain=message.domain, claimed_at__gt=now - RATE_WINDOW
    ).aggregate(count=Count("id"), oldest=Min("claimed_at"))
    if recent["count"] < settings.LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE:
        return None
    oldest: dt.datetime = recent["oldest"]
    return oldest + RATE_WINDOW


def claim(message_id: int, *, now: dt.datetime) -> bool:
    """Mark a due message `sending` (one worker wins); the attempt is counted."""
    return bool(
        MarketingMessage.objects.filter(
            pk=message_id, state=MessageState.PENDING, next_attempt_at__lte=now
        ).update(
            state=MessageState.SENDING,
            attempts=F("attempts") + 1,
            claimed_at=now,
            changed_at=now,
        )
    )


def deliver(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one stored message if it is due and still allowed; the state it ends in ("pending"
    when its domain's rate or a back-off holds it back). Safe to run twice."""
    now = now or timezone.now()
    message = MarketingMessage.objects.select_related("lead").filter(pk=message_id).first()
    if message is None or message.state != MessageState.PENDING or message.next_attempt_at > now:
        return "not due"
    if not can_receive_marketing(message.lead):
        _end(message_id, MessageState.SKIPPED, error="no consent at send time")
        return MessageState.SKIPPED
    if suppression.is_suppressed(message.to):
        _end(message_id, MessageState.SKIPPED, error="suppressed at send time")
        return MessageState.SKIPPED
    room_at = _throttled(message, now)
    if room_at is not None:
        MarketingMessage.objects.filter(pk=message_id, state=MessageState.PENDING).update(
            next_attempt_at=room_at
        )
        return MessageState.PENDING
    if not claim(message_id, now=now):
        return "not due"
    message.refresh_from_db()
    try:
        with mail_connection() as connection:
            connection.send_messages([_email(message)])
    except (OSError, smtplib.SMTPException) as exc:
        return _failed(message, exc)
    _end(message_id, MessageState.SENT, error="", sent_at=timezone.now())
    return MessageState.SENT


def _failed(message: MarketingMessage, exc: Exception) -> str:
    code = _smtp_code(exc)
    error = f"{type(exc).__name__}: {exc}"[:300]
    if code is not None and 500 <= code < 600:
        _end(message.pk, MessageState.FAILED, error=error)
        if not isinstance(exc, smtplib.SMTPSenderRefused):
            suppression.suppress(
                message.to,
                reason=SuppressionReason.HARD_BOUNCE,
                note=f"SMTP {code}",
                message=message,
            )
        logger.warning("marketing mail refused id=%d code=%s", message.pk, code)
        return MessageState.FAILED
    if message.attempts >= MAX_ATTEMPTS:
        _end(message.pk, MessageState.FAILED, error=error)
        return MessageState.FAILED
    wait = backoff_delay(message.attempts, base_seconds=60.0, max_seconds=3600.0)
    _end(
        message.pk,
        MessageState.PENDING,
        error=error,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=wait),
    )
    logger.info("marketing mail deferred id=%d code=%s wait_s=%.0f", message.pk, code, wait)
    return MessageState.PENDING


def send_waiting(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The sweep: messages whose task was lost, retries and rate-held mails that are due, and
    sends a dead worker left `sending` (sent again with the same Message-ID)."""
    now = now or timezone.now()
    taken_over = MarketingMessage.objects.filter(
        state=MessageState.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(state=MessageState.PENDING, next_attempt_at=now, changed_at=now)
    due = list(
        MarketingMessage.objects.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    counts = {"taken_over": taken_over, "sent": 0, "waiting": 0, "failed": 0, "skipped": 0}
    for message_id in due:
        state = deliver(message_id, now=now)
        if state == MessageState.SENT:
            counts["sent"] += 1
        elif state == MessageState.PENDING:
            counts["waiting"] += 1
        elif state == MessageState.FAILED:
            counts["failed"] += 1
        elif state == MessageState.SKIPPED:
            counts["skipped"] += 1
    return counts


def send_test_mail(address: str) -> str:
    """Send a test mail with the configured SMTP settings (`leadloop mail test`); Conflict with
    the server's answer when it is not set up or refuses."""
    if not mail_configured():
        raise Conflict(_("No mail server is set up: set LEADLOOP_SMTP_HOST (and its port)."))
    to = address.strip()
    if "@" not in to:
        raise ValidationFailed(_("Not an e-mail address."), errors={"address": [to]})
    email = EmailMultiAlternatives(
        subject=_("Leadloop test mail"),
        body=_("This is a test mail from Leadloop: the mail settings work."),
        from_email=settings.LEADLOOP_MARKETING_FROM,
        to=[to],
        headers={"Message-ID": make_msgid("test", domain=_id_domain())},
    )
    smtp = settings.LEADLOOP_SMTP
    try:
        with mail_connection() as connection:
            connection.send_messages([email])
    except (OSError, smtplib.SMTPException) as exc:
        raise Conflict(
            _("The mail server %(host)s:%(port)s refused: %(error)s")
            % {"host": smtp["host"], "port": smtp["port"], "error": exc}
        ) from exc
    return str(email.extra_headers["Message-ID"])
