"""What the lead pages share: the actor, HTMX rendering, error status, the lead by id."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from leadloop.accounts.models import User
from leadloop.errors import LeadloopError
from leadloop.leads import selectors
from leadloop.leads.models import Lead


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The same URL answers a full page or a fragment, so caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _error_status(exc: LeadloopError) -> int:
    """The answer's status for a refused action (403 not allowed, 409 wrong state, 422 invalid)."""
    return exc.status


def _get_lead(request: HttpRequest, lead_id: int) -> Lead:
    return selectors.get_lead_for(_actor(request), lead_id)


def _query_string(data: QueryDict, *, drop: tuple[str, ...] = ("cursor",)) -> str:
    """The list's query string without paging, as links and saved views keep it."""
    pairs = [(k, v) for k, values in data.lists() if k not in drop for v in values if v != ""]
    return urlencode(pairs)
