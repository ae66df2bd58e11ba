"""Erasing a person: nothing of them left in any table, counts kept, no way back."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.models import Count

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup import services as merging
from leadloop.assessment.models import Merge
from leadloop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from leadloop.intake import services as intake
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads import selectors as leads_selectors
from leadloop.leads import services as leads_services
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.privacy import services
from leadloop.privacy.selectors import PersonQuery
from tests.factories.leads import make_lead
from tests.privacy.conftest import NEEDLES, PERSON, submit


def _rows_mentioning(needles):
    """Every (table, column) whose stored value contains one of `needles`, ignoring case: a
    raw scan of every column of every table, search index shadow tables included."""
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes | bytearray):
                        text = bytes(value).decode("utf-8", "replace").lower()
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False).lower()
                    else:
                        text = str(value).lower()
                    found |= {(table, column, n) for n in needles if n in text}
    return found


def _erase(by=SYSTEM, email=PERSON["email"]):
    return services.erase_person(PersonQuery(email=email), by=by, confirm="ERASE")


def _counts():
    return list(
        Lead.objects.values("source_id", "status", "campaign_id")
        .annotate(n=Count("id"))
        .order_by("source_id", "status")
    )


def test_after_erasure_no_table_holds_the_persons_values(person, admin):
    assert _rows_mentioning(NEEDLES)  # the scan does find them before

    _erase(by=admin)
    leads_services.compact_search_index()

    assert _rows_mentioning(NEEDLES) == set()


def test_erasure_reaches_every_lead_of_the_person_and_their_submissions(person, admin):
    result = _erase(by=admin)

    assert sorted(result.lead_ids) == sorted([person.lead.pk, person.second.pk])
    assert result.counts == {
        "merges": 1,
        "duplicate_pairs": 1,
        "enrichment_cache": 0,
        "leads": 2,
        "submissions": 2,
        "deliveries": 0,
        "follow_up": 0,
        "survey_responses": 0,
        "webhook_messages": 0,
        "marketing_mail": 0,
        "call_attempts": 0,
    }
    for submission in RawSubmission.objects.all():
        assert (bytes(submission.body), submission.headers, submission.fields) == (b"", {}, {})
        assert submission.state == SubmissionState.PROCESSED
        assert submission.erased_at is not None


def test_erased_lead_keeps_what_the_counts_need(person, admin, web):
    before = _counts()
    lead_before = Lead.objects.get(pk=person.lead.pk)

    _erase(by=admin)

    lead = Lead.objects.get(pk=person.lead.pk)
    assert _counts() == before
    assert (lead.status, lead.source_id, lead.created_at, lead.currency, lead.fraud_score) == (
        lead_before.status,
        web.pk,
        lead_before.created_at,
        "EUR",
        lead_before.fraud_score,
    )
    assert (lead.first_name, lead.email, lead.phone_e164, lead.extra, lead.search_text) == (
        "", "", "", {}, ""
    )  # fmt: skip
    assert lead.assessment["erased"] is True
    assert {"stage": "fraud", "code": "test_data", "points": 35} in lead.assessment["findings"]
    assert str(lead) == f"#{lead.pk}"


def test_timeline_keeps_kinds_and_times_and_says_it_was_erased(person, admin):
    kinds_before = list(
        Activity.objects.filter(lead=person.lead).order_by("pk").values_list("kind", "created_at")
    )

    _erase(by=admin)

    entries = list(Activity.objects.filter(lead=person.lead).order_by("pk"))
    assert [(a.kind, a.created_at) for a in entries[:-1]] == kinds_before
    assert [a.message for a in entries[:-1]] == [""] * len(kinds_before)
    edit = next(a for a in entries if a.kind == ActivityKind.FIELD_CHANGED)
    assert edit.data == {"fields": ["city"]}
    erased = entries[-1]
    assert (erased.kind, erased.actor_user, erased.data) == (
        ActivityKind.ERASED,
        admin,
        {"reason": "request"},
    )


def test_search_no_longer_finds_the_erased_person(person, admin):
    assert leads_selectors.list_leads(admin, leads_selectors.LeadFilters(q="quixwell")).items

    _erase(by=admin)

    assert leads_selectors.list_leads(admin, leads_selectors.LeadFilters(q="quixwell")).items == []


def test_merge_of_an_erased_person_cannot_be_undone(person, admin):
    merge = Merge.objects.get()

    _erase(by=admin)

    with pytest.raises(Conflict):
        merging.undo_merge(Merge.objects.get(pk=merge.pk), by=admin)
    assert Lead.objects.get(pk=person.second.pk).merged_into_id == person.lead.pk
    assert Merge.objects.get(pk=merge.pk).survivor_before == {}


def test_the_same_person_arriving_again_is_a_new_lead_not_the_tombstone(person, admin, web):
    _erase(by=admin)
    tombstones = {person.lead.pk, person.second.pk}

    again = submit(web, PERSON)

    assert again.lead_id not in tombstones
    assert Lead.objects.get(pk=again.lead_id).hold is None
    assert Lead.objects.get(pk=person.lead.pk).email == ""


def test_an_erased_lead_cannot_be_edited_or_assessed_back_to_life(person, admin):
    from leadloop.assessment import services as assessment_services

    _erase(by=admin)

    with pytest.raises(Conflict):
        leads_services.update_lead(person.lead, {"email": PERSON["email"]}, by=admin)
    with pytest.raises(Conflict):
        assessment_services.reassess_lead(person.lead, by=admin)
    assert Lead.objects.get(pk=person.lead.pk).email == ""


def test_erasing_twice_changes_nothing_more(person, admin):
    _erase(by=admin)

    result = services.erase_person(PersonQuery(lead_id=person.lead.pk), by=admin, confirm="ERASE")

    assert result.counts["leads"] == 0
    assert Activity.objects.filter(kind=ActivityKind.ERASED).count() == 2


def test_refused_submissions_that_name_the_person_are_erased_too(web, admin):
    refused = submit(web, {"first_name": "Zoraida", "note": PERSON["email"]})
    assert refused.state == SubmissionState.REJECTED
    make_lead(web, email=PERSON["email"])

    _erase(by=admin)

    refused.refresh_from_db()
    assert (bytes(refused.body), refused.erased_at is not None) == (b"", True)
    with pytest.raises(Conflict):
        intake.reprocess(refused, by=admin)


def test_erasure_needs_the_email_or_the_word_erase(person, admin):
    with pytest.raises(ValidationFailed):
        services.erase_person(PersonQuery(email=PERSON["email"]), by=admin, confirm="erase it")

    assert Lead.objects.get(pk=person.lead.pk).erased_at is None
    assert not Activity.objects.filter(kind=ActivityKind.ERASED).exists()


def test_erasure_confirmed_by_the_email_address_in_another_case(person, admin):
    services.erase_person(
        PersonQuery(lead_id=person.lead.pk), by=admin, confirm=PERSON["email"].upper()
    )

    assert Lead.objects.get(pk=person.lead.pk).erased_at is not None


@pytest.mark.parametrize("who", ["marketing", "rep", "partner_user"])
def test_only_admins_erase(person, who, request):
    actor = request.getfixturevalue(who)

    with pytest.raises(NotAllowed):
        _erase(by=actor)

    assert Lead.objects.filter(erased_at__isnull=False).count() == 0
    assert not Activity.objects.filter(kind=ActivityKind.ERASED).exists()


def test_erasing_someone_unknown_says_nothing_is_stored(db, admin):
    with pytest.raises(NotFound):
        _erase(by=admin, email="nobody@example.org")


def test_other_people_are_left_alone(person, admin, web):
    other = make_lead(web, first_name="Bram", email="bram@example.net")

    _erase(by=admin)

    other.refresh_from_db()
    assert (other.first_name, other.email, other.erased_at) == ("Bram", "bram@example.net", None)
