"""Raw bulk inserts of leads and timeline rows: the bulk writer of batch imports and the demo."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.leads import events, lifecycle
from leadloop.leads.models import Activity, ActivityKind, ActorKind, Lead, LeadStatus, Source
from leadloop.leads.services.changes import actor_label, created_events, derived_values


class RawTable:
    """Column order, defaults and adapters for raw multi-row inserts into one model's table.

    Django's bulk_create costs about 130 µs a row here against a few µs for executemany (SQLite)
    or COPY (PostgreSQL); the demo loader and the batch import write through this instead. Values
    are adapted exactly as the ORM would store them, so the rows read back the same.
    """

    def __init__(self, model: Any, *, with_pk: bool) -> None:
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        sqlite = connection.vendor == "sqlite"
        self.table = connection.ops.quote_name(model._meta.db_table)
        self.columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        self.attnames = [f.attname for f in fields]
        adapters: list[Callable[[Any], Any] | None] = []
        for f in fields:
            kind = f.get_internal_type()
            if kind == "JSONField":
                adapters.append(lambda v: v if isinstance(v, str) else json.dumps(v))
            elif sqlite and kind == "DateTimeField":
                # Django keeps aware datetimes in SQLite as naive UTC text; match the ORM.
                adapters.append(
                    lambda v: v if v is None else str(v.astimezone(dt.UTC).replace(tzinfo=None))
                )
            elif sqlite and kind == "DecimalField":
                adapters.append(lambda v: v if v is None else str(v))
            else:
                adapters.append(None)
        self.adapters = adapters
        self.defaults = [
            (adapt(f.get_default()) if adapt else f.get_default())
            for f, adapt in zip(fields, adapters, strict=True)
        ]

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            default if name not in values else (adapt(values[name]) if adapt else values[name])
            for name, adapt, default in zip(
                self.attnames, self.adapters, self.defaults, strict=True
            )
        )

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.attnames))
                cursor.executemany(
                    f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})",  # noqa: S608
                    rows,
                )


# --- Many new leads at once ----------------------------------------------------------------------


@functools.cache
def _tables(vendor: str) -> tuple[RawTable, RawTable]:
    del vendor  # the cache key: column adapters differ per database
    return RawTable(Lead, with_pk=True), RawTable(Activity, with_pk=False)


def owner_columns(by: Actor) -> dict[str, Any]:
    """Who owns a new lead `by` makes, as columns (the rule `prepare_lead` applies to one)."""
    if not isinstance(by, User):
        return {}
    columns: dict[str, Any] = {"created_by_id": by.pk}
    if by.role == Role.SALES_REP:
        columns.update(assigned_to_id=by.pk, team_id=by.team_id)
    elif by.role == Role.SALES_MANAGER:
        team_id = by.team_id or by.managed_teams.values_list("pk", flat=True).first()
        columns.update(team_id=team_id) if team_id else columns.update(assigned_to_id=by.pk)
    elif by.role == Role.PARTNER:
        columns.update(owner_partner_id=by.partner_id)
    return columns


def _actor_columns(by: Actor) -> dict[str, Any]:
    if isinstance(by, SystemActor):
        return {"actor_kind": ActorKind.SYSTEM, "actor_label": by.label}
    if isinstance(by, SourceActor):
        return {"actor_kind": ActorKind.SOURCE, "actor_label": by.source_name}
    kind = ActorKind.PARTNER if by.role == Role.PARTNER else ActorKind.USER
    return {"actor_kind": kind, "actor_user_id": by.pk, "actor_label": by.display_name}


def _reserve_lead_ids(count: int) -> list[int]:
    """Ids for `count` new leads (PostgreSQL): from the table's own sequence, safe beside others."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Lead._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_leads(table: RawTable, values: list[dict[str, Any]]) -> list[int]:
    """Insert leads; their ids, in order."""
    if connection.vendor == "postgresql":
        ids = _reserve_lead_ids(len(values))
        table.insert([table.row({**v, "id": pk}) for v, pk in zip(values, ids, strict=True)])
        return ids
    # SQLite: the transaction holds the only write lock, so an AUTOINCREMENT table numbers the
    # rows consecutively, ending at last_insert_rowid() (which triggers leave untouched).
    table.insert([table.row(v) for v in values])
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
    return list(range(last - len(values) + 1, last + 1))


def insert_new_leads(
    rows: Sequence[Mapping[str, Any]],
    *,
    source: Source,
    by: Actor,
    notes: Sequence[Mapping[str, Any]],
    at: dt.datetime,
    owner: Mapping[str, Any] | None = None,
) -> list[int]:
    """Insert many cleaned leads of `source` and one "created" timeline entry each; their ids.

    Set-based (executemany on SQLite, COPY on PostgreSQL) for batch imports. The rows are the
    ones `save_new_lead` writes: the owner by `by` (or `owner`, worked out once per batch), the
    derived columns (unless a row brings its own `derived_values`, worked out in parallel), the
    timeline's row format with `notes[i]` in the entry. Publishes one batch of `lead_created`
    events after the commit. The caller holds the transaction.
    """
    if not rows:
        return []
    owned = owner_columns(by) if owner is None else dict(owner)
    lead_table, activity_table = _tables(connection.vendor)
    values = [
        {
            **owned,
            **row,
            **({} if "search_text" in row else derived_values(row)),
            "source_id": source.pk,
            "created_at": at,
            "updated_at": at,
            **({"status_changed_at": at} if row.get("status") else {}),
            **({"closed_at": at} if row.get("status") in lifecycle.CLOSED else {}),
        }
        for row in rows
    ]
    ids = _insert_leads(lead_table, values)
    actor = _actor_columns(by)
    activity_table.insert(
        [
            activity_table.row(
                {
                    **actor,
                    "lead_id": pk,
                    "kind": ActivityKind.CREATED,
                    "data": json.dumps({"source": source.name, **note}),
                    "created_at": at,
                }
            )
            for pk, note in zip(ids, notes, strict=True)
        ]
    )
    label = actor_label(by)
    events.publish(
        event
        for pk, row in zip(ids, values, strict=True)
        for event in created_events(
            pk, status=row.get("status") or LeadStatus.NEW, source_id=source.pk, by=label, at=at
        )
    )
    return ids


def publish_created(
    leads: Sequence[tuple[int, str, int]], *, by: Actor | str, at: dt.datetime
) -> None:
    """Announce leads written by a loader that keeps its own rows (the demo's histories):
    `(lead id, status, source id)` each, one batch."""
    events.publish(
        event
        for pk, status, source_id in leads
        for event in created_events(pk, status=status, source_id=source_id, by=by, at=at)
    )
