"""The raw original of a submission as a download: exact bytes, never rendered inline."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.intake.models import RawSubmission

# A sender's content type is sent back only when it is a plain `type/subtype; param=value`.
SAFE_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[^\"\r\n]*\"|[\w.+-]+))*$")


def record_original_seen(
    submission: RawSubmission, *, by: Actor | Any, request: HttpRequest, downloaded: bool
) -> None:
    """Audit who saw or downloaded the raw original: of its lead, or of a submission without one."""
    target = (
        (AuditTarget.LEAD, submission.lead_id)
        if submission.lead_id
        else (AuditTarget.SUBMISSION, submission.pk)
    )
    record_audit(
        actor=by,
        action=AuditAction.ORIGINAL_DOWNLOADED if downloaded else AuditAction.ORIGINAL_VIEWED,
        target_type=target[0],
        target_id=target[1],
        data={"submission": submission.pk},
        request=request,
    )


def download(submission: RawSubmission, *, by: Actor | Any, request: HttpRequest) -> HttpResponse:
    """The original as a download, recorded in the audit log."""
    record_original_seen(submission, by=by, request=request, downloaded=True)
    return raw_response(submission)


def raw_response(submission: RawSubmission) -> HttpResponse:
    """The exact bytes, as an attachment in the sender's content type; never shown inline."""
    content_type = submission.content_type.strip()
    if not SAFE_CONTENT_TYPE.match(content_type):
        content_type = "application/octet-stream"
    response = HttpResponse(bytes(submission.body), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="submission-{submission.pk}.bin"'
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway, it runs no script and reaches nothing of ours.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
