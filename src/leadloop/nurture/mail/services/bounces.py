"""Mail that comes back: bounces (RFC 3464 delivery-status notifications) and spam complaints
(RFC 5965 ARF feedback reports), both `multipart/report`.

`record_bounce(raw)` stores the bytes first, in their own transaction, and then reads them:
the report is matched to the marketing mail by the Message-ID of the original message it
quotes (or, failing that, by the recipient address alone). A hard bounce (status 5.x.x) and a
complaint (feedback type abuse) suppress the address; a soft bounce (4.x.x) is only kept.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from email.message import Message

from django.db import transaction
from django.utils import timezone

from leadloop.nurture import engagement
from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    ReportKind,
    SuppressionReason,
)
from leadloop.nurture.mail.services import suppression

MAX_REPORT_BYTES = 5 * 1024 * 1024
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
_ADDRESS = re.compile(r"^(?:rfc822;)?\s*<?([^<>\s;]+@[^<>\s;]+)>?\s*$", re.I)


def _address(value: str | None) -> str:
    if not value:
        return ""
    match = _ADDRESS.match(str(value).strip())
    return match.group(1).strip().lower() if match else ""


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


def _read(report: Message) -> tuple[str, str, str]:
    """(kind, status, address) of a report."""
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
                if found.group(1) == "5":
                    return ReportKind.HARD_BOUNCE, status, recipient
                if found.group(1) == "4":
                    return ReportKind.SOFT_BOUNCE, status, recipient
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
                    return kind_found, feedback, recipient
    return ReportKind.UNKNOWN, "", ""


def _store(raw: bytes, at: dt.datetime) -> DeliveryReport:
    with transaction.atomic():
        return DeliveryReport.objects.create(raw=raw[:MAX_REPORT_BYTES], received_at=at)


def record_bounce(raw: bytes, *, at: dt.datetime | None = None) -> DeliveryReport:
    """Keep a returned mail, read it, and suppress the address of a hard bounce or complaint."""
    now = at or timezone.now()
    report = _store(raw, now)
    parsed = email.message_from_bytes(raw[:MAX_REPORT_BYTES], policy=email.policy.compat32)
    kind, status, address = _read(parsed)
    message_id = _original_message_id(parsed)
    message = MarketingMessage.objects.filter(message_id=message_id).first() if message_id else None
    if message is not None and not address:
        address = message.to.lower()
    with transaction.atomic():
        if kind == ReportKind.HARD_BOUNCE and address:
            suppression.suppress(
                address, reason=SuppressionReason.HARD_BOUNCE, note=status, message=message
            )
        elif kind == ReportKind.COMPLAINT and address:
            suppression.suppress(
                address, reason=SuppressionReason.COMPLAINT, note=status, message=message
            )
        DeliveryReport.objects.filter(pk=report.pk).update(
            kind=kind,
            status=status[:20],
            email=address[:254],
            message=message,
            processed_at=timezone.now(),
        )
    if message is not None:
        engagement.engaged(message.lead_id)
    report.refresh_from_db()
    return report
