"""Domain errors raised by services and selectors.

One ninja exception handler turns them into RFC 9457 problem documents; one view helper turns them
into form messages.
"""

from __future__ import annotations


class LeadloopError(Exception):
    """Base of every domain error. `status` is the HTTP status the API answers with."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class NotFound(LeadloopError):
    status = 404
    title = "Not found"


class NotAllowed(LeadloopError):
    status = 403
    title = "Not allowed"


class InvalidTransition(LeadloopError):
    status = 409
    title = "Invalid status transition"


class ValidationFailed(LeadloopError):
    status = 422
    title = "Validation failed"


class Conflict(LeadloopError):
    status = 409
    title = "Conflict"


class Throttled(LeadloopError):
    """Too many requests: the caller may try again after `retry_after` seconds."""

    status = 429
    title = "Too many requests"

    def __init__(
        self, detail: str, *, retry_after: int, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(detail, errors=errors)
        self.retry_after = max(1, retry_after)
