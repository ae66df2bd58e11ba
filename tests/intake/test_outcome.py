"""intake.outcome: deciding writes nothing, apply writes the outcome; the set-aside rule."""

from __future__ import annotations

import pytest

from leadloop.errors import ValidationFailed
from leadloop.intake import services
from leadloop.intake.models import Disposition, RawSubmission, SubmissionState
from leadloop.intake.outcome import (
    Created,
    HeldForReview,
    Quarantined,
    Rejected,
    Repeated,
    clean_keeping_lead,
)
from leadloop.intake.services.processing import _Settled
from leadloop.leads.models import Activity, Lead
from leadloop.leads.services import clean_lead_input
from tests.factories.leads import make_source


def _received(body: bytes, content_type: str = "application/json", **rules: str) -> RawSubmission:
    source = make_source(**rules)
    return services.receive(source=source, channel="http", body=body, content_type=content_type)


def test_deciding_a_good_post_is_created_and_writes_nothing(db):
    submission = _received(b'{"email": "ann@example.com", "first_name": "Ann"}')

    outcome = services.decide(submission)

    assert isinstance(outcome, Created)
    assert outcome.verdict.lead.pk is None
    assert outcome.verdict.lead.email == "ann@example.com"
    assert Lead.objects.count() == 0
    assert RawSubmission.objects.get(pk=submission.pk).state == SubmissionState.RECEIVED


def test_applying_created_saves_the_lead_and_settles_the_submission(db):
    submission = _received(b'{"email": "ann@example.com"}')
    outcome = services.decide(submission)

    done = services.apply(submission, outcome)

    lead = Lead.objects.get()
    assert (done.state, done.disposition, done.lead_id) == (
        SubmissionState.PROCESSED,
        Disposition.ACCEPTED,
        lead.pk,
    )
    assert Activity.objects.filter(lead=lead).count() == 1


def test_a_post_without_contact_is_rejected_with_the_reason(db):
    submission = _received(b'{"first_name": "Ann"}', on_invalid="reject")

    outcome = services.decide(submission)

    assert isinstance(outcome, Rejected)
    assert [r["code"] for r in outcome.reasons] == ["no_contact"]
    done = services.apply(submission, outcome)
    assert (done.state, Lead.objects.count()) == (SubmissionState.REJECTED, 0)


def test_a_machine_senders_post_without_contact_is_held_for_review(db):
    submission = _received(b'{"first_name": "Ann", "phone": "12"}')

    outcome = services.decide(submission)

    assert isinstance(outcome, HeldForReview)
    assert [r["code"] for r in outcome.reasons] == ["invalid"]
    done = services.apply(submission, outcome)
    assert (done.state, done.disposition) == (SubmissionState.QUARANTINED, Disposition.REVIEW)
    assert done.fields == {"first_name": "Ann", "phone": "12"}
    assert Lead.objects.count() == 0


def test_a_web_form_source_rejects_by_default(db):
    submission = _received(b'{"first_name": "Ann"}', kind="web_form")

    assert isinstance(services.decide(submission), Rejected)


def test_an_unreadable_post_is_quarantined(db):
    submission = _received(b'{"email": ', content_type="application/json")

    outcome = services.decide(submission)

    assert isinstance(outcome, Quarantined)
    assert outcome.reasons[0]["code"] == "parse_error"
    assert services.apply(submission, outcome).state == SubmissionState.QUARANTINED


def test_the_same_bytes_again_are_repeated_with_the_first_lead(db):
    first = _received(b'{"email": "ann@example.com"}')
    services.process_submission(first.pk)
    again = services.receive(
        source=first.source, channel="http", body=first.body, content_type="application/json"
    )

    outcome = services.decide(again)

    assert isinstance(outcome, Repeated)
    assert outcome.lead_id == Lead.objects.get().pk


def test_applying_twice_raises_settled_and_the_first_write_stands(db):
    submission = _received(b'{"email": "ann@example.com"}')
    services.apply(submission, services.decide(submission))
    stale = RawSubmission.objects.get(pk=submission.pk)
    stale.state = SubmissionState.RECEIVED

    with pytest.raises(_Settled):
        services.apply(stale, Rejected([{"code": "late", "message": "late"}]))

    assert RawSubmission.objects.get(pk=submission.pk).state == SubmissionState.PROCESSED


def _clean(data):
    return clean_lead_input(data, default_region="NL")


def test_a_bad_value_is_set_aside_and_the_lead_kept():
    values, warnings = clean_keeping_lead({"email": "ann@example.com", "phone": "12"}, _clean)

    assert values is not None
    assert values["email"] == "ann@example.com"
    assert values["extra"] == {"invalid.phone": "12"}
    assert [(w["code"], w["field"]) for w in warnings] == [("set_aside", "phone")]


def test_a_lead_left_without_contact_is_refused_with_every_reason():
    values, reasons = clean_keeping_lead({"email": "not-an-email"}, _clean)

    assert values is None
    assert [(r["code"], r["field"]) for r in reasons] == [("invalid", "email")]


def test_an_error_without_fields_is_refused():
    def refuse(data):
        raise ValidationFailed("No.")

    values, reasons = clean_keeping_lead({"email": "ann@example.com"}, refuse)

    assert values is None
    assert reasons == [{"code": "invalid", "message": "No."}]
