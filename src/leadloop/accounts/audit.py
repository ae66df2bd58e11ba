"""The audit trail: who viewed, exported, changed, erased or downloaded which lead, and who
changed which setting, rule, source or user.

Two verbs, both append-only: `record_audit` writes one event, `record_audit_many` one event about
many targets (an export). Nothing here updates or deletes an event; the database refuses that too
(migration accounts 0003). Services call these in the transaction that makes the change, so a
change that rolls back leaves no event; a view records what it showed or sent.

An event names a lead by its id only. `data` holds field names, counts and filters, never the
values a person typed: the log must not become a second copy of the personal data it watches.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import AuditAction, AuditEvent, AuditTarget
from leadloop.core import prepared
from leadloop.core.client_ip import client_ip

logger = logging.getLogger(__name__)

# Views are the one kind of event an operator may switch off (LEADLOOP_AUDIT_VIEWS=false).
VIEW_ACTIONS = frozenset({AuditAction.LEAD_VIEWED})
# An event about many targets lists their ids up to this many; past it, only their number.
MANY_IDS_LIMIT = 200
_REQUEST_ID = re.compile(r"^[\w.:-]{1,64}$")
# The request being answered, so a service deep in a call records the client's address too.
_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


@contextmanager
def request_context(request: HttpRequest) -> Iterator[None]:
    """While answering `request`, events recorded without one take its address, method and path."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def actor_label(actor: Actor | Any | None) -> str:
    """The actor as text that outlives the user row: username, `source:<id>` or the system label."""
    if actor is None:
        return "anonymous"
    if isinstance(actor, SystemActor):
        return actor.label[:150]
    if isinstance(actor, SourceActor):
        return f"source:{actor.source_id}"
    if not getattr(actor, "is_authenticated", False):
        return "anonymous"
    return str(actor.get_username())[:150]


def _actor_id(actor: Actor | Any | None) -> int | None:
    if actor is None or isinstance(actor, SystemActor | SourceActor):
        return None
    if not getattr(actor, "is_authenticated", False):
        return None
    pk = getattr(actor, "pk", None)
    return pk if isinstance(pk, int) else None


def _request_columns(request: HttpRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    request_id = request.headers.get("X-Request-ID", "")
    return {
        "ip": client_ip(request)[:45],
        "method": (request.method or "")[:8],
        "path": request.path[:300],
        "request_id": request_id if _REQUEST_ID.match(request_id) else "",
    }


def views_are_recorded() -> bool:
    """Whether lead views are written to the audit log (LEADLOOP_AUDIT_VIEWS, on by default)."""
    return bool(settings.LEADLOOP_AUDIT_VIEWS)


def record_audit(
    *,
    actor: Actor | Any | None,
    action: str,
    target_type: str,
    target_id: int | str | None,
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
    target_label: str = "",
) -> AuditEvent | None:
    """Append one event: `actor` did `action` to the `target_type` with `target_id`.

    `actor` is a user, the system, a source key, or None/anonymous (a failed login). `request`
    adds the client's address, method and path. `target_label` is a short name that is not
    personal data (a source's name, a username); a lead gets `#<id>`. `data` holds field names,
    counts and filters, never personal values. Returns None only for a lead view while view
    logging is off. One INSERT, in the caller's transaction when there is one.
    """
    if action in VIEW_ACTIONS and not views_are_recorded():
        return None
    target = "" if target_id is None else str(target_id)[:64]
    event = AuditEvent(
        at=timezone.now(),
        actor_id=_actor_id(actor),
        actor_label=actor_label(actor),
        action=action,
        target_type=target_type[:40],
        target_id=target,
        # Named by number unless told otherwise: a lead's own text may be personal data.
        target_label=(target_label or (f"#{target}" if target else ""))[:200],
        data=dict(data or {}),
        **_request_columns(request or _current_request.get()),
    )
    # The compiled INSERT skips the ORM's per-call query building: a lead page pays one
    # statement for its view event (bench/audit_cost.py measures what that costs).
    prepared.insert(event)
    return event


def record_audit_many(
    *,
    actor: Actor | Any | None,
    action: str,
    target_type: str,
    target_ids: Sequence[int | str] = (),
    count: int | None = None,
    data: Mapping[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent | None:
    """Append one event about many targets (an export, a bulk action): how many, and which ids
    when there are at most MANY_IDS_LIMIT of them. `count` defaults to len(target_ids)."""
    total = len(target_ids) if count is None else count
    details: dict[str, Any] = {**(data or {}), "count": total}
    if target_ids and len(target_ids) <= MANY_IDS_LIMIT:
        details["ids"] = [int(i) if str(i).isdigit() else str(i) for i in target_ids]
    return record_audit(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None,
        data=details,
        request=request,
        target_label=f"{total} × {target_type}",
    )


@transaction.atomic
def prune_audit(*, before: Any, by: Actor) -> int:
    """Delete the events older than `before`, leaving an `audit_pruned` event that says so.

    The one way past the append-only guard, for an operator's retention decision: the delete
    trigger is dropped and re-created inside this transaction, so no other statement ever runs
    without it (SQLite and PostgreSQL both make DDL transactional).
    """
    table = AuditEvent._meta.db_table
    trigger = f"{table}_no_delete"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger]
            )
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError(f"The trigger {trigger} is missing; run `leadloop migrate`.")
            cursor.execute(f"DROP TRIGGER {trigger}")
            cursor.execute(f"DELETE FROM {table} WHERE at < %s", [before])  # noqa: S608
            removed = cursor.rowcount
            cursor.execute(row[0])
        elif connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            cursor.execute(f"DELETE FROM {table} WHERE at < %s", [before])  # noqa: S608
            removed = cursor.rowcount
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        else:  # pragma: no cover - the migration refuses other databases already
            raise RuntimeError(f"No audit prune for {connection.vendor}.")
    record_audit(
        actor=by,
        action=AuditAction.AUDIT_PRUNED,
        target_type=AuditTarget.AUDIT,
        target_id=None,
        data={"before": before, "removed": removed},
        target_label="audit",
    )
    logger.warning("audit log pruned before=%s removed=%d by=%s", before, removed, actor_label(by))
    return removed
