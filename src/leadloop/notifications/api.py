"""/api/v1/notifications: the caller's own notifications and their e-mail choice."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from leadloop.accounts.models import User
from leadloop.errors import NotAllowed
from leadloop.notifications import selectors, services
from leadloop.notifications.models import Notification

router = Router(tags=["notifications"])


def _user(request: HttpRequest) -> User:
    from leadloop.accounts.actors import actor_from_request

    actor = actor_from_request(request)
    if not isinstance(actor, User):
        raise NotAllowed("Only users have notifications.")
    return actor


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    lead_id: int | None
    created_at: dt.datetime
    read_at: dt.datetime | None
    email_state: str
    email_attempts: int
    email_error: str


class ReadIn(Schema):
    model_config = ConfigDict(extra="forbid")
    ids: list[int] | None = Field(None, max_length=1000, description="Without ids: all.")


class ReadOut(Schema):
    marked: int


class PreferenceIO(Schema):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(..., pattern="^(immediate|digest|none)$")


def _out(item: Notification) -> NotificationOut:
    return NotificationOut(
        id=item.pk,
        kind=item.kind,
        title=item.title,
        body=item.body,
        url=item.url,
        lead_id=item.lead_id,
        created_at=item.created_at,
        read_at=item.read_at,
        email_state=item.email_state,
        email_attempts=item.email_attempts,
        email_error=item.email_error,
    )


@router.get("", response=list[NotificationOut], url_name="notifications")
def list_notifications(request: HttpRequest, unread: bool = False) -> list[NotificationOut]:
    """Your newest 100 notifications (`unread=true`: only unread ones)."""
    found = selectors.list_for(_user(request))
    if unread:
        found = found.filter(read_at__isnull=True)
    return [_out(item) for item in found[:100]]


@router.post("/read", response=ReadOut, url_name="notifications-read")
def mark_read(request: HttpRequest, payload: ReadIn) -> ReadOut:
    """Mark your notifications read: those in `ids`, or all."""
    return ReadOut(marked=services.mark_read(_user(request), ids=payload.ids))


@router.get("/preference", response=PreferenceIO, url_name="notifications-preference")
def get_preference(request: HttpRequest) -> PreferenceIO:
    """How you get notifications by e-mail: immediate, digest (daily) or none."""
    return PreferenceIO(email=selectors.email_choice(_user(request)))


@router.put("/preference", response=PreferenceIO, url_name="notifications-preference-set")
def set_preference(request: HttpRequest, payload: PreferenceIO) -> PreferenceIO:
    preference = services.set_email_choice(_user(request), email=payload.email)
    return PreferenceIO(email=preference.email)
