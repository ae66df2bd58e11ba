"""The database cannot take the request now: a full disk, a lock held too long, a server restarting.

That is `503 Service Unavailable` with `Retry-After`, not a `500`: a sender or a browser may try
again (and a load balancer reading `/readyz`, core/health.py, stops sending new work to a process
whose database does not answer at all).
Django's `OperationalError` and `InterfaceError` are exactly these: errors of the database's
operation, not of the statement (`IntegrityError`, `ProgrammingError` and `DataError` stay `500`s
or domain answers). Used by the intake (core of "nothing accepted and then lost"), the API's
catch-all handler and `handler500` for everything else (docs/operations.md, "Faults").
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.utils.html import escape
from django.utils.translation import gettext as _

from leadloop.problems import problem_response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, UNAVAILABLE_ERRORS)


def unavailable_problem(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The problem document: what happened in a word (`full`, `locked` or `unavailable`)."""
    message = str(exc).lower()
    if "full" in message or "no space" in message:
        reason = "full"
    elif "locked" in message:
        reason = "locked"
    else:
        reason = "unavailable"
    logger.error("database unavailable path=%s reason=%s error=%s", request.path, reason, exc)
    return problem_response(
        request,
        status=503,
        title="Service unavailable",
        detail="The database cannot take this request now. Send it again after Retry-After.",
        kind="unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        extra={"reason": reason},
    )


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith(("/api/", "/in/"))
        or "json" in accept
        or "xml" in request.headers.get("Content-Type", "")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: a database that cannot answer is a 503 (JSON or a page without the
    database); anything else Django's plain 500. Django calls it inside its `except`, so the
    exception is at hand; no template is rendered (the base template would ask the database)."""
    exc = sys.exc_info()[1]
    if is_unavailable(exc):
        assert exc is not None
        if _wants_json(request):
            return unavailable_problem(request, exc)
        logger.error("database unavailable path=%s error=%s", request.path, exc)
        title = escape(_("Leadloop is briefly unavailable"))
        text = escape(_("The database cannot answer right now. Try again in a minute."))
        page = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><h1>{title}</h1><p>{text}</p></body></html>"
        )
        response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
    if _wants_json(request):
        return problem_response(
            request, status=500, title="Internal error", detail="Something went wrong on our side."
        )
    return HttpResponseServerError(
        "<!doctype html><html><head><title>500</title></head><body><h1>"
        + escape(_("Something went wrong on our side."))
        + "</h1></body></html>"
    )
