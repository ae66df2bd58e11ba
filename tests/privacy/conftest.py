"""A person who came in through the intake, with a note, an edit and a second (merged) lead."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup import services as merging
from leadloop.assessment.scoring import services as config
from leadloop.core import ratelimit
from leadloop.intake import services as intake
from leadloop.intake.models import RawSubmission
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead
from tests.factories.leads import make_source

# Values nobody else in the test data has, so a scan for them finds only this person.
PERSON = {
    "first_name": "Zoraida",
    "last_name": "Quixwell",
    "email": "zoraida.quixwell@example.com",
    "phone": "+31 6 4127 9983",
    "street": "Brouwersgracht",
    "house_number": "77",
    "postal_code": "1015 GH",
    "city": "Zaandijk",
    "company_name": "Quixwell Tuinen",
    "job_title": "Hoofd Kwekerij",
    "hobby": "valkerij",
}
IP = "81.204.177.77"
NEEDLES = (
    "zoraida", "quixwell", "412 79983", "41279983", "brouwersgracht", "1015 gh", "1015gh",
    "zaandijk", "kwekerij", "valkerij", "81.204.177.77", "quixbrowser", "quixfp77aa",
    "mornings only",
)  # fmt: skip


@dataclass
class Person:
    lead: Lead
    second: Lead
    submissions: list[RawSubmission]


def submit(source, fields, *, meta=None):
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps(fields).encode(),
        content_type="application/json",
        headers={"User-Agent": "QuixBrowser/1.0", "X-Forwarded-For": IP},
        meta={
            "ip": IP,
            "user_agent": "QuixBrowser/1.0",
            "fingerprint": "quixfp77aa",
            **(meta or {}),
        },
    )
    return intake.process_submission(submission.pk)


_limit_keys = itertools.count(1)


def submit_throttled(source, body, *, content_type="application/x-www-form-urlencoded"):
    """A post over an intake rate limit: stored THROTTLED, never parsed (its `fields` empty)."""
    limit = ratelimit.Limit(key=f"test-privacy:{next(_limit_keys)}", allowed=1, window=3600)
    ratelimit.hit(limit)  # the one post the limit allows
    return intake.receive(
        source=source, channel="http", body=body, content_type=content_type, throttle=[limit]
    )


@pytest.fixture
def web(db):
    source = make_source("Web NL", country="NL", on_invalid="reject")
    config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    return source


@pytest.fixture
def person(web, marketing):
    first = submit(web, PERSON)
    lead = Lead.objects.get(pk=first.lead_id)
    leads_services.log_activity(
        lead, kind="note", message="Quixwell wants calls mornings only", by=marketing
    )
    leads_services.update_lead(lead, {"city": "Zaandijk-Oost"}, by=marketing)
    leads_services.update_lead(lead, {"city": "Zaandijk"}, by=marketing)
    second_fields = {**PERSON, "first_name": "Zora", "email": "z.quixwell@example.com"}
    second = submit(web, second_fields)
    second_lead = Lead.objects.get(pk=second.lead_id)
    merging.merge_leads(lead, second_lead, field_choices={}, by=marketing)
    return Person(
        lead=Lead.objects.get(pk=lead.pk),
        second=Lead.objects.get(pk=second_lead.pk),
        submissions=[first, second],
    )
