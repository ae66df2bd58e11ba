"""Show every page in the user's own time zone and language; turn domain errors into 404/403."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation

from leadloop.accounts.audit import request_context
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import NotAllowed, NotFound


class UserPreferencesMiddleware:
    """Activate the logged-in user's time zone and saved language, else the deployment's (the
    language only when the browser does not ask for one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        defaults = get_defaults()
        zone_name = defaults.time_zone
        language = ""
        if user is not None and user.is_authenticated:
            zone_name = user.time_zone or zone_name
            language = user.language
        if not language and "Accept-Language" not in request.headers:
            # Nobody said which language: the deployment's, not the environment's LANGUAGE_CODE.
            language = defaults.language
        if language and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(defaults.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class AuditContextMiddleware:
    """Let audit events recorded by services during a request carry the client's address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_context(request):
            return self.get_response(request)


class DomainErrorMiddleware:
    """The one mapping of domain errors for HTML views: `NotFound` is a 404, `NotAllowed` a 403.

    Views let these propagate instead of re-raising them one by one. (The API maps them to
    problem documents in its own exception handler, so they never reach this.)
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, NotFound):
            raise Http404(exception.detail) from exception
        if isinstance(exception, NotAllowed):
            raise PermissionDenied(exception.detail) from exception
