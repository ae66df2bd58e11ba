"""The Content-Security-Policy header every response carries.

No page runs inline script, inline event handlers or `eval` (Alpine's CSP build, htmx with
`allowEval` off) and no markup carries a `style=` attribute, so the policy allows only the
site's own files. A `<script>` or `onerror=` that slips into a page through a bug in escaping
therefore does not run. There is no nonce: with nothing inline there is nothing to sign, and
one header fits every response.

A view relaxes one directive for one response with `relax(response, directive=[…])`, the way
Django's `xframe_options_exempt` marks a response for the clickjacking middleware: the public web
form pages may be framed by customers' sites, and their form may redirect to the customer's page.
A view that sets the header itself keeps its own (as Django 6's middleware does): the download
of a submission's original bytes sets a stricter `default-src 'none'; sandbox`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"

POLICY: dict[str, tuple[str, ...]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    # data: for the favicon and the icons in app.css (SVG data URIs).
    "img-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
    "base-uri": ("'none'",),
    "object-src": ("'none'",),
}

# One source expression: a keyword ('self'), a scheme (https:), a host with an optional scheme,
# wildcard and port, or *. No white space, ';' or ',': those would start another source or
# another directive, which is how a value from a database row or the environment could widen
# the policy.
_SOURCE = re.compile(
    r"""^(\*|'[a-z-]+'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?[a-z0-9*.\[\]:-]+)$"""
)


class InvalidSource(ValueError):
    """A source expression that could change more of the policy than its own directive."""


def check_sources(sources: Iterable[str]) -> tuple[str, ...]:
    """The sources unchanged, or InvalidSource for the first that is not one source expression."""
    checked = tuple(sources)
    for source in checked:
        if not _SOURCE.match(source.lower()):
            raise InvalidSource(f"not a CSP source expression: {source!r}")
    return checked


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None when the URL has no such origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
    try:
        return check_sources([origin])[0]
    except InvalidSource:
        return None


def header_value(overrides: dict[str, tuple[str, ...]] | None = None) -> str:
    """The policy as a header value, with any directive replaced by `overrides`."""
    policy = {**POLICY, **(overrides or {})}
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def relax(response: HttpResponse, **directives: Iterable[str]) -> HttpResponse:
    """Replace directives of this response's policy (`frame_ancestors=["*"]`); returns it."""
    overrides = dict(getattr(response, "csp_overrides", {}))
    for name, sources in directives.items():
        overrides[name.replace("_", "-")] = check_sources(sources)
    response.csp_overrides = overrides  # type: ignore[attr-defined]
    return response


class ContentSecurityPolicyMiddleware:
    """Set the policy on every response that has not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.default = header_value()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER in response:
            return response
        overrides = getattr(response, "csp_overrides", None)
        response[HEADER] = header_value(overrides) if overrides else self.default
        return response


def check_form_frame_ancestors(**kwargs: object) -> list[CheckMessage]:
    """System check: LEADLOOP_FORM_FRAME_ANCESTORS holds only CSP source expressions."""
    try:
        check_sources(settings.LEADLOOP_FORM_FRAME_ANCESTORS)
    except InvalidSource as exc:
        return [
            Error(
                f"LEADLOOP_FORM_FRAME_ANCESTORS: {exc}",
                hint="Space-separated sources such as https://www.example.com, or * or 'none'.",
                id="leadloop.E001",
            )
        ]
    return []
