"""The lead timeline: every change appends an Activity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from django.utils import timezone

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import Role
from leadloop.core import prepared
from leadloop.leads.models import (
    Activity,
    ActorKind,
    Lead,
)


def _actor_columns(by: Actor) -> dict[str, Any]:
    if isinstance(by, SystemActor):
        return {"actor_kind": ActorKind.SYSTEM, "actor_label": by.label}
    if isinstance(by, SourceActor):
        return {"actor_kind": ActorKind.SOURCE, "actor_label": by.source_name}
    kind = ActorKind.PARTNER if by.role == Role.PARTNER else ActorKind.USER
    return {"actor_kind": kind, "actor_user": by, "actor_label": by.display_name}


class Entry(NamedTuple):
    """One timeline entry of several written at once (`record_activities`)."""

    kind: str
    message: str = ""
    data: Mapping[str, Any] | None = None


def record_activities(
    lead: Lead, entries: Sequence[Entry], *, by: Actor, at: dt.datetime
) -> list[Activity]:
    """Append several entries to a lead's timeline in one INSERT, in the order given (a move
    and the status change it causes)."""
    if len(entries) == 1:
        kind, message, data = entries[0]
        return [record_activity(lead, kind=kind, by=by, message=message, data=data, at=at)]
    actor = _actor_columns(by)
    rows = [
        Activity(
            lead=lead, kind=kind, message=message, data=dict(data or {}), created_at=at, **actor
        )
        for kind, message, data in entries
    ]
    return Activity.objects.bulk_create(rows)


def record_activity(
    lead: Lead,
    *,
    kind: str,
    by: Actor,
    message: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """Append one entry to a lead's timeline."""
    activity = Activity(
        lead=lead,
        kind=kind,
        message=message,
        data=dict(data or {}),
        created_at=at or timezone.now(),
        **_actor_columns(by),
    )
    prepared.insert(activity)
    return activity
