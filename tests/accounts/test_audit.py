"""The audit log itself: one row per event, append-only in the ORM and in the database."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from leadloop.accounts.actors import CLI, SYSTEM, SourceActor
from leadloop.accounts.audit import prune_audit, record_audit, record_audit_many
from leadloop.accounts.models import AppendOnly, AuditAction, AuditEvent, AuditTarget, Role
from tests.factories.accounts import make_user

TABLE = AuditEvent._meta.db_table


def _record(actor, **overrides):
    values = {
        "actor": actor,
        "action": AuditAction.LEAD_VIEWED,
        "target_type": AuditTarget.LEAD,
        "target_id": 7,
    }
    return record_audit(**{**values, **overrides})


def test_an_event_keeps_who_what_which_and_where_from(rep, settings):
    settings.LEADLOOP_TRUSTED_PROXIES = "10.0.0.0/8"
    request = RequestFactory().get(
        "/leads/7/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        HTTP_X_REQUEST_ID="req-42",
    )

    event = _record(rep, request=request, data={"fields": ["email"]})

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_label) == (rep.pk, "rep")
    assert (stored.action, stored.target_type, stored.target_id, stored.target_label) == (
        "lead_viewed",
        "lead",
        "7",
        "#7",
    )
    assert stored.data == {"fields": ["email"]}
    assert (stored.ip, stored.method, stored.path, stored.request_id) == (
        "203.0.113.9",
        "GET",
        "/leads/7/",
        "req-42",
    )


@pytest.mark.parametrize(
    ("actor", "label"),
    [(SYSTEM, "system"), (CLI, "cli"), (SourceActor(source_id=3, source_name="Web"), "source:3")],
)
def test_actors_without_a_user_row_are_named_as_text(db, actor, label):
    event = _record(actor)

    assert (event.actor_id, event.actor_label) == (None, label)


def test_a_hostile_request_id_is_not_kept(rep):
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="<script>alert(1)</script>")

    event = _record(rep, request=request)

    assert event.request_id == ""


def test_views_are_not_recorded_when_switched_off_but_changes_are(rep, settings):
    settings.LEADLOOP_AUDIT_VIEWS = False

    viewed = _record(rep)
    changed = _record(rep, action=AuditAction.LEAD_CHANGED)

    assert viewed is None
    assert list(AuditEvent.objects.filter(target_type="lead").values_list("action", flat=True)) == [
        changed.action
    ]


def test_many_targets_are_one_event_with_their_count_and_ids_up_to_a_limit(rep):
    few = record_audit_many(
        actor=rep, action=AuditAction.LEAD_EXPORTED, target_type="lead", target_ids=[3, 1, 2]
    )
    many = record_audit_many(
        actor=rep, action=AuditAction.LEAD_EXPORTED, target_type="lead", target_ids=range(500)
    )

    assert few.data == {"count": 3, "ids": [3, 1, 2]}
    assert many.data == {"count": 500}
    assert (few.target_id, many.target_label) == ("", "500 × lead")


def test_the_orm_refuses_to_change_or_delete_an_event(rep):
    event = _record(rep)

    event.action = AuditAction.LOGIN
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="login")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.LEAD_VIEWED


@pytest.mark.parametrize(
    "sql",
    [
        f"UPDATE {TABLE} SET action = 'login'",
        f"UPDATE {TABLE} SET actor_label = 'someone else' WHERE id = %s",
        f"DELETE FROM {TABLE} WHERE id = %s",
        f"DELETE FROM {TABLE}",
    ],
)
def test_the_database_refuses_update_and_delete_in_raw_sql(rep, sql):
    event = _record(rep)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk] if "%s" in sql else None)

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.actor_label) == ("lead_viewed", "rep")


def test_an_event_outlives_its_user(db):
    user = make_user(Role.SALES_REP, username="leaver")
    event = _record(user)

    user.delete()

    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_id, stored.actor_label) == (event.actor_id, "leaver")


def test_prune_removes_older_events_and_says_so(rep):
    with time_machine.travel(dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC), tick=False):
        _record(rep, target_id=1)
        _record(rep, target_id=2)
    kept = _record(rep, target_id=3)

    removed = prune_audit(before=dt.datetime(2026, 2, 1, tzinfo=dt.UTC), by=CLI)

    assert removed == 2
    remaining = AuditEvent.objects.exclude(action=AuditAction.USER_CREATED).order_by("id")
    assert list(remaining.values_list("action", "target_id")) == [
        ("lead_viewed", kept.target_id),
        ("audit_pruned", ""),
    ]
    pruned = AuditEvent.objects.get(action=AuditAction.AUDIT_PRUNED)
    assert (pruned.actor_label, pruned.data) == (
        "cli",
        {"before": "2026-02-01T00:00:00Z", "removed": 2},
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")


def test_flush_empties_the_table_and_keeps_the_guard(rep):
    _record(rep)

    statements = connection.ops.sql_flush(no_style(), [TABLE])
    connection.ops.execute_sql_flush(statements)

    assert AuditEvent.objects.count() == 0
    event = _record(rep)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():  # noqa: SIM117
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])


def test_the_cli_prune_counts_first_and_deletes_only_with_yes(rep, capsys):
    _record(rep)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    call_command("audit", "prune", "--before", tomorrow)
    counted = AuditEvent.objects.count()
    call_command("audit", "prune", "--before", tomorrow, "--yes")

    assert counted >= 1
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["audit_pruned"]
