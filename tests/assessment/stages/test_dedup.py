"""A duplicate at intake: merged, flagged for review, or allowed, per source policy."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.findings import render
from leadloop.assessment.models import DuplicatePair, PairState
from leadloop.assessment.scoring import services as config
from leadloop.intake import services as intake
from leadloop.intake.models import Disposition, SubmissionState
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadHold, LeadStatus
from tests.factories.leads import make_source

ANN = {
    "first_name": "Ann",
    "last_name": "Smit",
    "email": "ann.smit@example.com",
    "phone": "0612345678",
    "postal_code": "1234 AB",
    "house_number": "5",
}


@pytest.fixture
def nl(db):
    return make_source("Web NL", country="NL")


def _policy(source, action):
    config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate=action
    )


def _submit(source, fields):
    submission = intake.receive(
        source=source, channel="http", body=json.dumps(fields).encode(),
        content_type="application/json",
    )  # fmt: skip
    return intake.process_submission(submission.pk)


def test_policy_merge_folds_the_new_submission_into_the_existing_lead(nl):
    _policy(nl, "merge")
    first = _submit(nl, ANN)
    other_source = make_source("Partner feed", country="NL")
    _policy(other_source, "merge")

    second = _submit(other_source, {**ANN, "email": "ANN.SMIT@example.com", "city": "Utrecht"})

    existing = Lead.objects.get(pk=first.lead_id)
    touchpoint = Activity.objects.get(lead=existing, kind=ActivityKind.FORM_SUBMITTED)
    assert second.state == SubmissionState.PROCESSED
    assert second.disposition == Disposition.DUPLICATE
    assert second.lead_id == existing.pk
    assert Lead.objects.count() == 1
    assert existing.city == "Utrecht"
    assert touchpoint.data["source_id"] == other_source.pk
    assert "same e-mail" in touchpoint.data["match"]["reasons"]
    assert DuplicatePair.objects.count() == 0


def test_policy_review_keeps_the_lead_held_with_an_open_pair(nl):
    _policy(nl, "review")
    first = _submit(nl, ANN)

    second = _submit(nl, {**ANN, "first_name": "Anne", "email": "a.smit@work.example"})

    lead = Lead.objects.get(pk=second.lead_id)
    pair = DuplicatePair.objects.get()
    found = next(f for f in lead.assessment["findings"] if f["code"] == "duplicate")
    assert lead.pk != first.lead_id
    assert lead.hold == LeadHold.DUPLICATE_REVIEW
    assert lead.status == LeadStatus.NEW
    assert (pair.lead_id, pair.other_id, pair.state) == (lead.pk, first.lead_id, PairState.OPEN)
    assert render(found).startswith(f"possible duplicate of lead #{first.lead_id} (0.9")
    assert lead.assessment["duplicate"]["lead_id"] == first.lead_id


def test_policy_allow_keeps_the_lead_unflagged_but_remembers_the_pair(nl):
    _policy(nl, "allow")
    first = _submit(nl, ANN)

    second = _submit(nl, {**ANN, "email": "ann@elsewhere.example"})

    lead = Lead.objects.get(pk=second.lead_id)
    assert lead.pk != first.lead_id
    assert lead.hold is None
    assert lead.status != LeadStatus.NEW
    assert DuplicatePair.objects.filter(lead=lead, other_id=first.lead_id).count() == 1


def test_a_different_person_goes_in_without_a_pair(nl):
    _policy(nl, "review")
    _submit(nl, ANN)

    second = _submit(nl, {"first_name": "Bart", "last_name": "Kok", "email": "bart@kok.example"})

    lead = Lead.objects.get(pk=second.lead_id)
    assert lead.hold is None
    assert DuplicatePair.objects.count() == 0
    assert [f for f in lead.assessment["findings"] if f["stage"] == "dedup"] == []
