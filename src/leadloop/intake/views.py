"""HTTP POST intake (/in/<source key>) and the review pages for submissions."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leadloop.accounts.services import note_key_failure
from leadloop.core.client_ip import client_ip
from leadloop.core.unavailable import UNAVAILABLE_ERRORS, unavailable_problem
from leadloop.errors import Conflict, Throttled
from leadloop.intake import services
from leadloop.intake.channels.http import answer as http_answer
from leadloop.intake.channels.http.parser import HTTP_CHANNEL, is_xml
from leadloop.intake.models import SubmissionState
from leadloop.intake.throttle import limits_for
from leadloop.leads.services import resolve_source_key

logger = logging.getLogger(__name__)

UTM_AND_ORIGIN = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "Referer",
    "Origin",
    "X-Forwarded-For",
    "Idempotency-Key",
)


def _meta(request: HttpRequest) -> dict[str, str]:
    meta = {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:500],
        "referrer": request.META.get("HTTP_REFERER", "")[:2000],
    }
    for name in UTM_AND_ORIGIN:
        if request.GET.get(name):
            meta[name] = request.GET[name][:200]
    return meta


@csrf_exempt
@require_POST
def receive_post(request: HttpRequest, key: str = "") -> HttpResponse:
    """A lead posted by a sender with its source key in the path or the X-Source-Key header."""
    content_type = request.META.get("CONTENT_TYPE", "")
    key = key or request.headers.get("X-Source-Key", "")
    wants_xml = "xml" in content_type.lower()
    ip = client_ip(request)
    source = resolve_source_key(key) if key else None
    if source is None:
        try:
            note_key_failure(ip=ip)
        except Throttled as exc:
            return http_answer.throttled(
                request, retry_after=exc.retry_after, as_xml=wants_xml, detail=exc.detail
            )
        return http_answer.problem(
            request, status=404, title="Unknown source", detail="No source has this key.",
            as_xml=wants_xml, kind="unknownsource",
        )  # fmt: skip
    if not source.has_active_key or not source.is_active:
        return http_answer.problem(
            request, status=401, title="Key revoked", detail="This source key has been revoked.",
            as_xml=wants_xml, kind="revokedkey",
        )  # fmt: skip
    try:
        body = request.body
    except RequestDataTooBig:
        return http_answer.problem(
            request, status=413, title="Content too large",
            detail="The body is larger than this server accepts.",
            as_xml=wants_xml, kind="toolarge",
        )  # fmt: skip
    as_xml = is_xml(content_type, body)
    headers = {
        name: request.headers[name][:500] for name in KEPT_HEADERS if name in request.headers
    }
    try:
        submission = services.receive(
            source=source,
            channel=HTTP_CHANNEL,
            body=body,
            content_type=content_type,
            headers=headers,
            meta=_meta(request),
            idempotency_key=request.headers.get("Idempotency-Key", ""),
            throttle=limits_for(source, ip=ip),
        )
    except Conflict as exc:
        return http_answer.problem(
            request, status=409, title="Idempotency-Key reused", detail=exc.detail,
            as_xml=as_xml, kind="conflict",
        )  # fmt: skip
    except UNAVAILABLE_ERRORS as exc:  # a full disk, a restarting server: nothing was stored
        return unavailable_problem(request, exc)
    try:
        submission = services.process_submission(submission.pk, submission=submission)
    except UNAVAILABLE_ERRORS:
        # The raw post is stored and stays `received`: the worker's orphan sweep finishes it
        # once the database takes writes again. The sender is done (202), not told to resend.
        logger.exception("intake processing deferred submission=%s", submission.pk)
        submission.state = SubmissionState.RECEIVED
    return http_answer.outcome(request, submission, as_xml=as_xml)
