"""Finding a person's refused and throttled posts: whole values only, in any encoding, and a lead
number standing for the whole person."""

from __future__ import annotations

from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import Lead
from leadloop.privacy import selectors, services
from leadloop.privacy.selectors import PersonQuery
from tests.factories.leads import make_lead
from tests.privacy.conftest import submit, submit_throttled

ANN = "ann.quixwell@example.com"
ANN_PHONE = "+31 6 4127 9983"


def _exported_submission_ids(query, by):
    return {s["id"] for s in services.export_person(query, by=by)["submissions"]}


def test_a_lookalike_address_is_not_the_person(web, admin):
    own = submit(web, {"first_name": "Ann", "note": f"Mail me at {ANN.upper()}."})
    lookalike = submit(web, {"first_name": "Jo", "note": "mail joann.quixwell@example.com"})
    longer_domain = submit(web, {"first_name": "Jo", "note": f"mail {ANN}.au please"})
    assert {own.state, lookalike.state, longer_domain.state} == {SubmissionState.REJECTED}

    exported = _exported_submission_ids(PersonQuery(email=ANN), admin)
    services.erase_person(PersonQuery(email=ANN), by=admin, confirm="ERASE")

    assert exported == {own.pk}
    for other in (lookalike, longer_domain):
        other.refresh_from_db()
        assert (other.erased_at, b"quixwell" in bytes(other.body)) == (None, True)
    own.refresh_from_db()
    assert (own.erased_at is not None, bytes(own.body)) == (True, b"")


def test_a_longer_number_holding_the_persons_digits_is_not_the_person(web, admin):
    own = submit(web, {"first_name": "Ann", "note": "bel 06-4127 9983, 's ochtends"})
    longer = submit(web, {"first_name": "Jo", "note": f"bel {ANN_PHONE}1"})
    prefixed = submit(web, {"first_name": "Jo", "note": "fax 1064127 9983"})
    assert {own.state, longer.state, prefixed.state} == {SubmissionState.REJECTED}

    exported = _exported_submission_ids(PersonQuery(phone=ANN_PHONE), admin)
    services.erase_person(PersonQuery(phone=ANN_PHONE), by=admin, confirm="ERASE")

    assert exported == {own.pk}
    for other in (longer, prefixed):
        other.refresh_from_db()
        assert (other.erased_at, b"9983" in bytes(other.body)) == (None, True)


def test_a_throttled_form_post_with_an_encoded_address_is_found_and_erased(web, admin):
    throttled = submit_throttled(web, b"first_name=Ann&email=ann.quixwell%40example.com")
    assert (throttled.state, throttled.fields) == (SubmissionState.THROTTLED, {})

    exported = _exported_submission_ids(PersonQuery(email=ANN), admin)
    services.erase_person(PersonQuery(email=ANN), by=admin, confirm="ERASE")

    assert exported == {throttled.pk}
    throttled.refresh_from_db()
    assert (throttled.erased_at is not None, bytes(throttled.body)) == (True, b"")


def test_a_json_escaped_address_is_found(web, admin):
    escaped = submit_throttled(
        web,
        b'{"note": "ann.quixwell\\u0040example.com"}',
        content_type="application/json",
    )

    exported = _exported_submission_ids(PersonQuery(email=ANN), admin)

    assert exported == {escaped.pk}


def test_a_lead_number_finds_the_persons_other_leads_and_refused_posts(web, admin):
    lead = make_lead(web, email=ANN)
    other = make_lead(web, email=ANN, city="Zaandijk")
    stranger = make_lead(web, email="bram@example.net")
    refused = submit(web, {"first_name": "Ann", "note": ANN})

    person = selectors.find_person(admin, PersonQuery(lead_id=lead.pk))

    assert person.lead_ids == [lead.pk, other.pk]
    assert person.unlinked_submission_ids == [refused.pk]
    assert stranger.pk not in person.lead_ids


def test_erasing_by_lead_number_erases_the_person_not_one_record(web, admin):
    lead = make_lead(web, email=ANN)
    other = make_lead(web, email=ANN, city="Zaandijk")
    stranger = make_lead(web, email="bram@example.net")
    refused = submit(web, {"first_name": "Ann", "note": ANN})

    result = services.erase_person(PersonQuery(lead_id=lead.pk), by=admin, confirm="ERASE")

    assert sorted(result.lead_ids) == [lead.pk, other.pk]
    assert Lead.objects.get(pk=other.pk).erased_at is not None
    assert Lead.objects.get(pk=other.pk).email == ""
    assert RawSubmission.objects.get(pk=refused.pk).erased_at is not None
    assert Lead.objects.get(pk=stranger.pk).erased_at is None


def test_the_requests_page_lists_every_lead_a_lead_number_erasure_reaches(
    web, admin, logged_in_client
):
    lead = make_lead(web, email=ANN)
    other = make_lead(web, email=ANN)

    html = logged_in_client(admin).get("/privacy/", {"lead_id": lead.pk}).content.decode()

    assert f"/leads/{other.pk}/" in html
