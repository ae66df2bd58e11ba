"""RFC 9457 problem details: the one shape every API error takes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_TYPE_BASE = "https://leadloop.dev/problems/"


def field_errors(errors: Mapping[str, Iterable[str]]) -> list[dict[str, str]]:
    """Field messages as problem-detail extension members: a JSON pointer and a message each."""
    return [
        {"field": name, "pointer": f"#/{name}", "detail": message}
        for name, messages in errors.items()
        for message in messages
    ]


def problem_response(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    detail: str = "",
    errors: Mapping[str, Iterable[str]] | None = None,
    kind: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """An `application/problem+json` response; `extra`: extension members."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = field_errors(errors)
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/problem+json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
