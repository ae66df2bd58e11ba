"""The raw original of a submission as a download: exact bytes, never rendered inline."""

from __future__ import annotations

import re

from django.http import HttpResponse

from leadloop.intake.models import RawSubmission

# A sender's content type is sent back only when it is a plain `type/subtype; param=value`.
SAFE_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[^\"\r\n]*\"|[\w.+-]+))*$")


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
