"""Privacy requests and API-key changes leave one audit event each, without the person's data."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.models import AuditEvent
from leadloop.accounts.services import create_api_key, revoke_api_key
from leadloop.errors import ValidationFailed
from leadloop.privacy import services
from leadloop.privacy.selectors import PersonQuery
from tests.privacy.conftest import NEEDLES, PERSON


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _no_needles() -> bool:
    text = json.dumps(list(AuditEvent.objects.values()), default=str).lower()
    return not any(needle in text for needle in NEEDLES)


def test_an_export_is_recorded_with_the_lead_ids_but_not_the_address(person, marketing):
    services.export_person(PersonQuery(email=PERSON["email"]), by=marketing)

    [event] = _events("privacy_export")
    assert event.actor_label == marketing.username
    assert sorted(event.data["ids"]) == sorted([person.lead.pk, person.second.pk])
    assert event.data["by"] == ["email"]
    assert _no_needles()


def test_an_erasure_is_recorded_once_with_its_counts(person, admin):
    services.erase_person(PersonQuery(email=PERSON["email"]), by=admin, confirm="ERASE")

    [event] = _events("lead_erased")
    assert event.actor_label == admin.username
    assert sorted(event.data["ids"]) == sorted([person.lead.pk, person.second.pk])
    assert event.data["reason"] == "request"
    assert event.data["rows"]["leads"] == 2
    assert _no_needles()


def test_a_refused_erasure_records_nothing(person, admin):
    with pytest.raises(ValidationFailed):
        services.erase_person(PersonQuery(email=PERSON["email"]), by=admin, confirm="nope")

    assert _events("lead_erased") == []


def test_an_objection_and_a_retention_change_are_recorded(person, admin):
    services.record_objection(person.lead.pk, by=admin, marketing=True, source="phone call")
    services.set_retention_rule(by=admin, target="lead", state="lost", keep_days=400)

    [objection] = _events("lead_changed")[-1:]
    assert (objection.target_type, objection.target_id) == ("lead", str(person.lead.pk))
    assert objection.data == {"objection": {"marketing": True, "processing": None}}
    [rule] = _events("rule_changed")
    assert rule.target_label == "retention lead/lost"
    assert rule.data == {"keep_days": 400, "is_active": True}


def test_making_and_revoking_an_api_key_is_recorded_by_prefix(rep, admin):
    issued = create_api_key(rep, name="script", by=rep)
    revoke_api_key(issued.key, by=admin)
    revoke_api_key(issued.key, by=admin)  # a second revoke changes nothing

    created, revoked = _events("api_key_created"), _events("api_key_revoked")
    assert [(e.actor_label, e.target_id) for e in created] == [(rep.username, str(issued.key.pk))]
    assert [(e.actor_label, e.target_id) for e in revoked] == [(admin.username, str(issued.key.pk))]
    assert issued.raw not in json.dumps(list(AuditEvent.objects.values()), default=str)
    assert created[0].target_label.startswith(issued.key.prefix)
