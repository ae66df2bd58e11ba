"""/api/v1/assessment/config: settings, rules, blocklist and source policies through the API."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import (
    BlockEntry,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring import services as config
from leadloop.assessment.stages.fraud import RULE_WEIGHTS

BASE = "/api/v1/assessment/config"


def _json(client, method, url, body=None):
    response = getattr(client, method)(
        url, json.dumps(body) if body is not None else None, content_type="application/json"
    )
    return response, (json.loads(response.content) if response.content else None)


def _errors(problem):
    found = {}
    for error in problem["errors"]:
        found.setdefault(error["field"], []).append(error["detail"])
    return found


def test_marketing_reads_the_settings_with_the_readiness_sentence(api_client_for, marketing):
    response, body = _json(api_client_for(marketing), "get", f"{BASE}/settings")

    assert response.status_code == 200
    assert body["ready_grades"] == "AB"
    assert body["readiness_sentence"] == (
        "Sales-ready when grade is A or B and at least 3 of 4 BANT criteria are met."
    )
    assert body["fraud_weights"] == {code: value[0] for code, value in RULE_WEIGHTS.items()}
    assert body["updated_by"] is None


def test_put_settings_changes_what_is_sent(api_client_for, marketing):
    response, body = _json(
        api_client_for(marketing),
        "put",
        f"{BASE}/settings",
        {"ready_min_engagement": 60, "fraud_weights": {"honeypot": 10}, "check_mx": True},
    )

    assert response.status_code == 200
    assert body["readiness_sentence"] == (
        "Sales-ready when grade is A or B, engagement ≥ 60 and at least 3 of 4 BANT criteria "
        "are met."
    )
    assert body["fraud_weights"]["honeypot"] == 10
    assert body["updated_by"] == "marketing"
    settings = ScoringSettings.objects.get()
    assert (settings.ready_min_engagement, settings.fraud_weights, settings.check_mx) == (
        60,
        {"honeypot": 10},
        True,
    )


def test_bad_settings_are_a_problem_document_with_field_errors(api_client_for, marketing):
    response, body = _json(
        api_client_for(marketing),
        "put",
        f"{BASE}/settings",
        {
            "grade_a_from": 10,
            "grade_b_from": 20,
            "ready_grades": "XYZ",
            "fraud_weights": {"nope": 1},
        },
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert set(_errors(body)) == {"grade_a_from", "ready_grades", "fraud_weights.nope"}
    assert ScoringSettings.objects.count() == 0


def test_an_unknown_settings_field_is_refused(api_client_for, marketing):
    response, body = _json(api_client_for(marketing), "put", f"{BASE}/settings", {"colour": 1})

    assert response.status_code == 422
    assert _errors(body) == {"colour": ["Unknown field."]}


def test_grading_rules_round_trip(api_client_for, marketing):
    client = api_client_for(marketing)

    created, body = _json(
        client,
        "post",
        f"{BASE}/grading-rules",
        {"field": "country", "operator": "in", "value": "nl,be", "points": 10},
    )
    rule_id = body["id"]
    updated, changed = _json(
        client,
        "put",
        f"{BASE}/grading-rules/{rule_id}",
        {"field": "extra", "extra_key": "budget", "operator": "gte", "value": "5000", "points": 7},
    )
    _listed, items = _json(client, "get", f"{BASE}/grading-rules")
    deleted, _ = _json(client, "delete", f"{BASE}/grading-rules/{rule_id}")

    assert created.status_code == 201
    assert body["value"] == "NL,BE"
    assert updated.status_code == 200
    assert (changed["field"], changed["extra_key"], changed["value"]) == ("extra", "budget", "5000")
    assert [item["id"] for item in items] == [rule_id]
    assert deleted.status_code == 204
    assert GradingRule.objects.count() == 0


def test_a_bad_grading_rule_is_422_with_field_errors(api_client_for, marketing):
    response, body = _json(
        api_client_for(marketing),
        "post",
        f"{BASE}/grading-rules",
        {"field": "employees", "operator": "gte", "value": "many", "points": 10},
    )

    assert response.status_code == 422
    assert list(_errors(body)) == ["value"]
    assert GradingRule.objects.count() == 0


def test_engagement_rules_round_trip(api_client_for, admin):
    client = api_client_for(admin)

    _created, body = _json(
        client, "post", f"{BASE}/engagement-rules", {"event": "email_clicked", "points": 3}
    )
    updated, changed = _json(
        client,
        "put",
        f"{BASE}/engagement-rules/{body['id']}",
        {"event": "email_clicked", "match": "webinar", "points": 8, "is_repeatable": False},
    )
    deleted, _ = _json(client, "delete", f"{BASE}/engagement-rules/{body['id']}")

    assert updated.status_code == 200
    assert (changed["match"], changed["points"], changed["is_repeatable"]) == ("webinar", 8, False)
    assert deleted.status_code == 204
    assert EngagementRule.objects.count() == 0


def test_blocklist_round_trip(api_client_for, marketing):
    client = api_client_for(marketing)

    created, body = _json(
        client, "post", f"{BASE}/blocklist", {"kind": "email_domain", "value": "Spam.Example"}
    )
    duplicate, problem = _json(
        client, "post", f"{BASE}/blocklist", {"kind": "email_domain", "value": "spam.example"}
    )
    _updated, changed = _json(
        client,
        "put",
        f"{BASE}/blocklist/{body['id']}",
        {"kind": "email_domain", "value": "spam.example", "note": "bounces"},
    )
    _listed, items = _json(client, "get", f"{BASE}/blocklist?kind=email_domain")
    deleted, _ = _json(client, "delete", f"{BASE}/blocklist/{body['id']}")

    assert created.status_code == 201
    assert (body["value"], body["created_by"]) == ("spam.example", "marketing")
    assert duplicate.status_code == 422
    assert _errors(problem) == {"value": ["spam.example is on the blocklist already."]}
    assert changed["note"] == "bounces"
    assert [item["value"] for item in items] == ["spam.example"]
    assert deleted.status_code == 204
    assert BlockEntry.objects.count() == 0


def test_source_policy_get_and_put(api_client_for, marketing, source):
    client = api_client_for(marketing)

    _r, before = _json(client, "get", f"{BASE}/sources/{source.pk}/policy")
    put, after = _json(
        client,
        "put",
        f"{BASE}/sources/{source.pk}/policy",
        {"fraud_review_at": 25, "fraud_reject_at": 101, "on_duplicate": "merge"},
    )
    bad, problem = _json(
        client,
        "put",
        f"{BASE}/sources/{source.pk}/policy",
        {"fraud_review_at": 90, "fraud_reject_at": 80, "on_duplicate": "merge"},
    )

    assert before == {
        "source_id": source.pk,
        "source": source.name,
        "fraud_review_at": 40,
        "fraud_reject_at": 80,
        "on_duplicate": "review",
        "is_default": True,
    }
    assert put.status_code == 200
    assert (after["fraud_review_at"], after["fraud_reject_at"], after["is_default"]) == (
        25,
        101,
        False,
    )
    assert bad.status_code == 422
    assert list(_errors(problem)) == ["fraud_reject_at"]
    assert SourcePolicy.objects.get().fraud_review_at == 25


def test_an_unknown_id_is_404(api_client_for, marketing):
    rule = config.create_grading_rule(by=SYSTEM, field="industry", operator="is_set", points=1)
    rule_id = rule.pk
    config.delete_grading_rule(rule, by=SYSTEM)

    response, body = _json(
        api_client_for(marketing),
        "put",
        f"{BASE}/grading-rules/{rule_id}",
        {"field": "industry", "operator": "is_set", "points": 1},
    )

    assert response.status_code == 404
    assert body["status"] == 404


def test_a_sales_manager_may_read_the_settings_but_not_change_them(api_client_for, manager):
    client = api_client_for(manager)

    read, _ = _json(client, "get", f"{BASE}/settings")
    write, problem = _json(client, "put", f"{BASE}/settings", {"ready_min_bant": 0})
    rules, _ = _json(client, "get", f"{BASE}/grading-rules")

    assert read.status_code == 200
    assert write.status_code == 403
    assert problem["status"] == 403
    assert rules.status_code == 403
    assert ScoringSettings.objects.count() == 0


@pytest.mark.parametrize("role", ["rep", "partner_user"])
def test_reps_and_partners_are_refused_everywhere(request, api_client_for, source, role):
    rule = config.create_grading_rule(by=SYSTEM, field="industry", operator="is_set", points=1)
    engagement = config.create_engagement_rule(by=SYSTEM, event="page_visit", points=1)
    entry = config.create_block_entry(by=SYSTEM, kind="ip", value="192.0.2.1")
    client = api_client_for(request.getfixturevalue(role))
    grading_body = {"field": "industry", "operator": "equals", "value": "x", "points": 9}
    engagement_body = {"event": "email_opened", "points": 9}
    block_body = {"kind": "ip", "value": "192.0.2.2"}
    policy_body = {"fraud_review_at": 1, "fraud_reject_at": 2, "on_duplicate": "merge"}
    calls = [
        ("get", "/settings", None),
        ("put", "/settings", {"ready_min_bant": 0}),
        ("get", "/grading-rules", None),
        ("post", "/grading-rules", grading_body),
        ("put", f"/grading-rules/{rule.pk}", grading_body),
        ("delete", f"/grading-rules/{rule.pk}", None),
        ("get", "/engagement-rules", None),
        ("post", "/engagement-rules", engagement_body),
        ("put", f"/engagement-rules/{engagement.pk}", engagement_body),
        ("delete", f"/engagement-rules/{engagement.pk}", None),
        ("get", "/blocklist", None),
        ("post", "/blocklist", block_body),
        ("put", f"/blocklist/{entry.pk}", block_body),
        ("delete", f"/blocklist/{entry.pk}", None),
        ("get", f"/sources/{source.pk}/policy", None),
        ("put", f"/sources/{source.pk}/policy", policy_body),
    ]

    statuses = {
        path: _json(client, method, BASE + path, body)[0].status_code
        for method, path, body in calls
    }

    assert set(statuses.values()) == {403}
    assert list(GradingRule.objects.values_list("value", "points")) == [("", 1)]
    assert list(EngagementRule.objects.values_list("event", "points")) == [("page_visit", 1)]
    assert list(BlockEntry.objects.values_list("value", flat=True)) == ["192.0.2.1"]
    assert ScoringSettings.objects.count() == 0
    assert SourcePolicy.objects.count() == 0


def test_without_credentials_the_api_answers_401(client, db):
    response = client.get(f"{BASE}/settings")

    assert response.status_code == 401
