"""/api/v1/intake: the queue, reprocessing with a correction, and the mapping with its preview."""

import json

import pytest

from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import Lead
from tests.factories.leads import make_lead, make_source_with_key


def _json(response):
    return json.loads(response.content)


@pytest.fixture
def provider(db):
    # Refuses a lead without an e-mail or phone outright, so it is listed as rejected.
    return make_source_with_key("Provider", minimum_contact="email_or_phone", on_invalid="reject")


def _post(client, key, record):
    return client.post(f"/in/{key}", json.dumps(record), content_type="application/json")


def test_marketing_lists_and_reads_submissions_others_cannot(
    client, api_client_for, marketing, rep, provider
):
    _, key = provider
    _post(client, key, {"first_name": "Ann"})
    submission = RawSubmission.objects.get()

    listed = _json(api_client_for(marketing).get("/api/v1/intake/submissions?state=rejected"))
    detail = _json(api_client_for(marketing).get(f"/api/v1/intake/submissions/{submission.pk}"))
    denied = api_client_for(rep).get(f"/api/v1/intake/submissions/{submission.pk}")

    assert [i["id"] for i in listed["items"]] == [submission.pk]
    assert detail["body_text"] == '{\n  "first_name": "Ann"\n}'
    assert detail["reasons"][0]["field"] == "email"
    assert denied.status_code == 404
    assert _json(api_client_for(rep).get("/api/v1/intake/submissions"))["items"] == []


def test_original_bytes_are_one_call_away_for_whoever_sees_the_lead(
    client, api_client_for, rep, other_rep, provider
):
    _, key = provider
    body = b'{"email": "ann@example.com", "note": "<b>hi</b>"}'
    client.post(f"/in/{key}", body, content_type="application/json")
    lead = Lead.objects.get()
    from leadloop.accounts.actors import SYSTEM
    from leadloop.leads.services import assign_lead

    assign_lead(lead, by=SYSTEM, to=rep)

    mine = api_client_for(rep).get(f"/api/v1/intake/leads/{lead.pk}/original")
    theirs = api_client_for(other_rep).get(f"/api/v1/intake/leads/{lead.pk}/original")

    assert mine.content == body
    assert mine["Content-Type"] == "application/json"
    assert mine["X-Content-Type-Options"] == "nosniff"
    assert theirs.status_code == 404


def test_a_lead_made_by_hand_has_no_original(api_client_for, admin, source):
    lead = make_lead(source)

    response = api_client_for(admin).get(f"/api/v1/intake/leads/{lead.pk}/original")

    assert response.status_code == 404


def test_reprocess_with_a_correction_turns_a_rejection_into_a_lead(
    client, api_client_for, marketing, provider
):
    _, key = provider
    _post(client, key, {"first_name": "Ann", "email": "ann@"})
    submission = RawSubmission.objects.get()

    response = api_client_for(marketing).post(
        f"/api/v1/intake/submissions/{submission.pk}/reprocess",
        {"corrected_fields": {"first_name": "Ann", "email": "ann@example.com"}},
        content_type="application/json",
    )

    body = _json(response)
    assert body["state"] == SubmissionState.PROCESSED
    assert Lead.objects.get().email == "ann@example.com"
    submission.refresh_from_db()
    assert bytes(submission.body) == b'{"first_name": "Ann", "email": "ann@"}'


def test_a_mapping_fix_then_bulk_reprocess(client, api_client_for, marketing, provider):
    source, key = provider
    for n in range(3):
        _post(
            client,
            key,
            {
                "Klantnaam": f"Klant {n}",
                "Elektronisch adres": f"k{n}@example.nl",
                "Bereikbaar op": "0612345678",
            },
        )
    _post(client, key, {"Klantnaam": "Klant 9"})
    api = api_client_for(marketing)
    mapping = {
        "fields": {
            "Klantnaam": "full_name",
            "Elektronisch adres": "email",
            "Bereikbaar op": "phone",
        }
    }

    preview = _json(
        api.post(
            f"/api/v1/intake/sources/{source.pk}/mapping/preview",
            mapping,
            content_type="application/json",
        )
    )
    saved = api.put(
        f"/api/v1/intake/sources/{source.pk}/mapping", mapping, content_type="application/json"
    )
    outcome = _json(api.post(f"/api/v1/intake/sources/{source.pk}/reprocess"))

    assert preview[1]["values"] == {
        "first_name": "Klant",
        "last_name": "2",
        "email": "k2@example.nl",
        "phone": "0612345678",
    }
    assert saved.status_code == 200
    assert outcome == {"processed": 3, "rejected": 1}
    assert Lead.objects.count() == 3


def test_an_invalid_mapping_is_a_field_error(api_client_for, marketing, provider):
    source, _ = provider

    response = api_client_for(marketing).put(
        f"/api/v1/intake/sources/{source.pk}/mapping",
        {"fields": {"Naam": "shoe_size"}, "transforms": {"email": "rot13"}},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert {e["field"] for e in _json(response)["errors"]} == {"fields.Naam", "transforms.email"}


def test_reps_cannot_preview_real_submissions(api_client_for, rep, provider):
    source, _ = provider

    response = api_client_for(rep).post(
        f"/api/v1/intake/sources/{source.pk}/mapping/preview", {}, content_type="application/json"
    )

    assert response.status_code == 404


def test_cli_lists_shows_and_reprocesses(client, provider, capsys):
    from django.core.management import call_command

    source, key = provider
    _post(client, key, {"Klantnaam": "Klant", "Elektronisch adres": "k@example.nl"})
    submission = RawSubmission.objects.get()
    source.field_mapping = {"fields": {"Elektronisch adres": "email", "Klantnaam": "full_name"}}
    source.save()

    call_command("submissions", "list", "--state", "rejected", "--json")
    listed = json.loads(capsys.readouterr().out)
    call_command("submissions", "show", str(submission.pk))
    shown = capsys.readouterr().out
    call_command("submissions", "reprocess", "--source", "Provider", "--json")
    outcome = json.loads(capsys.readouterr().out)

    assert [row["id"] for row in listed] == [submission.pk]
    assert '"Klantnaam": "Klant"' in shown
    assert outcome == {"processed": 1}
    assert Lead.objects.get().email == "k@example.nl"


def test_reps_cannot_read_a_sources_mapping(api_client_for, rep, provider):
    source, _ = provider

    response = api_client_for(rep).get(f"/api/v1/intake/sources/{source.pk}/mapping")

    assert response.status_code == 404


def test_mail_to_a_non_email_source_finds_no_source(provider):
    from leadloop.intake.channels.email.ingest import source_for_recipient

    source, _ = provider

    assert source_for_recipient(f"{source.pk}@leads.example") is None
