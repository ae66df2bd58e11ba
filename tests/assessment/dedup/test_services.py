"""Merging two leads with field picking, undo, dismissing a pair, and who may do it."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup import services as merging
from leadloop.assessment.models import DuplicatePair, Merge, PairState
from leadloop.assessment.scoring import services as config
from leadloop.errors import Conflict, NotFound
from leadloop.intake import services as intake
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadHold, LeadStatus
from tests.factories.assessment import find_pair
from tests.factories.leads import make_lead, make_source

FIELDS = (
    "first_name", "last_name", "email", "phone_raw", "phone_e164", "street", "house_number",
    "postal_code", "city", "company_name", "name_key", "search_text",
)  # fmt: skip


@pytest.fixture
def nl(db):
    return make_source("Web NL", country="NL")


def _values(lead):
    lead = Lead.objects.get(pk=lead.pk)
    return {name: getattr(lead, name) for name in FIELDS}


def _held_pair(source):
    """Two submissions of one person through the intake: the second held for review."""
    config.set_source_policy(
        source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    ids = []
    for fields in (
        {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example",
         "phone": "0612345678"},
        {"first_name": "Anne", "last_name": "Smit", "email": "a.smit@work.example",
         "phone": "06 12345678", "city": "Delft"},
    ):  # fmt: skip
        submission = intake.receive(
            source=source, channel="http", body=json.dumps(fields).encode(),
            content_type="application/json",
        )  # fmt: skip
        ids.append(intake.process_submission(submission.pk).lead_id)
    return Lead.objects.get(pk=ids[0]), Lead.objects.get(pk=ids[1]), DuplicatePair.objects.get()


def test_merge_takes_the_picked_values_and_keeps_both_histories(nl, marketing):
    older, newer, pair = _held_pair(nl)

    merge = merging.merge_pair(
        pair, survivor_id=older.pk, field_choices={"email": newer.pk}, by=marketing
    )

    survivor, merged = Lead.objects.get(pk=older.pk), Lead.objects.get(pk=newer.pk)
    pair.refresh_from_db()
    timeline = leads_selectors.list_timeline(marketing, survivor.pk)
    assert (survivor.email, survivor.first_name, survivor.city) == (
        "a.smit@work.example",
        "Ann",
        "Delft",
    )
    assert " a " in survivor.search_text
    assert " work " in survivor.search_text
    assert merged.merged_into_id == survivor.pk
    assert merged.hold is None
    assert merge.field_choices == {
        "first_name": older.pk, "email": newer.pk, "phone": older.pk, "address": newer.pk,
    }  # fmt: skip
    assert merge.survivor_before["email"] == "ann@smit.example"
    assert (pair.state, pair.decided_by_id) == (PairState.MERGED, marketing.pk)
    assert Activity.objects.filter(kind=ActivityKind.MERGED, lead=survivor).count() == 1
    assert Activity.objects.filter(kind=ActivityKind.MERGED, lead=merged).count() == 1
    assert {a.lead_id for a in timeline} == {survivor.pk, merged.pk}


def test_merged_lead_leaves_lists_but_its_page_still_opens(nl, marketing):
    older, newer, pair = _held_pair(nl)

    merging.merge_pair(pair, survivor_id=older.pk, field_choices={}, by=marketing)

    page = leads_selectors.list_leads(marketing, leads_selectors.LeadFilters())
    assert [lead.pk for lead in page.items] == [older.pk]
    assert leads_selectors.get_lead_for(marketing, newer.pk).merged_into_id == older.pk


def test_undo_restores_both_leads_exactly(nl, marketing):
    older, newer, pair = _held_pair(nl)
    before_survivor, before_merged = _values(older), _values(newer)
    merge = merging.merge_pair(
        pair, survivor_id=older.pk,
        field_choices={"email": newer.pk, "first_name": newer.pk, "phone": newer.pk},
        by=marketing,
    )  # fmt: skip

    merging.undo_merge(merge, by=marketing)

    merge.refresh_from_db()
    pair.refresh_from_db()
    assert _values(older) == before_survivor
    assert _values(newer) == before_merged
    assert Lead.objects.get(pk=newer.pk).merged_into_id is None
    assert (merge.undone_by_id, pair.state) == (marketing.pk, PairState.OPEN)
    assert Activity.objects.filter(kind=ActivityKind.UNMERGED).count() == 2


def test_undo_twice_is_refused(nl, marketing):
    older, _newer, pair = _held_pair(nl)
    merge = merging.merge_pair(pair, survivor_id=older.pk, field_choices={}, by=marketing)
    merging.undo_merge(merge, by=marketing)

    with pytest.raises(Conflict):
        merging.undo_merge(Merge.objects.get(pk=merge.pk), by=marketing)

    assert Activity.objects.filter(kind=ActivityKind.UNMERGED).count() == 2


def test_dismissing_a_pair_releases_the_held_lead(nl, marketing):
    _older, newer, pair = _held_pair(nl)
    assert newer.hold == LeadHold.DUPLICATE_REVIEW

    merging.dismiss_pair(pair, by=marketing)

    newer.refresh_from_db()
    pair.refresh_from_db()
    assert pair.state == PairState.DISMISSED
    assert newer.hold is None
    assert newer.status in (LeadStatus.NURTURING, LeadStatus.SALES_READY)
    assert newer.assessment["duplicate"] is None
    assert Activity.objects.filter(kind=ActivityKind.REVIEWED, lead=newer).count() == 1


def test_a_dismissed_pair_is_not_opened_again_by_a_scan(nl, marketing):
    _older, _newer, pair = _held_pair(nl)
    merging.dismiss_pair(pair, by=marketing)

    from leadloop.assessment.dedup.matching import find_duplicate_pairs

    result, found = find_duplicate_pairs()

    pair.refresh_from_db()
    assert (result.opened, result.skipped, found) == (0, 1, [])
    assert pair.state == PairState.DISMISSED


def test_rep_cannot_merge_leads_they_do_not_see(nl, rep, other_rep):
    mine = make_lead(nl, assigned_to=rep, first_name="Ann", last_name="Smit")
    theirs = make_lead(nl, assigned_to=other_rep, first_name="Ann", last_name="Smit")

    with pytest.raises(NotFound):
        merging.merge_leads(mine, theirs, field_choices={}, by=rep)

    assert Lead.objects.get(pk=theirs.pk).merged_into_id is None
    assert Merge.objects.count() == 0
    assert Activity.objects.filter(kind=ActivityKind.MERGED).count() == 0


def test_rep_may_merge_two_of_their_own_leads(nl, rep):
    first = make_lead(nl, assigned_to=rep, first_name="Ann", last_name="Smit")
    second = make_lead(nl, assigned_to=rep, first_name="Ann", last_name="Smit", city="Delft")

    merging.merge_leads(first, second, field_choices={}, by=rep)

    assert Lead.objects.get(pk=first.pk).city == "Delft"
    assert Lead.objects.get(pk=second.pk).merged_into_id == first.pk


def test_partner_cannot_merge_even_their_own_leads(nl, partner_user, partner_org):
    first = make_lead(nl, partner=partner_org)
    second = make_lead(nl, partner=partner_org)

    with pytest.raises(NotFound):
        merging.merge_leads(first, second, field_choices={}, by=partner_user)

    assert Merge.objects.count() == 0


def test_pair_of_an_invisible_lead_is_not_found(nl, rep, other_rep, marketing):
    mine = make_lead(nl, assigned_to=rep, first_name="Ann", last_name="Smit", phone="0612345678")
    theirs = make_lead(
        nl, assigned_to=other_rep, first_name="Ann", last_name="Smit", phone="0612345678"
    )
    pair = find_pair(theirs, mine)

    with pytest.raises(NotFound):
        merging.get_pair_for(rep, pair.pk)

    assert merging.list_open_pairs(rep).items == []
    assert [p.pk for p in merging.list_open_pairs(marketing).items] == [pair.pk]


def test_merging_an_already_merged_lead_is_a_conflict(nl, marketing):
    a, b, c = (make_lead(nl, first_name="Ann", last_name="Smit") for _ in range(3))
    merging.merge_leads(a, b, field_choices={}, by=marketing)

    with pytest.raises(Conflict):
        merging.merge_leads(c, b, field_choices={}, by=marketing)

    assert Merge.objects.count() == 1
