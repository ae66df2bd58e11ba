"""HTTP POST to /in/<source key>: JSON, name-value pairs, multipart, XML and ADF, and bad input."""

import json
from pathlib import Path

import pytest

from leadloop.intake import services
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.services import process_orphans
from leadloop.leads.models import Activity, ActivityKind, Lead
from leadloop.leads.services import revoke_source_key
from tests.conftest import shared_data_path
from tests.factories.leads import make_campaign, make_source_with_key


@pytest.fixture
def provider(db):
    return make_source_with_key("Provider")


def _post(client, key, body, content_type, **headers):
    return client.post(f"/in/{key}", body, content_type=content_type, headers=headers)


def test_json_lead_is_stored_raw_then_created(client, provider):
    source, key = provider
    body = json.dumps(
        {
            "first_name": "Ann",
            "last_name": "Smit",
            "email": "ann@example.com",
            "phone": "0612345678",
        }
    )

    response = _post(client, key, body, "application/json")

    answer = json.loads(response.content)
    submission = RawSubmission.objects.get()
    assert response.status_code == 201
    assert answer == {
        "submission_id": submission.pk,
        "lead_id": submission.lead_id,
        "disposition": "accepted",
    }
    assert bytes(submission.body) == body.encode()
    assert submission.state == SubmissionState.PROCESSED
    lead = Lead.objects.get()
    assert (lead.email, lead.phone_e164, lead.source_id) == (
        "ann@example.com",
        "+31612345678",
        source.pk,
    )


def test_dutch_labels_and_unknown_fields_are_mapped_or_kept(client, provider):
    _, key = provider

    _post(
        client,
        key,
        "Voornaam=Noa&Achternaam=Jansen&E-mailadres=noa%40example.nl&Budget=10k",
        "application/x-www-form-urlencoded",
    )

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email) == ("Noa", "Jansen", "noa@example.nl")
    assert lead.extra == {"Budget": "10k"}


def test_key_in_a_header_works_too(client, provider):
    _, key = provider

    response = client.post(
        "/in/",
        json.dumps({"email": "a@example.com"}),
        content_type="application/json",
        headers={"X-Source-Key": key},
    )

    assert response.status_code == 201


def test_multipart_form(client, provider):
    _, key = provider

    response = client.post(f"/in/{key}", {"name": "Jan de Vries", "email": "jan@example.nl"})

    lead = Lead.objects.get()
    assert response.status_code == 201
    assert (lead.first_name, lead.last_name) == ("Jan", "de Vries")


def test_flat_xml_in_gets_xml_out(client, provider):
    _, key = provider
    body = (
        "<lead><first_name>Ann</first_name><email>ann@example.com</email>"
        "<note>Bel &amp; mail</note></lead>"
    )

    response = _post(client, key, body, "application/xml")

    assert response.status_code == 201
    assert response["Content-Type"] == "application/xml"
    assert b"<disposition>accepted</disposition>" in response.content
    assert Lead.objects.get().extra == {"note": "Bel & mail"}


@pytest.mark.parametrize(
    "name", ["sample2_spec_full_with_extension.xml", "sample3_activix_extended.xml"]
)
def test_adf_samples_become_leads_and_keep_every_extension(client, provider, name):
    _, key = provider
    body = Path(shared_data_path("adf", name)).read_bytes()

    response = _post(client, key, body, "text/xml")

    lead = Lead.objects.get()
    assert response.status_code == 201
    assert lead.email
    assert lead.external_ref
    assert any(k.startswith("adf.vehicle.") for k in lead.extra)


def test_adf_with_a_bare_ampersand_is_repaired(client, provider):
    _, key = provider
    body = (
        '<?xml version="1.0"?><adf><prospect><id source="X">7</id><customer><contact>'
        '<name part="full">Jan &amp; Co</name><email>jan@example.nl</email></contact>'
        "<comments>Price & delivery?</comments></customer></prospect></adf>"
    )

    response = _post(client, key, body, "application/xml")

    assert response.status_code == 201
    assert Lead.objects.get().extra["comments"] == "Price & delivery?"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"email": "a@example.com",', "application/json"),
        ("<lead><email>a@example.com</lead>", "application/xml"),
        ("\x00\x01binary", "application/octet-stream"),
        ("", "application/json"),
        ('["a@example.com"]', "application/json"),
    ],
)
def test_unreadable_payloads_are_kept_in_quarantine_with_a_problem_answer(
    client, provider, body, content_type
):
    _, key = provider

    response = _post(client, key, body, content_type)

    submission = RawSubmission.objects.get()
    assert response.status_code == 400
    assert response["Content-Type"] in ("application/problem+json", "application/problem+xml")
    assert submission.state == SubmissionState.QUARANTINED
    assert bytes(submission.body) == body.encode()
    assert Lead.objects.count() == 0


def test_xml_bombs_and_external_entities_are_refused(client, provider):
    _, key = provider
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<lead><email>&lol2;</email></lead>"
    )
    xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><lead><email>&e;</email></lead>'

    answers = [_post(client, key, body, "application/xml") for body in (bomb, xxe)]

    assert [a.status_code for a in answers] == [400, 400]
    assert all(b"refused for safety" in a.content for a in answers)
    assert Lead.objects.count() == 0
    assert RawSubmission.objects.filter(state=SubmissionState.QUARANTINED).count() == 2


def test_windows_1252_form_body_declared_as_such(client, provider):
    _, key = provider
    body = b"first_name=Ren%E9&email=rene%40example.fr"

    response = _post(client, key, body, "application/x-www-form-urlencoded; charset=windows-1252")

    assert response.status_code == 201
    assert Lead.objects.get().first_name == "René"


def test_invalid_utf8_is_quarantined_not_guessed(client, provider):
    _, key = provider

    response = _post(
        client, key, b'{"first_name": "Ren\xe9", "email": "r@example.fr"}', "application/json"
    )

    assert response.status_code == 400
    assert b"not valid UTF-8" in response.content


def test_missing_content_type_is_sniffed(client, provider):
    _, key = provider

    response = client.generic(
        "POST", f"/in/{key}", json.dumps({"email": "s@example.com"}).encode(), content_type=""
    )

    assert response.status_code == 201


@pytest.fixture
def rejecting_provider(db):
    return make_source_with_key("Strict provider", on_invalid="reject")


def test_invalid_email_without_another_contact_is_rejected_and_kept(client, rejecting_provider):
    _, key = rejecting_provider

    response = _post(
        client, key, json.dumps({"email": "not-an-email", "first_name": "Ann"}), "application/json"
    )

    body = json.loads(response.content)
    assert response.status_code == 422
    assert body["disposition"] == "rejected"
    assert body["errors"][0]["field"] == "email"
    assert RawSubmission.objects.get().state == SubmissionState.REJECTED
    assert Lead.objects.count() == 0


def test_a_machine_senders_lead_with_one_bad_value_is_kept_for_review(client, provider):
    """The default for a provider's POST: answered 202, quarantined with the value as sent."""
    _, key = provider

    response = _post(
        client, key, json.dumps({"phone": "+31 6 123", "first_name": "Ann"}), "application/json"
    )

    body = json.loads(response.content)
    held = RawSubmission.objects.get()
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert body["disposition"] == "review"
    assert body["submission_id"] == held.pk
    assert body["errors"][0]["field"] == "phone"
    assert (held.state, held.disposition) == (SubmissionState.QUARANTINED, "review")
    assert held.fields == {"phone": "+31 6 123", "first_name": "Ann"}
    assert Lead.objects.count() == 0


def test_a_held_lead_is_answered_in_xml_to_an_xml_sender(client, provider):
    _, key = provider

    response = _post(client, key, "<lead><first_name>Ann</first_name></lead>", "application/xml")

    assert response.status_code == 202
    assert response["Content-Type"] == "application/xml"
    assert b"<disposition>review</disposition>" in response.content


def test_a_bad_value_is_set_aside_when_the_lead_can_still_be_reached(client, provider):
    _, key = provider

    response = _post(
        client,
        key,
        json.dumps({"email": "not-an-email", "phone": "0612345678"}),
        "application/json",
    )

    lead = Lead.objects.get()
    submission = RawSubmission.objects.get()
    assert response.status_code == 201
    assert lead.email == ""
    assert lead.extra == {"invalid.email": "not-an-email"}
    assert [r["field"] for r in submission.reasons] == ["email"]


def test_no_contact_details_is_rejected(client, rejecting_provider):
    _, key = rejecting_provider

    response = _post(client, key, json.dumps({"first_name": "Ann"}), "application/json")

    assert response.status_code == 422
    assert json.loads(response.content)["errors"][0]["field"] == "email"


def test_a_postal_address_with_a_name_is_enough_contact_by_default(client, provider):
    _, key = provider
    letter = {"first_name": "Ann", "last_name": "Smit", "street": "Dorpsstraat 1",
              "postal_code": "1234 AB", "city": "Utrecht"}  # fmt: skip

    created = _post(client, key, json.dumps(letter), "application/json")
    no_city = _post(client, key, json.dumps({**letter, "city": ""}), "application/json")

    assert created.status_code == 201
    assert Lead.objects.get().street == "Dorpsstraat 1"
    assert no_city.status_code == 202  # kept for review: too little to reach the person


@pytest.mark.parametrize(
    ("rule", "payload", "status"),
    [
        ("email", {"phone": "0612345678"}, 422),
        ("email", {"email": "a@example.com"}, 201),
        ("phone", {"email": "a@example.com"}, 422),
        ("phone", {"phone": "0612345678"}, 201),
        ("email_or_phone", {"first_name": "A", "street": "S 1", "postal_code": "1234 AB",
                            "city": "U"}, 422),
    ],
)  # fmt: skip
def test_the_sources_minimum_contact_decides(client, db, rule, payload, status):
    _, key = make_source_with_key(minimum_contact=rule, on_invalid="reject")

    response = _post(client, key, json.dumps(payload), "application/json")

    assert response.status_code == status, response.content


def test_unknown_key_is_404_and_nothing_is_stored(client, db):
    response = _post(client, "lls_nope", json.dumps({"email": "a@example.com"}), "application/json")

    assert response.status_code == 404
    assert RawSubmission.objects.count() == 0


def test_revoked_key_is_401_and_nothing_is_stored(client, provider, admin):
    source, key = provider
    revoke_source_key(source, by=admin)

    response = _post(client, key, json.dumps({"email": "a@example.com"}), "application/json")

    assert response.status_code == 401
    assert RawSubmission.objects.count() == 0


def test_body_over_the_limit_is_413(client, provider, settings):
    _, key = provider
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    response = _post(
        client, key, json.dumps({"email": "a@example.com", "note": "x" * 5000}), "application/json"
    )

    assert response.status_code == 413
    assert Lead.objects.count() == 0


def test_idempotency_key_makes_a_retry_return_the_first_lead(client, provider):
    _, key = provider
    body = json.dumps({"email": "a@example.com"})

    first = _post(client, key, body, "application/json", **{"Idempotency-Key": "abc-1"})
    second = _post(client, key, body, "application/json", **{"Idempotency-Key": "abc-1"})
    other_body = _post(
        client,
        key,
        json.dumps({"email": "b@example.com"}),
        "application/json",
        **{"Idempotency-Key": "abc-1"},
    )

    assert first.status_code == 201
    assert json.loads(second.content)["lead_id"] == json.loads(first.content)["lead_id"]
    assert other_body.status_code == 409
    assert Lead.objects.count() == 1
    assert RawSubmission.objects.count() == 1


def test_a_double_post_within_minutes_makes_one_lead(client, provider):
    _, key = provider
    body = json.dumps({"email": "a@example.com", "first_name": "Ann"})

    first = _post(client, key, body, "application/json")
    second = _post(client, key, body, "application/json")

    assert (first.status_code, second.status_code) == (201, 200)
    assert json.loads(second.content)["disposition"] == "duplicate"
    assert Lead.objects.count() == 1
    assert RawSubmission.objects.count() == 2


def test_same_external_reference_again_is_a_duplicate(client, provider):
    _, key = provider

    _post(client, key, json.dumps({"id": "X-1", "email": "a@example.com"}), "application/json")
    again = _post(
        client,
        key,
        json.dumps({"id": "X-1", "email": "a@example.com", "note": "resent"}),
        "application/json",
    )

    assert json.loads(again.content)["disposition"] == "duplicate"
    assert Lead.objects.count() == 1


def test_campaign_by_name_and_utm_from_the_query_string(client, provider):
    source, key = provider
    campaign = make_campaign(source, "Spring")

    client.post(
        f"/in/{key}?utm_source=google&utm_medium=cpc",
        json.dumps({"email": "a@example.com", "campaign": "spring"}),
        content_type="application/json",
    )

    lead = Lead.objects.get()
    assert lead.campaign_id == campaign.pk
    assert (lead.utm_source, lead.utm_medium) == ("google", "cpc")


def test_every_naughty_string_in_a_posted_field_is_kept_as_given(client, provider):
    _, key = provider
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        strings = [
            s for s in json.load(handle) if s.strip() and len(s.strip()) <= 150 and "\x00" not in s
        ]

    for i, value in enumerate(strings):
        _post(
            client,
            key,
            json.dumps({"email": f"n{i}@example.com", "last_name": value, "note": value}),
            "application/json",
        )

    assert Lead.objects.count() == len(strings)
    assert RawSubmission.objects.filter(state=SubmissionState.PROCESSED).count() == len(strings)


def test_an_orphaned_submission_is_processed_once_by_the_sweep(provider):
    import datetime as dt

    import time_machine

    from leadloop.intake.services import receive

    source, _ = provider
    with time_machine.travel(dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC), tick=False):
        receive(
            source=source,
            channel="http",
            body=b'{"email": "o@example.com"}',
            content_type="application/json",
        )
    with time_machine.travel(dt.datetime(2026, 11, 22, 12, 5, tzinfo=dt.UTC), tick=False):
        first = process_orphans()
        second = process_orphans()

    assert (first, second) == (1, 0)
    assert Lead.objects.count() == 1


def test_deeply_nested_json_is_quarantined_not_a_crash(client, provider):
    _, key = provider

    response = _post(client, key, "[" * 200_000, "application/json")

    assert response.status_code == 400
    assert RawSubmission.objects.get().state == SubmissionState.QUARANTINED


def test_one_broken_orphan_does_not_stop_the_sweep(provider):
    import datetime as dt

    import time_machine

    from leadloop.intake.services import receive

    source, _ = provider
    with time_machine.travel(dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC), tick=False):
        broken = receive(source=source, channel="http", body=b"{}", content_type="application/json")
        RawSubmission.objects.filter(pk=broken.pk).update(corrected_fields=[1, 2])  # unusable
        receive(
            source=source,
            channel="http",
            body=b'{"email": "o@example.com"}',
            content_type="application/json",
        )
    with time_machine.travel(dt.datetime(2026, 11, 22, 12, 5, tzinfo=dt.UTC), tick=False):
        for _round in range(3):
            process_orphans()

    broken.refresh_from_db()
    assert Lead.objects.count() == 1
    assert broken.state == SubmissionState.QUARANTINED


def test_a_run_that_loses_the_race_to_settle_a_submission_rolls_its_lead_back(provider):
    # Two runs decide the same submission (the synchronous request and the orphan sweep, say):
    # the one that writes second finds it settled, rolls back, and answers with the first's lead.
    source, _ = provider
    submission = services.receive(
        source=source, channel="http", body=b'{"email": "race@example.com"}',
        content_type="application/json",
    )  # fmt: skip
    stale = RawSubmission.objects.select_related("source").get(pk=submission.pk)

    first = services.process_submission(submission.pk)
    late = services.process_submission(stale.pk, submission=stale)

    assert first.state == late.state == SubmissionState.PROCESSED
    assert late.lead_id == first.lead_id
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(kind=ActivityKind.CREATED).count() == 1
