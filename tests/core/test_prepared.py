"""Prepared hot-path statements write and read rows exactly as the ORM does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from leadloop.core import prepared
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import Lead, Source


def test_insert_writes_the_row_the_orm_reads_back(source):
    at = timezone.now().replace(microsecond=123456)
    lead = Lead(
        source=source,
        first_name="Zoë",
        email="zoe@example.com",
        order_value=Decimal("1234.50"),
        extra={"nested": {"list": [1, 2]}, "text": "O'Brien"},
        created_at=at,
        updated_at=at,
    )
    prepared.insert(lead)
    assert lead.pk
    assert not lead._state.adding
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.first_name == "Zoë"
    assert stored.order_value == Decimal("1234.50")
    assert stored.extra == {"nested": {"list": [1, 2]}, "text": "O'Brien"}
    assert stored.created_at == at
    assert stored.status == Lead._meta.get_field("status").get_default()


def test_insert_many_writes_every_row_in_one_statement(source, django_assert_num_queries):
    at = timezone.now()
    leads = [
        Lead(source=source, first_name=name, order_value=Decimal(value), created_at=at,
             updated_at=at)
        for name, value in (("Ann", "1.10"), ("Bo'b", "2.25"), ("Zoë", "0"))
    ]  # fmt: skip
    with django_assert_num_queries(1):
        prepared.insert_many(leads)
    prepared.insert_many([])  # nothing to write, no statement
    stored = {lead.first_name: lead.order_value for lead in Lead.objects.filter(source=source)}
    assert stored == {"Ann": Decimal("1.10"), "Bo'b": Decimal("2.25"), "Zoë": Decimal("0.00")}
    assert not any(lead._state.adding for lead in leads)


def _submission(source):
    submission = RawSubmission(
        source=source,
        channel="http",
        body=b"{}",
        body_sha256="x",
        received_at=timezone.now(),
        meta={"ip": "192.0.2.1"},
    )
    prepared.insert(submission)
    return submission


def test_update_with_a_condition_changes_the_row_only_while_the_condition_holds(source):
    submission = _submission(source)
    submission.state = SubmissionState.PROCESSED
    submission.reasons = [{"code": "ok"}]
    fields = ("state", "reasons")
    assert prepared.update(submission, fields, where={"state": SubmissionState.RECEIVED}) == 1
    assert prepared.update(submission, fields, where={"state": SubmissionState.RECEIVED}) == 0
    stored = RawSubmission.objects.get(pk=submission.pk)
    assert (stored.state, stored.reasons) == (SubmissionState.PROCESSED, [{"code": "ok"}])


def test_get_by_converts_values_like_the_orm(source):
    found = prepared.get_by(Source, "name", source.name)
    expected = Source.objects.get(pk=source.pk)
    assert isinstance(found, Source)
    assert [getattr(found, f.attname) for f in Source._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in Source._meta.concrete_fields
    ]
    assert prepared.get_by(Source, "name", "no such source") is None


def test_get_by_returns_aware_datetimes(source):
    submission = _submission(source)
    found = prepared.get_by(RawSubmission, "id", submission.pk)
    assert isinstance(found, RawSubmission)
    assert found.received_at.tzinfo is not None
    assert abs(found.received_at - submission.received_at) < dt.timedelta(microseconds=1)
    assert found.meta == {"ip": "192.0.2.1"}


def _comparable(values):
    # PostgreSQL wraps JSON in psycopg's Jsonb, which compares by identity: compare what it holds.
    return [(type(v), v.obj) if hasattr(v, "obj") else (type(v), v) for v in values]


def _orm_params(instance, add):
    from django.db import connection

    fields = [f for f in type(instance)._meta.concrete_fields if not f.primary_key]
    return [f.get_db_prep_save(f.pre_save(instance, add), connection) for f in fields]


def test_values_are_adapted_as_the_orm_adapts_them(source):
    from django.db import connection

    at = timezone.now()
    lead = Lead(
        source=source,
        first_name="Zoë",
        last_name=5,  # not a string: goes the ORM's way and is stored as "5"
        email="zoe@example.com",
        order_value=Decimal("12.30"),
        extra={"a": [1]},
        fraud_score=True,  # a bool in an integer column becomes 1, as the ORM makes it
        client_ip="192.0.2.1",
        created_at=at,
        updated_at=at,
    )
    submission = RawSubmission(
        source=source, channel="http", body=b"{}", body_sha256="x", received_at=at, meta={}
    )
    for instance in (lead, submission):
        model_fields = [f for f in type(instance)._meta.concrete_fields if not f.primary_key]
        plan = prepared._plan(model_fields, connection)
        fast = prepared._params(plan, instance, connection, add=True)
        assert _comparable(fast) == _comparable(_orm_params(instance, True))
    assert "5" in prepared._params(
        prepared._plan(Lead._meta.concrete_fields, connection), lead, connection, add=True
    )
