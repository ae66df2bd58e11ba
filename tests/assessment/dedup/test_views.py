"""The duplicates screen, its API and `leadloop duplicates find`."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import DuplicatePair, MatchWeights, Merge, PairState
from leadloop.assessment.scoring import services as config
from leadloop.intake import services as intake
from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.factories.leads import make_source


@pytest.fixture
def nl(db):
    return make_source("Web NL", country="NL")


def _submit(source, fields):
    submission = intake.receive(
        source=source, channel="http", body=json.dumps(fields).encode(),
        content_type="application/json",
    )  # fmt: skip
    return Lead.objects.get(pk=intake.process_submission(submission.pk).lead_id)


@pytest.fixture
def held(nl):
    config.set_source_policy(
        nl, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    older = _submit(nl, {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example"})
    newer = _submit(
        nl, {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example", "city": "Ede"}
    )
    return older, newer, DuplicatePair.objects.get()


def test_list_shows_open_pairs_with_their_reasons(logged_in_client, marketing, held):
    _older, _newer, pair = held

    response = logged_in_client(marketing).get("/assessment/duplicates/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="pair-{pair.pk}"' in body
    assert "same e-mail" in body
    assert f"/assessment/duplicates/{pair.pk}/" in body


def test_compare_page_offers_a_choice_for_each_differing_field(logged_in_client, marketing, held):
    _older, newer, pair = held

    response = logged_in_client(marketing).get(f"/assessment/duplicates/{pair.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'name="field_address" value="{newer.pk}" checked' in body
    assert 'name="field_email"' not in body


def test_merge_from_the_page_then_undo(logged_in_client, marketing, held):
    older, newer, pair = held
    client = logged_in_client(marketing)

    merged = client.post(
        f"/assessment/duplicates/{pair.pk}/merge",
        {"survivor": str(older.pk), "field_address": str(older.pk)},
    )
    merge = Merge.objects.get()
    undone = client.post(f"/assessment/duplicates/merges/{merge.pk}/undo")

    assert merged.status_code == 302
    assert merge.field_choices == {"address": older.pk}
    assert undone.status_code == 302
    assert Lead.objects.get(pk=newer.pk).merged_into_id is None
    assert DuplicatePair.objects.get().state == PairState.OPEN


def test_dismiss_with_htmx_removes_the_row(logged_in_client, marketing, held):
    _older, _newer, pair = held

    response = logged_in_client(marketing).post(
        f"/assessment/duplicates/{pair.pk}/dismiss", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.content == b""
    assert DuplicatePair.objects.get().state == PairState.DISMISSED


def test_partner_gets_404_for_the_screen_and_a_pair(logged_in_client, partner_user, held):
    _older, _newer, pair = held
    client = logged_in_client(partner_user)

    pages = [
        client.get("/assessment/duplicates/"),
        client.get(f"/assessment/duplicates/{pair.pk}/"),
    ]
    post = client.post(f"/assessment/duplicates/{pair.pk}/merge", {"survivor": str(pair.other_id)})

    assert [p.status_code for p in pages] == [404, 404]
    assert post.status_code == 404
    assert Merge.objects.count() == 0


def test_api_lists_merges_and_undoes(api_client_for, admin, held):
    older, newer, pair = held
    client = api_client_for(admin)

    listed = client.get("/api/v1/assessment/duplicates")
    merged = client.post(
        f"/api/v1/assessment/duplicates/{pair.pk}/merge",
        {"survivor_id": older.pk, "fields": {"address": newer.pk}},
        content_type="application/json",
    )
    undone = client.post(f"/api/v1/assessment/merges/{merged.json()['id']}/undo")

    assert listed.status_code == 200
    assert [(i["id"], i["lead"]["id"], i["other"]["id"]) for i in listed.json()["items"]] == [
        (pair.pk, newer.pk, older.pk)
    ]
    assert merged.status_code == 200
    assert merged.json()["field_choices"] == {"address": newer.pk}
    assert merged.json()["survivor_before"] == {
        "city": "", "name_key": "smit|a", "address_key": None, "street_name_key": None,
        "house_name_key": None,
        "search_text": older.search_text,
    }  # fmt: skip
    assert undone.status_code == 200
    assert undone.json()["undone_at"] is not None


def test_api_refuses_a_survivor_outside_the_pair_as_a_problem(api_client_for, admin, held, nl):
    _older, _newer, pair = held
    stranger = _submit(nl, {"first_name": "Bart", "last_name": "Kok", "email": "b@kok.example"})

    response = api_client_for(admin).post(
        f"/api/v1/assessment/duplicates/{pair.pk}/merge",
        {"survivor_id": stranger.pk},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["survivor_id"]
    assert Merge.objects.count() == 0


def test_api_dismiss_and_a_second_decision_is_a_conflict(api_client_for, admin, held):
    _older, _newer, pair = held
    client = api_client_for(admin)

    first = client.post(f"/api/v1/assessment/duplicates/{pair.pk}/dismiss")
    second = client.post(f"/api/v1/assessment/duplicates/{pair.pk}/dismiss")

    assert first.status_code == 200
    assert first.json()["state"] == "dismissed"
    assert second.status_code == 409
    assert Activity.objects.filter(kind=ActivityKind.REVIEWED).count() == 2


def test_api_rep_gets_404_for_a_pair_of_leads_they_do_not_see(api_client_for, rep, held):
    _older, _newer, pair = held

    response = api_client_for(rep).post(f"/api/v1/assessment/duplicates/{pair.pk}/dismiss")

    assert response.status_code == 404
    assert DuplicatePair.objects.get().state == PairState.OPEN


def test_cli_find_writes_pairs_and_exports_them(nl, tmp_path, capsys):
    config.set_source_policy(
        nl, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="allow"
    )
    older = _submit(
        nl, {"first_name": "=cmd|' /C calc'!A0", "last_name": "Smit", "email": "ann@smit.example"}
    )
    DuplicatePair.objects.all().delete()
    newer = _submit(
        nl,
        {
            "first_name": "=cmd|' /C calc'!A0",
            "last_name": "Smit",
            "email": "ann@smit.example",
            "city": "Ede",
        },
    )
    DuplicatePair.objects.all().delete()
    _submit(nl, {"first_name": "Bart", "last_name": "Kok", "email": "b@kok.example"})
    target = tmp_path / "pairs.csv"

    call_command("duplicates", "find", "--export", str(target), "--json")

    summary = json.loads(capsys.readouterr().out)
    rows = list(csv.reader(target.open(encoding="utf-8")))
    pair = DuplicatePair.objects.get()
    assert (summary["leads"], summary["pairs"], summary["opened"]) == (3, 1, 1)
    assert rows[0] == [
        "pair_id", "lead_id", "lead_name", "lead_email", "other_id", "other_name",
        "other_email", "score", "reasons", "lead_ref", "lead_source", "other_ref",
        "other_source",
    ]  # fmt: skip
    assert rows[1][:7] == [
        str(pair.pk), str(newer.pk), "'=cmd|' /C calc'!A0 Smit", "ann@smit.example",
        str(older.pk), "'=cmd|' /C calc'!A0 Smit", "ann@smit.example",
    ]  # fmt: skip
    assert rows[1][8].startswith("same e-mail")
    assert len(rows) == 2


def test_cli_find_again_updates_instead_of_adding(nl, capsys):
    config.set_source_policy(
        nl, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="allow"
    )
    _submit(nl, {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example"})
    _submit(
        nl, {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example", "city": "Ede"}
    )

    call_command("duplicates", "find", "--min-score", "0.9")

    assert "1 likely duplicate pairs (0 new, 1 still open" in capsys.readouterr().out
    assert DuplicatePair.objects.count() == 1


def test_cli_fit_stores_the_weights_and_says_when_there_is_too_little_to_learn(nl, capsys):
    _submit(nl, {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example"})

    call_command("duplicates", "fit")

    assert "Too few pairs to fit (at least 200)" in capsys.readouterr().out
    weights = MatchWeights.objects.get()
    assert (weights.pairs, weights.labelled_matches, weights.fitted_by) == (0, 0, None)
