"""A person's copy of their data: every lead, timeline, submission, consent and objection."""

from __future__ import annotations

import base64
import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.errors import NotAllowed, NotFound
from leadloop.intake import services as intake
from leadloop.leads.models import Activity
from leadloop.privacy import services
from leadloop.privacy.registry import SECTIONS
from leadloop.privacy.selectors import PersonQuery
from tests.privacy.conftest import PERSON


def test_export_holds_every_lead_timeline_submission_and_merge(person, marketing):
    doc = services.export_person(PersonQuery(email=PERSON["email"]), by=marketing)

    assert doc["format"] == "leadloop.person-export/1"
    assert [lead["id"] for lead in doc["leads"]] == [person.lead.pk, person.second.pk]
    first = doc["leads"][0]
    assert (first["first_name"], first["email"], first["extra"]) == (
        "Zoraida",
        PERSON["email"],
        {"hobby": "valkerij"},
    )
    assert first["source"] == {"id": person.lead.source_id, "name": "Web NL"}
    assert len(doc["timeline"]) == Activity.objects.count()
    assert [s["id"] for s in doc["submissions"]] == [s.pk for s in person.submissions]
    assert json.loads(doc["submissions"][0]["body"])["last_name"] == "Quixwell"
    assert doc["submissions"][0]["body_encoding"] == "text"
    assert [(m["survivor_id"], m["merged_id"]) for m in doc["merges"]] == [
        (person.lead.pk, person.second.pk)
    ]
    assert doc["deliveries"] == []
    json.dumps(doc)  # one JSON document, nothing left unserialisable


def test_a_lead_number_finds_the_leads_merged_with_it(person, admin):
    doc = services.export_person(PersonQuery(lead_id=person.second.pk), by=admin)

    assert sorted(lead["id"] for lead in doc["leads"]) == sorted([person.lead.pk, person.second.pk])


def test_a_phone_number_in_another_notation_finds_the_person(person, admin):
    doc = services.export_person(PersonQuery(phone="06-41279983"), by=admin)

    assert {lead["id"] for lead in doc["leads"]} == {person.lead.pk, person.second.pk}


def test_binary_bodies_are_exported_as_base64(web, admin):

    lead = assessment_services.create_lead({"email": "bin@example.org"}, source=web, by=SYSTEM)
    body = b"\x00\xff\xfeQuix"
    submission = intake.receive(source=web, channel="http", body=body, content_type="x/bin")
    intake.settle(submission.pk, state="processed")
    from leadloop.intake.models import RawSubmission

    RawSubmission.objects.filter(pk=submission.pk).update(lead=lead)

    doc = services.export_person(PersonQuery(email="bin@example.org"), by=admin)

    assert doc["submissions"][0]["body_encoding"] == "base64"
    assert base64.b64decode(doc["submissions"][0]["body"]) == body


def test_consent_and_objections_are_their_own_sections(web, admin):

    lead = assessment_services.create_lead(
        {
            "email": "c@example.org",
            "consent_purpose": "newsletter",
            "consent_at": "2026-01-02T10:00:00+00:00",
            "consent_text_version": "v3",
        },
        source=web,
        by=SYSTEM,
    )
    services.record_objection(lead.pk, by=admin, marketing=True, source="phone call")

    doc = services.export_person(PersonQuery(email="c@example.org"), by=admin)

    assert doc["consent"] == [
        {
            "lead_id": lead.pk,
            "purpose": "newsletter",
            "given_at": "2026-01-02T10:00:00+00:00",
            "text_version": "v3",
        }
    ]
    assert doc["objections"][0]["received_through"] == "phone call"
    assert doc["objections"][0]["processing_objected_at"] is None


def test_an_upper_app_can_add_its_section(person, admin, monkeypatch):
    from leadloop.privacy.registry import PersonDataSection, register_section

    monkeypatch.setattr("leadloop.privacy.registry.SECTIONS", dict(SECTIONS))
    register_section(
        PersonDataSection(
            "deliveries",
            export=lambda ids: [{"lead_id": i, "buyer": "B"} for i in ids],
            erase=lambda ids, at: len(ids),
        )
    )

    doc = services.export_person(PersonQuery(lead_id=person.lead.pk), by=admin)

    assert doc["deliveries"] == [
        {"lead_id": person.lead.pk, "buyer": "B"},
        {"lead_id": person.second.pk, "buyer": "B"},
    ]


@pytest.mark.parametrize("who", ["rep", "manager", "partner_user"])
def test_sales_and_partners_cannot_export(person, who, request):
    with pytest.raises(NotAllowed):
        services.export_person(PersonQuery(email=PERSON["email"]), by=request.getfixturevalue(who))


def test_unknown_lead_number_is_not_found(db, admin):
    with pytest.raises(NotFound):
        services.export_person(PersonQuery(lead_id=987654), by=admin)


def test_an_unknown_address_exports_an_empty_document(db, admin):
    doc = services.export_person(PersonQuery(email="nobody@example.org"), by=admin)

    assert (doc["leads"], doc["submissions"], doc["timeline"]) == ([], [], [])
