"""Show every page in the user's own time zone and language."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from leadloop.accounts.audit import request_context


class UserPreferencesMiddleware:
    """Activate the logged-in user's time zone (default Europe/Amsterdam) and saved language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        zone_name = settings.LEADLOOP_DEFAULT_TIME_ZONE
        if user is not None and user.is_authenticated:
            zone_name = user.time_zone or zone_name
            if user.language and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(settings.LEADLOOP_DEFAULT_TIME_ZONE))
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
