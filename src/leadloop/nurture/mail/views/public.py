"""The addresses a marketing mail links to; they work without logging in.

Each token is checked for its signature before the database is asked anything, and a bad one
gets a bare 404 that says nothing about why. The open pixel only appends its hit (one INSERT,
no read); the click redirect reads the link's address and appends its hit. Neither touches a
session or renders a template: they take the traffic of every mail a campaign sends (see
bench/nurture_tracking.py). What a hit means is worked out a few seconds later
(`tracking.process_hits`).
"""

from __future__ import annotations

import base64

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from leadloop.core.client_ip import client_ip
from leadloop.nurture.mail import selectors
from leadloop.nurture.mail.services import tokens, tracking

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = "no-store, no-cache, must-revalidate, max-age=0"


def _not_found() -> HttpResponse:
    response = HttpResponseNotFound(b"Not found.", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = NO_STORE
    return response


def _hit(request: HttpRequest) -> tracking.Hit:
    return tracking.Hit(
        ip=client_ip(request) or None,
        user_agent=request.headers.get("User-Agent", "")[:300],
        at=timezone.now(),
    )


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    key = tokens.read_open_token(token)
    if key is None or not tracking.record_open(key, _hit(request)):
        return _not_found()
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = NO_STORE
    response["Expires"] = "0"
    return response


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    found = tokens.read_click_token(token)
    if found is None:
        return _not_found()
    # The address comes from the stored message, never from the request: no open redirect.
    target = tracking.record_click(found[0], found[1], _hit(request))
    if target is None:
        return _not_found()
    response = HttpResponseRedirect(target)
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response


# CSRF-exempt on purpose: mail clients send the RFC 8058 one-click POST without any cookie or
# token, and the page's own button must work without a session. A forged cross-site POST could
# only do what the signed token in its URL already allows — unsubscribe the one person it was
# sent to — and it reads or changes nothing else; no login or cookie is involved.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    key = tokens.read_unsubscribe_token(token)
    message = selectors.find_message(key) if key is not None else None
    if message is None:
        return _not_found()
    with translation.override(message.language or None):
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            tracking.unsubscribe(message, how="one-click" if one_click else "page")
            if one_click:
                return HttpResponse(status=200)
            context = {"done": True}
        else:
            context = {"done": message.unsubscribed_at is not None}
        response = render(
            request, "nurture/mail/unsubscribe.html", {**context, "language": message.language}
        )
    response["Cache-Control"] = NO_STORE
    response["Referrer-Policy"] = "no-referrer"
    return response
