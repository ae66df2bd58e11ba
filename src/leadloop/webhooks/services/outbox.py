"""Writing events: a message and its deliveries are rows in the caller's transaction.

`leads` calls `emit` while it makes the change, so a webhook exists exactly when the change
committed: a crash after the commit leaves a pending delivery that the sweep sends, and a rolled
back change leaves nothing. Only event types some active subscription wants are written; which
those are is read once per few seconds per process, so with no subscriptions an event costs no
query at all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from leadloop.core.retry import enqueue, is_queued
from leadloop.webhooks.models import Delivery, Message, Subscription

logger = logging.getLogger(__name__)

SEND_TASK = "leadloop.webhooks.tasks.deliver_task"
BACKLOG_TASK = "leadloop.webhooks.tasks.send_backlog_task"
TTL = 5.0
CHUNK = 100

_lock = threading.Lock()
_wanted: tuple[float, dict[str, tuple[int, ...]]] | None = None


@dataclass(frozen=True)
class Outgoing:
    """One event to tell subscribers about: `data` must be JSON-safe (Decimal and dates are)."""

    type: str
    data: Mapping[str, Any]
    at: dt.datetime
    lead_id: int | None = None


def wanted() -> dict[str, tuple[int, ...]]:
    """Event type → the ids of the active subscriptions that want it (cached for TTL seconds)."""
    global _wanted
    held = _wanted
    if held is not None and time.monotonic() - held[0] < TTL:
        return held[1]
    with _lock:
        found: dict[str, list[int]] = {}
        for pk, events in Subscription.objects.filter(is_active=True).values_list("pk", "events"):
            for name in events or ():
                found.setdefault(name, []).append(pk)
        table = {name: tuple(ids) for name, ids in found.items()}
        _wanted = (time.monotonic(), table)
        return table


def forget() -> None:
    """Read the subscriptions afresh on the next event (after a change in this process)."""
    global _wanted
    _wanted = None


def wants_any(types: Iterable[str]) -> bool:
    table = wanted()
    return any(name in table for name in types)


def body_of(event_type: str, data: Mapping[str, Any], at: dt.datetime) -> str:
    """The JSON every subscriber receives: {"type", "timestamp", "data"} (Standard Webhooks)."""
    return json.dumps(
        {
            "type": event_type,
            "timestamp": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def emit(events: Iterable[Outgoing], *, only: Iterable[int] | None = None) -> list[int]:
    """Write a message for each event some subscription wants, and a pending delivery to each
    of those subscriptions (`only`: to these subscriptions, whatever they want — "Send test").
    Queues the sending after the commit; returns the new delivery ids."""
    table = wanted()
    chosen = set(only) if only is not None else None
    pairs: list[tuple[Message, tuple[int, ...]]] = []
    for event in events:
        targets = tuple(chosen) if chosen is not None else table.get(event.type, ())
        if not targets:
            continue
        message = Message(
            msg_id=new_msg_id(),
            type=event.type,
            lead_id=event.lead_id,
            body=body_of(event.type, event.data, event.at),
            created_at=event.at,
        )
        pairs.append((message, targets))
    if not pairs:
        return []
    now = timezone.now()
    Message.objects.bulk_create([message for message, _targets in pairs])
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                subscription_id=target,
                message=message,
                next_attempt_at=now,
                created_at=now,
                changed_at=now,
            )
            for message, targets in pairs
            for target in targets
        ]
    )
    transaction.on_commit(queue_backlog)
    return [delivery.pk for delivery in deliveries if delivery.pk is not None]


def queue_backlog() -> None:
    """Queue a run that sends every due delivery, unless one waits in the queue already: that
    run sends these too, since they are committed before it starts. One row read instead of a
    task row written per change: under load the queue holds one run, not one per lead. A lost
    run is made good by the `send_webhooks` sweep within a minute."""
    try:
        if is_queued(BACKLOG_TASK):
            return
        # One short transaction: on SQLite it queues behind the other writers
        # (core.sqlite_backend) instead of waiting in SQLite's busy handler.
        with transaction.atomic():
            enqueue(BACKLOG_TASK)
    except Exception:
        logger.exception("could not queue the webhook sending")


def queue(delivery_ids: list[int], *, run_after: dt.datetime | None = None) -> None:
    """Enqueue the sending of these deliveries (a retry, a replay); the sweep makes good a lost
    task within a minute."""
    for start in range(0, len(delivery_ids), CHUNK):
        chunk = delivery_ids[start : start + CHUNK]
        try:
            enqueue(SEND_TASK, run_after=run_after, delivery_ids=chunk)
        except Exception:
            logger.exception("could not queue webhook deliveries count=%d", len(chunk))
