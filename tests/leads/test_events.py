"""leads.events: after-commit delivery, batches, failing handlers, one event per lead per path."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging

import pytest
from django.db import transaction

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.dedup.services import merge_leads
from leadloop.demo.dataset import load_demo
from leadloop.demo.dataset.loading import HELD_EXAMPLES
from leadloop.errors import InvalidTransition
from leadloop.intake import services as intake_services
from leadloop.intake.imports.bulk import import_file
from leadloop.intake.models import SubmissionState
from leadloop.leads import events, services
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import ChannelKind, Lead, LeadStatus
from tests.factories.leads import make_lead, make_source

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _event(lead_id: int = 1, name: EventName = EventName.LEAD_CREATED) -> LeadEvent:
    return LeadEvent(name=name, lead_id=lead_id, data={}, by="system", at=NOW)


def _names(seen: list[LeadEvent]) -> list[tuple[str, int]]:
    return [(e.name.value, e.lead_id) for e in seen]


@pytest.fixture
def handlers():
    """A clean registry for the test; the real subscribers come back afterwards."""
    with events.isolated():
        yield


def test_a_subscriber_gets_the_batch_after_the_commit_and_not_before(
    db, handlers, django_capture_on_commit_callbacks
):
    batches: list[list[LeadEvent]] = []
    events.subscribe(EventName.LEAD_CREATED, lambda batch: batches.append(list(batch)))

    with django_capture_on_commit_callbacks(execute=True):
        events.publish([_event(1), _event(2), _event(3, EventName.ASSIGNED)])
        assert batches == []

    assert [[e.lead_id for e in b] for b in batches] == [[1, 2]]


def test_nothing_is_delivered_when_the_transaction_rolls_back(
    db, handlers, lead_events, django_capture_on_commit_callbacks
):
    batches: list[list[LeadEvent]] = []
    events.subscribe(EventName.LEAD_CREATED, lambda batch: batches.append(list(batch)))
    source = make_source()

    def create_then_fail() -> None:
        with transaction.atomic():
            assessment_services.create_lead({"email": "gone@example.com"}, source=source, by=SYSTEM)
            raise RuntimeError("roll back")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        create_then_fail()

    assert batches == []
    assert lead_events == []
    assert Lead.objects.filter(email="gone@example.com").count() == 0


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    db, handlers, django_capture_on_commit_callbacks, caplog
):
    def broken(batch):
        raise ValueError("boom")

    seen: list[int] = []
    events.subscribe(EventName.STATUS_CHANGED, broken)
    events.subscribe(EventName.STATUS_CHANGED, lambda batch: seen.extend(e.lead_id for e in batch))

    with (
        caplog.at_level(logging.ERROR, logger="leadloop.leads.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        events.publish([_event(7, EventName.STATUS_CHANGED)])

    assert seen == [7]
    assert "lead event handler failed" in caplog.text


def test_subscribing_twice_delivers_once(db, handlers, django_capture_on_commit_callbacks):
    seen: list[int] = []

    def handler(batch):
        seen.extend(e.lead_id for e in batch)

    events.subscribe(EventName.ASSIGNED, handler)
    events.subscribe(EventName.ASSIGNED, handler)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish([_event(4, EventName.ASSIGNED)])

    assert seen == [4]
    assert events.subscribers(EventName.ASSIGNED) == [handler]


def test_isolated_puts_the_real_subscribers_back(db):
    def handler(batch):
        pass

    before = events.subscribers(EventName.LEAD_MERGED)
    with events.isolated():
        events.subscribe(EventName.LEAD_MERGED, handler)
        assert events.subscribers(EventName.LEAD_MERGED) == [handler]

    assert events.subscribers(EventName.LEAD_MERGED) == before


def test_a_failing_subscriber_does_not_break_the_intake(
    db, handlers, lead_events, django_capture_on_commit_callbacks
):
    def broken(batch):
        raise RuntimeError("subscriber down")

    events.subscribe(EventName.LEAD_CREATED, broken)
    source = make_source()
    submission = intake_services.receive(
        source=source, channel="http", body=b'{"email": "ok@example.com"}',
        content_type="application/json",
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        done = intake_services.process_submission(submission.pk)

    assert done.state == SubmissionState.PROCESSED
    assert Lead.objects.filter(pk=done.lead_id).count() == 1
    assert _names(lead_events) == [("lead_created", done.lead_id)]


# --- One event per lead per path -----------------------------------------------------------------


def test_a_channel_post_publishes_lead_created_once(
    db, lead_events, django_capture_on_commit_callbacks
):
    source = make_source()
    submission = intake_services.receive(
        source=source, channel="http", body=b'{"email": "ann@example.com", "first_name": "Ann"}',
        content_type="application/json",
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        done = intake_services.process_submission(submission.pk)
        intake_services.process_submission(submission.pk)  # a retry adds nothing

    assert _names(lead_events) == [("lead_created", done.lead_id)]
    assert lead_events[0].by == source.name
    assert lead_events[0].data == {"status": LeadStatus.NURTURING, "source_id": source.pk}


def test_a_repeated_post_publishes_nothing_new(db, lead_events, django_capture_on_commit_callbacks):
    source = make_source()
    body = b'{"email": "twice@example.com"}'
    kind = "application/json"
    with django_capture_on_commit_callbacks(execute=True):
        first = intake_services.receive(source=source, channel="http", body=body, content_type=kind)
        intake_services.process_submission(first.pk)
        second = intake_services.receive(
            source=source, channel="http", body=body, content_type=kind
        )
        repeated = intake_services.process_submission(second.pk)

    assert repeated.lead_id == Lead.objects.get().pk
    assert [e.name for e in lead_events] == [EventName.LEAD_CREATED]


def test_the_ui_and_api_create_publishes_lead_created_once(
    api_client_for, admin, source, lead_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client_for(admin).post(
            "/api/v1/leads",
            {"source_id": source.pk, "email": "api@example.com"},
            content_type="application/json",
        )

    assert response.status_code == 201
    lead = Lead.objects.get(email="api@example.com")
    assert _names(lead_events) == [("lead_created", lead.pk)]
    assert lead_events[0].by == admin.display_name


def test_a_sales_ready_lead_also_publishes_became_sales_ready(
    db, admin, lead_events, django_capture_on_commit_callbacks
):
    lead = make_lead(make_source())

    with django_capture_on_commit_callbacks(execute=True):
        services.transition(lead, to=LeadStatus.SALES_READY, by=admin)

    assert _names(lead_events) == [
        ("status_changed", lead.pk),
        ("lead_became_sales_ready", lead.pk),
    ]
    assert lead_events[0].data == {"from": lead.status, "to": LeadStatus.SALES_READY}


def test_a_refused_status_change_publishes_nothing(
    db, admin, lead_events, django_capture_on_commit_callbacks
):
    lead = make_lead(make_source())

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        services.transition(lead, to=LeadStatus.WON, by=admin)

    assert lead_events == []


def test_assigning_publishes_assigned_and_the_status_move(
    db, manager, rep, lead_events, django_capture_on_commit_callbacks
):
    lead = make_lead(make_source())

    with django_capture_on_commit_callbacks(execute=True):
        services.assign_lead(lead, by=manager, to=rep, reason="Knows them")

    assert _names(lead_events) == [("assigned", lead.pk), ("status_changed", lead.pk)]
    assert lead_events[0].data == {
        "user_id": rep.pk,
        "team_id": rep.team_id,
        "partner_id": None,
        "by_user_id": manager.pk,
        "via": "manual",
        "reason": "Knows them",
    }


def _publish_then_fail(lead_id: int, *, gather: bool = False) -> None:
    with transaction.atomic(), events.gathered() if gather else contextlib.nullcontext():
        events.publish([_event(lead_id, EventName.ASSIGNED)])
        raise RuntimeError("the transaction rolls back")


def test_a_gathered_block_delivers_what_committed_as_one_batch_at_its_end(
    db, handlers, django_capture_on_commit_callbacks
):
    batches: list[list[int]] = []
    events.subscribe(EventName.ASSIGNED, lambda batch: batches.append([e.lead_id for e in batch]))

    with django_capture_on_commit_callbacks(execute=True), events.gathered():
        for lead_id in (1, 2, 3):
            with transaction.atomic():
                events.publish([_event(lead_id, EventName.ASSIGNED)])
        with pytest.raises(RuntimeError):
            _publish_then_fail(4)
        with events.gathered():
            events.publish([_event(5, EventName.ASSIGNED)])
        assert batches == []

    assert batches == [[1, 2, 3, 5]]


def test_a_gathered_block_inside_a_rolled_back_transaction_delivers_nothing(
    db, handlers, django_capture_on_commit_callbacks
):
    batches: list[list[int]] = []
    events.subscribe(EventName.ASSIGNED, lambda batch: batches.append([e.lead_id for e in batch]))

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        _publish_then_fail(1, gather=True)

    assert batches == []


def test_a_bulk_assignment_publishes_its_moves_as_one_batch(
    db, manager, rep, handlers, django_capture_on_commit_callbacks
):
    leads = [make_lead(make_source()) for _ in range(3)]
    batches: list[list[int]] = []
    events.subscribe(EventName.ASSIGNED, lambda batch: batches.append([e.lead_id for e in batch]))

    with django_capture_on_commit_callbacks(execute=True):
        services.bulk_assign(leads, by=manager, to=rep)

    assert batches == [[lead.pk for lead in leads]]


def test_merging_publishes_lead_merged_once(
    db, marketing, lead_events, django_capture_on_commit_callbacks
):
    source = make_source()
    keep = make_lead(source, email="keep@example.com")
    gone = make_lead(source, email="gone@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        merge = merge_leads(keep, gone, field_choices={}, by=marketing)

    merged = [e for e in lead_events if e.name == EventName.LEAD_MERGED]
    assert [(e.lead_id, dict(e.data)) for e in merged] == [
        (keep.pk, {"into": keep.pk, "merged": [gone.pk], "merge_id": merge.pk})
    ]


def test_a_batch_import_publishes_one_event_per_lead_in_batches(
    db, marketing, settings, tmp_path, handlers, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("CRM", kind=ChannelKind.IMPORT)
    path = tmp_path / "leads.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["E-mail", "Voornaam"])
        writer.writerows([f"p{n}@example.com", f"P{n}"] for n in range(5))
    batches: list[list[LeadEvent]] = []
    events.subscribe(EventName.LEAD_CREATED, lambda batch: batches.append(list(batch)))

    with django_capture_on_commit_callbacks(execute=True):
        report = import_file(path, source=source, by=marketing, workers=0, chunk_rows=2)

    created = list(Lead.objects.filter(source=source).order_by("pk").values_list("pk", flat=True))
    assert report.created == 5
    assert [[e.lead_id for e in b] for b in batches] == [created[:2], created[2:4], created[4:]]
    assert {e.by for b in batches for e in b} == {marketing.display_name}


def test_the_demo_publishes_lead_created_once_per_lead(
    db, lead_events, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo(leads=30, seed=3, now=NOW, chunk_size=10)

    created = [e.lead_id for e in lead_events if e.name == EventName.LEAD_CREATED]
    assert sorted(created) == sorted(Lead.objects.values_list("pk", flat=True))
    assert len(created) == 30 + len(HELD_EXAMPLES)  # the seed's leads and the held posts
