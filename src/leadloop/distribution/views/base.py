"""Who may open the routing pages: viewers (marketing, admins, sales managers) and editors."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from leadloop.accounts.models import User
from leadloop.distribution import selectors


def _viewer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not selectors.can_view_routing(user):
        raise Http404
    return user


def _editor(request: HttpRequest) -> User:
    user = _viewer(request)
    if not selectors.can_configure_routing(user):
        raise Http404
    return user
