"""Contact with a lead, logged: calls with their outcome, meetings, notes, and e-mails sent from
Leadloop through SMTP and copied to the timeline.

Reaching the person (a call answered, a call-back agreed, a meeting, an e-mail sent) moves an
assigned lead to `contacted` and settles the first-contact clock in the same transaction; a call
that reached nobody is logged and the clock keeps running.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.core.expressions import indexed
from leadloop.core.retry import backoff_delay, enqueue
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.notifications.services import mail_configured, mail_connection
from leadloop.sales.models import EmailTemplate, OutgoingEmail, TaskKind
from leadloop.sales.services import clocks, steps

logger = logging.getLogger(__name__)

SEND_TASK = "leadloop.sales.tasks.send_email_task"
MAX_ATTEMPTS = 8
STALE_SENDING = dt.timedelta(minutes=10)
MAX_NOTE = 5000
MAX_DURATION = 8 * 3600


class CallOutcome(models.TextChoices):
    REACHED = "reached", pgettext_lazy("call", "Reached")
    NO_ANSWER = "no_answer", pgettext_lazy("call", "No answer")
    VOICEMAIL = "voicemail", pgettext_lazy("call", "Voicemail")
    WRONG_NUMBER = "wrong_number", pgettext_lazy("call", "Wrong number")
    CALLBACK = "callback", pgettext_lazy("call", "Call back at")


REACHED = frozenset({CallOutcome.REACHED, CallOutcome.CALLBACK})


@transaction.atomic
def log_call(
    lead: Lead,
    *,
    by: Actor,
    outcome: str,
    duration_seconds: int | None = None,
    note: str = "",
    callback_at: dt.datetime | None = None,
) -> Activity:
    """Log a call on a lead the caller may see. "Call back at" plans that call as a task."""
    if outcome not in CallOutcome.values:
        raise ValidationFailed(
            _("Choose how the call went."), errors={"outcome": [_("Not a call outcome.")]}
        )
    if duration_seconds is not None and not 0 <= duration_seconds <= MAX_DURATION:
        raise ValidationFailed(
            _("Some fields are not valid."),
            errors={"duration_seconds": [_("Between 0 and 8 hours.")]},
        )
    if outcome == CallOutcome.CALLBACK and callback_at is None:
        raise ValidationFailed(
            _("Say when to call back."), errors={"callback_at": [_("Required for a call-back.")]}
        )
    data: dict[str, Any] = {"outcome": outcome}
    if duration_seconds is not None:
        data["duration_seconds"] = duration_seconds
    if callback_at is not None:
        data["callback_at"] = callback_at.isoformat()
    activity = lead_services.log_contact(
        lead,
        kind=ActivityKind.CALL,
        by=by,
        reached=outcome in REACHED,
        message=lead_services.clean_text(note)[:MAX_NOTE],
        data=data,
    )
    if callback_at is not None:
        steps.add_task(
            lead,
            by=by,
            kind=TaskKind.CALL,
            due_at=callback_at,
            title=_("Call back"),
        )
    clocks.follow([lead.pk])
    return activity


@transaction.atomic
def log_meeting(lead: Lead, *, by: Actor, note: str) -> Activity:
    text = lead_services.clean_text(note)[:MAX_NOTE]
    if not text:
        raise ValidationFailed(_("Write something."), errors={"note": [_("Required.")]})
    activity = lead_services.log_contact(
        lead, kind=ActivityKind.MEETING, by=by, reached=True, message=text
    )
    clocks.follow([lead.pk])
    return activity


def log_note(lead: Lead, *, by: Actor, note: str) -> Activity:
    return lead_services.log_activity(lead, kind=ActivityKind.NOTE, message=note, by=by)


# The names a template may use, each filled from the lead or the sender.
TEMPLATE_FIELDS = ("first_name", "last_name", "full_name", "company", "sender_name")
_FIELD = re.compile(r"\{(\w+)\}")


def fill(text: str, *, lead: Lead, sender: User | None) -> str:
    """Fill `{first_name}` and the other TEMPLATE_FIELDS; anything else is left as written."""
    values = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": lead.full_name,
        "company": lead.company_name,
        "sender_name": sender.display_name if sender else "",
    }
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def templates_for(language: str) -> list[EmailTemplate]:
    """Active templates, those in `language` first."""
    rows = list(EmailTemplate.objects.filter(is_active=True))
    return sorted(rows, key=lambda t: (t.language != language, t.name))


@transaction.atomic
def send_email(lead: Lead, *, by: User, subject: str, body: str) -> OutgoingEmail:
    """Send an e-mail to the lead from Leadloop: stored as sent, put on the timeline (a contact
    that reaches the person), and handed to SMTP by a task after the commit."""
    if not mail_configured():
        raise Conflict(_("No mail server is set up (LEADLOOP_SMTP_HOST)."))
    locked = Lead.objects.get(pk=lead.pk)
    if not locked.email:
        raise ValidationFailed(_("This lead has no e-mail address."), errors={"to": [_("Empty.")]})
    clean_subject = " ".join(lead_services.clean_text(subject).split())[:200]
    clean_body = lead_services.clean_text(body)[:20000]
    errors = {}
    if not clean_subject:
        errors["subject"] = [_("Required.")]
    if not clean_body:
        errors["body"] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    now = timezone.now()
    mail = OutgoingEmail.objects.create(
        lead=locked,
        sender=by,
        to=locked.email,
        reply_to=by.email,
        subject=clean_subject,
        body=clean_body,
        message_id=f"<leadloop-{uuid.uuid4().hex}@leadloop>",
        created_at=now,
        changed_at=now,
    )
    lead_services.log_contact(
        locked,
        kind=ActivityKind.EMAIL,
        by=by,
        reached=True,
        message=clean_subject,
        data={"email_id": mail.pk, "to": mail.to, "body": clean_body[:2000]},
        at=now,
    )
    clocks.follow([locked.pk])
    transaction.on_commit(lambda: _queue(mail.pk))
    return mail


def _queue(email_id: int) -> None:
    try:
        enqueue(SEND_TASK, email_id=email_id)
    except Exception:
        logger.exception("could not queue lead e-mail id=%d; the sweep sends it", email_id)


class MailFailed(Exception):
    """The SMTP server could not take the mail now; the task retries with back-off."""


def deliver(email_id: int) -> str:
    """Send one stored e-mail if it is still waiting; the state it ends in."""
    now = timezone.now()
    taken = OutgoingEmail.objects.filter(pk=email_id, state=OutgoingEmail.State.PENDING).update(
        state=OutgoingEmail.State.SENDING, attempts=F("attempts") + 1, changed_at=now
    )
    if not taken:
        return "not pending"
    mail = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMessage(
        subject=mail.subject,
        body=mail.body,
        from_email=settings.LEADLOOP_MAIL_FROM,
        to=[mail.to],
        reply_to=[mail.reply_to] if mail.reply_to else None,
        headers={"Message-ID": mail.message_id},
    )
    try:
        with mail_connection() as connection:
            connection.send_messages([message])
    except (OSError, smtplib.SMTPException) as exc:
        failed = mail.attempts >= MAX_ATTEMPTS
        OutgoingEmail.objects.filter(pk=email_id).update(
            state=OutgoingEmail.State.FAILED if failed else OutgoingEmail.State.PENDING,
            error=f"{type(exc).__name__}: {exc}"[:300],
            changed_at=timezone.now(),
        )
        if failed:
            return OutgoingEmail.State.FAILED
        raise MailFailed(str(exc)) from exc
    OutgoingEmail.objects.filter(pk=email_id).update(
        state=OutgoingEmail.State.SENT, error="", changed_at=timezone.now()
    )
    return OutgoingEmail.State.SENT


def send_waiting(*, now: dt.datetime | None = None) -> int:
    """The sweep: mails whose task was lost, retries whose back-off passed, and sends a dead
    worker left `sending` (sent again with the same Message-ID)."""
    now = now or timezone.now()
    due = OutgoingEmail.objects.filter(indexed(OutgoingEmail, "outgoing_email_due"))
    due.filter(state=OutgoingEmail.State.SENDING, changed_at__lt=now - STALE_SENDING).update(
        state=OutgoingEmail.State.PENDING
    )
    sent = 0
    for mail in due.filter(state=OutgoingEmail.State.PENDING).order_by("changed_at", "id")[:200]:
        wait = backoff_delay(mail.attempts, base_seconds=30.0, max_seconds=3600.0)
        if mail.attempts and mail.changed_at + dt.timedelta(seconds=wait) > now:
            continue
        try:
            if deliver(mail.pk) == OutgoingEmail.State.SENT:
                sent += 1
        except MailFailed:
            continue
    return sent
