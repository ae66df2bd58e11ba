"""Unsubscribe and objection to processing, recorded on the lead and its timeline."""

from __future__ import annotations

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from leadloop.leads.models import Activity, ActivityKind
from leadloop.leads.selectors import can_receive_marketing
from leadloop.privacy import services
from leadloop.privacy.selectors import PersonQuery
from tests.factories.leads import make_lead


@pytest.fixture
def lead(web, rep):
    return make_lead(web, email="ann@example.org", assigned_to=rep)


def test_an_opt_out_stops_marketing_and_is_on_the_timeline(lead, rep):
    assert can_receive_marketing(lead)

    changed = services.record_objection(lead.pk, by=rep, marketing=True, source="phone call")

    assert not can_receive_marketing(changed)
    assert changed.objection_source == "phone call"
    entry = Activity.objects.get(lead=lead, kind=ActivityKind.OBJECTION)
    assert (entry.data, entry.message, entry.actor_user) == ({"marketing": True}, "phone call", rep)


def test_an_objection_to_processing_also_stops_marketing(lead, rep):
    changed = services.record_objection(lead.pk, by=rep, processing=True, source="letter")

    assert changed.processing_objected_at is not None
    assert changed.marketing_opt_out_at is not None
    assert Activity.objects.get(kind=ActivityKind.OBJECTION).data == {
        "marketing": True,
        "processing": True,
    }


def test_withdrawing_allows_marketing_again(lead, rep):
    services.record_objection(lead.pk, by=rep, marketing=True, source="unsubscribe link")

    changed = services.record_objection(lead.pk, by=rep, marketing=False)

    assert can_receive_marketing(changed)
    assert changed.objection_source is None
    assert Activity.objects.filter(kind=ActivityKind.OBJECTION).count() == 2


def test_recording_the_same_objection_again_writes_nothing(lead, rep):
    services.record_objection(lead.pk, by=rep, marketing=True, source="phone")

    services.record_objection(lead.pk, by=rep, marketing=True, source="phone again")

    assert Activity.objects.filter(kind=ActivityKind.OBJECTION).count() == 1


def test_an_objection_needs_where_it_came_from(lead, rep):
    with pytest.raises(ValidationFailed):
        services.record_objection(lead.pk, by=rep, marketing=True, source="  ")

    assert not Activity.objects.filter(kind=ActivityKind.OBJECTION).exists()


def test_partner_cannot_record_an_objection(web, partner_user, partner_org):
    lead = make_lead(web, email="p@example.org", partner=partner_org)

    with pytest.raises(NotAllowed):
        services.record_objection(lead.pk, by=partner_user, marketing=True, source="phone")

    assert not Activity.objects.filter(kind=ActivityKind.OBJECTION).exists()


def test_rep_cannot_object_on_a_lead_they_do_not_see(lead, other_rep):
    with pytest.raises(NotFound):
        services.record_objection(lead.pk, by=other_rep, marketing=True, source="phone")


def test_an_erased_lead_takes_no_objection_and_gets_no_marketing(lead, admin):
    services.erase_person(PersonQuery(lead_id=lead.pk), by=SYSTEM, confirm="ERASE")
    lead.refresh_from_db()

    with pytest.raises(Conflict):
        services.record_objection(lead.pk, by=admin, marketing=True, source="phone")
    assert not can_receive_marketing(lead)
