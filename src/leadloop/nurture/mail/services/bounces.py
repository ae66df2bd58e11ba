"""Mail that comes back: bounces (RFC 3464 delivery-status notifications) and spam complaints
(RFC 5965 ARF feedback reports), both `multipart/report`.

Every way in (a file, the bounce mailbox over IMAP, the SMTP listener: `services.mailbox`) ends
in `receive_report(raw, via=…)`, which stores the bytes first, in their own transaction, and
then reads them: the report is matched to the marketing mail by the Message-ID of the original
message it quotes (or, failing that, by the recipient address alone). A hard bounce (status
5.x.x) and a complaint (feedback type abuse) suppress the address; a soft bounce (4.x.x) is only
kept. A mail that cannot be read (over LEADLOOP_BOUNCE_MAX_BYTES, or the parser fails) is kept
with the reason in `error`, for a person to look at on the returned-mail page and read again.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import logging
import re
from dataclasses import dataclass
from email.message import Message

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.nurture import engagement
from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    ReportKind,
    ReportVia,
    SuppressionReason,
)
from leadloop.nurture.mail.services import suppression

logger = logging.getLogger(__name__)

# A report stored this long ago and still unread was left by a crash between storing and
# reading; the sweep reads it (`read_waiting_reports`).
WAITING_SECONDS = 60
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
_ADDRESS = re.compile(r"^(?:rfc822;)?\s*<?([^<>\s;]+@[^<>\s;]+)>?\s*$", re.I)


def _address(value: str | None) -> str:
    if not value:
        return ""
    match = _ADDRESS.match(str(value).strip())
    return match.group(1).strip().lower() if match else ""


def _field(block: Message, name: str) -> str:
    """A field of a report block as text: raw bytes that are UTF-8 (as servers send them, RFC
    6533) decoded as such, anything else as U+FFFD, folded lines joined."""
    for key, value in block.raw_items():
        if key.lower() == name.lower():
            text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return " ".join(text.split())
    return ""


def _field_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    if isinstance(payload, str):
        return [email.message_from_string(chunk) for chunk in re.split(r"\r?\n\r?\n", payload)]
    return []


def _original_message_id(report: Message) -> str:
    for part in report.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            quoted = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(quoted, Message) and quoted.get("Message-ID"):
                return str(quoted["Message-ID"]).strip()
        if kind in ("text/rfc822-headers", "message/rfc822-headers"):
            payload = part.get_payload(decode=True)
            headers = email.message_from_bytes(payload if isinstance(payload, bytes) else b"")
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return ""


@dataclass(frozen=True)
class Reading:
    kind: str
    status: str
    address: str
    diagnostic: str


def _read(report: Message) -> Reading:
    """What a report says: its kind, status, the recipient and the server's diagnostic."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            for block in _field_blocks(part)[1:] or _field_blocks(part):
                status = str(block.get("Status", "")).strip()
                found = _STATUS.match(status)
                if found is None:
                    continue
                recipient = _address(
                    block.get("Final-Recipient") or block.get("Original-Recipient")
                )
                diagnostic = _field(block, "Diagnostic-Code")
                if found.group(1) == "5":
                    return Reading(ReportKind.HARD_BOUNCE, status, recipient, diagnostic)
                if found.group(1) == "4":
                    return Reading(ReportKind.SOFT_BOUNCE, status, recipient, diagnostic)
        if kind == "message/feedback-report":
            for block in _field_blocks(part):
                feedback = str(block.get("Feedback-Type", "")).strip().lower()
                if feedback:
                    recipient = _address(block.get("Original-Rcpt-To"))
                    kind_found = (
                        ReportKind.COMPLAINT
                        if feedback in ("abuse", "fraud")
                        else ReportKind.UNKNOWN
                    )
                    return Reading(kind_found, feedback, recipient, "")
    return Reading(ReportKind.UNKNOWN, "", "", "")


def _store(
    raw: bytes, *, via: str, headers: dict[str, str], at: dt.datetime
) -> tuple[DeliveryReport, bool]:
    """The stored report for these bytes and whether it is new (the same bytes again return the
    first one). Committed before this returns."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        with transaction.atomic():
            report = DeliveryReport.objects.create(
                raw=raw, received_at=at, via=via, headers=headers, digest=digest
            )
        return report, True
    except IntegrityError:
        return DeliveryReport.objects.get(digest=digest), False


def receive_report(
    raw: bytes,
    *,
    via: str = ReportVia.FILE,
    headers: dict[str, str] | None = None,
    at: dt.datetime | None = None,
) -> DeliveryReport:
    """Keep a returned mail as it came (committed first), then read it: suppress the address of
    a hard bounce or complaint. The same bytes twice are stored and read once. Raises only when
    the mail could not be stored; a mail that cannot be read is kept with its `error`."""
    now = at or timezone.now()
    report, is_new = _store(raw, via=via, headers=headers or {}, at=now)
    if not is_new:
        return report
    return read_report(report.pk)


def record_bounce(raw: bytes, *, at: dt.datetime | None = None) -> DeliveryReport:
    """Keep and read a returned mail from a file (`leadloop mail bounce FILE`)."""
    return receive_report(raw, via=ReportVia.FILE, at=at)


def _fail(report_id: int, error: str) -> None:
    DeliveryReport.objects.filter(pk=report_id).update(error=error[:300])


def read_report(report_id: int) -> DeliveryReport:
    """Read a stored report once: its kind and address, the suppression it calls for. A report
    already read is returned as it is; a parser failure is kept in `error` (logged), never
    raised, so the mail stays for a person to look at."""
    try:
        with transaction.atomic():
            report = (
                DeliveryReport.objects.select_for_update()
                .filter(pk=report_id, processed_at__isnull=True)
                .first()
            )
            if report is not None:
                raw = bytes(report.raw)
                limit = settings.LEADLOOP_BOUNCE_MAX_BYTES
                if len(raw) > limit:
                    logger.warning(
                        "returned mail over the size limit report=%d bytes=%d", report_id, len(raw)
                    )
                    _fail(
                        report_id,
                        _("Not read: %(size)d bytes, over the limit of %(limit)d.")
                        % {"size": len(raw), "limit": limit},
                    )
                else:
                    _apply(report, raw)
    except Exception as exc:
        logger.exception("returned mail could not be read report=%d", report_id)
        _fail(report_id, _("Not read: the parser failed (%(error)s).") % {"error": exc})
    return DeliveryReport.objects.get(pk=report_id)


def _apply(report: DeliveryReport, raw: bytes) -> None:
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    reading = _read(parsed)
    address = reading.address
    message_id = _original_message_id(parsed)
    message = MarketingMessage.objects.filter(message_id=message_id).first() if message_id else None
    if message is not None and not address:
        address = message.to.lower()
    if reading.kind == ReportKind.HARD_BOUNCE and address:
        suppression.suppress(
            address, reason=SuppressionReason.HARD_BOUNCE, note=reading.status, message=message
        )
    elif reading.kind == ReportKind.COMPLAINT and address:
        suppression.suppress(
            address, reason=SuppressionReason.COMPLAINT, note=reading.status, message=message
        )
    DeliveryReport.objects.filter(pk=report.pk).update(
        kind=reading.kind,
        status=reading.status[:20],
        email=address[:254],
        diagnostic=reading.diagnostic[:300],
        message=message,
        processed_at=timezone.now(),
        error="",
    )
    if message is not None:
        # A workflow waiting on this mail's bounce looks at once.
        engagement.engaged(message.lead_id)


def read_again(report: DeliveryReport, *, by: Actor) -> DeliveryReport:
    """A person asks to read an unreadable report again (after a fix, or a raised limit)."""
    require(by, Permission.MANAGE_NURTURE)
    DeliveryReport.objects.filter(pk=report.pk, processed_at__isnull=True).update(error="")
    return read_report(report.pk)


def read_waiting_reports(*, now: dt.datetime | None = None) -> int:
    """Read the reports a crash left stored but unread (not those with an error); how many."""
    before = (now or timezone.now()) - dt.timedelta(seconds=WAITING_SECONDS)
    waiting = list(
        DeliveryReport.objects.filter(
            processed_at__isnull=True, error="", received_at__lte=before
        ).values_list("pk", flat=True)[:500]
    )
    for report_id in waiting:
        read_report(report_id)
    return len(waiting)
