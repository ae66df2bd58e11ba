"""What happened to leads, told to the apps above `leads` after the transaction commits.

An explicit registry, not Django signals: a reader finds every listener by searching for
`events.subscribe(`. Upper apps (distribution, sales, nurture, analytics) subscribe in their
AppConfig.ready(); `leads` itself imports no other app.

    events.subscribe(EventName.LEAD_BECAME_SALES_READY, route_ready_leads)   # in AppConfig.ready()
    events.publish([LeadEvent(EventName.LEAD_CREATED, lead.pk, {...}, by="web form", at=now)])

Handlers get batches: a single-lead path publishes a batch of one, the import and the demo
publish their rows a chunk at a time, and a path that commits lead by lead (a bulk move) gathers
its events into one batch with `gathered()`. A handler runs after the commit, in the process
that made the change, so it should only enqueue durable work (a task), never do the work itself.
A handler that raises is logged and skipped: it stops neither the other handlers nor the
caller.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


class EventName(StrEnum):
    LEAD_CREATED = "lead_created"
    LEAD_MERGED = "lead_merged"
    LEAD_BECAME_SALES_READY = "lead_became_sales_ready"
    STATUS_CHANGED = "status_changed"
    ASSIGNED = "assigned"
    # Published by distribution: routing placed the lead, a rep claimed it from a pool, a
    # partner rejected it.
    LEAD_ROUTED = "lead_routed"
    LEAD_CLAIMED = "lead_claimed"
    PARTNER_REJECTED = "partner_rejected"


@dataclass(frozen=True)
class LeadEvent:
    """One thing that happened to one lead. `data` is JSON-safe, `by` the actor's label."""

    name: EventName
    lead_id: int
    data: Mapping[str, Any]
    by: str
    at: dt.datetime


Handler = Callable[[Sequence[LeadEvent]], None]

_handlers: dict[EventName, list[Handler]] = defaultdict(list)
# Writes the events outbound webhooks want inside the publishing transaction (webhook_feed.write,
# set by LeadsConfig.ready; a setter rather than an import, so the two modules form no cycle).
_outbox: Handler | None = None
_recorders: list[list[LeadEvent]] = []
_gathering: ContextVar[list[LeadEvent] | None] = ContextVar("lead_events_gathering", default=None)


def subscribe(name: EventName, handler: Handler) -> None:
    """Call `handler` with every committed batch of `name` events (once, however often asked)."""
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def publish(events: Iterable[LeadEvent]) -> None:
    """Deliver `events` after the surrounding transaction commits (at once outside one).

    A rolled-back transaction delivers nothing. The events outbound webhooks want are written
    at once, in the surrounding transaction (`webhook_feed`), so they commit with the change.
    """
    batch = list(events)
    if not batch:
        return
    if _outbox is not None:
        _outbox(batch)
    gathering = _gathering.get()
    if gathering is not None:
        transaction.on_commit(partial(gathering.extend, batch))
    else:
        transaction.on_commit(partial(_deliver, batch))


@contextmanager
def gathered() -> Iterator[None]:
    """Deliver what is published inside the block as one batch, when the block ends.

    For a path that commits lead by lead (a bulk move of 500 leads): its listeners get one batch
    to summarise, not 500. Only what committed is delivered; inside an outer transaction the
    batch waits for that transaction's commit. A nested block joins the outer one.
    """
    if _gathering.get() is not None:
        yield
        return
    batch: list[LeadEvent] = []
    token = _gathering.set(batch)
    try:
        yield
    finally:
        _gathering.reset(token)
        # Registered after every event's own callback, so it runs after them: at once when each
        # lead committed on its own, else after the outer commit, and never after a rollback.
        transaction.on_commit(partial(_deliver_gathered, batch))


def _deliver_gathered(batch: list[LeadEvent]) -> None:
    if batch:
        _deliver(batch)


def _deliver(batch: list[LeadEvent]) -> None:
    for recorder in _recorders:
        recorder.extend(batch)
    by_name: dict[EventName, list[LeadEvent]] = defaultdict(list)
    for event in batch:
        by_name[event.name].append(event)
    for name, group in by_name.items():
        for handler in list(_handlers.get(name, ())):
            try:
                handler(group)
            except Exception:
                # One broken listener must not cost the others their events, nor the caller
                # (the intake) its answer: the change itself is already committed.
                logger.exception(
                    "lead event handler failed event=%s handler=%s count=%d",
                    name,
                    getattr(handler, "__qualname__", repr(handler)),
                    len(group),
                )


def set_outbox(writer: Handler | None) -> None:
    """Have `writer` see every published batch in its transaction, before the commit."""
    global _outbox
    _outbox = writer


def subscribers(name: EventName) -> list[Handler]:
    """The handlers subscribed to `name`, in order (for tests and diagnostics)."""
    return list(_handlers.get(name, ()))


@contextmanager
def isolated() -> Iterator[None]:
    """Run with no subscribers, and put the real ones back afterwards (tests)."""
    saved = {name: list(handlers) for name, handlers in _handlers.items()}
    _handlers.clear()
    try:
        yield
    finally:
        _handlers.clear()
        _handlers.update(saved)


@contextmanager
def recording() -> Iterator[list[LeadEvent]]:
    """Collect every event delivered inside the block, in delivery order (tests)."""
    seen: list[LeadEvent] = []
    _recorders.append(seen)
    try:
        yield seen
    finally:
        _recorders.remove(seen)
