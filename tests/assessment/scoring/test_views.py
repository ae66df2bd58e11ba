"""The scoring configuration page: who sees what, forms with errors, HTMX sections, escaping."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import (
    BlockEntry,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring import selectors
from leadloop.assessment.scoring import services as config
from leadloop.errors import ValidationFailed
from tests.conftest import shared_data_path
from tests.factories.leads import make_source

PAGE = "/assessment/config/"
HTMX = {"HX-Request": "true"}


def _grading_post(**overrides):
    data = {
        "grading-field": "job_title",
        "grading-operator": "contains",
        "grading-value": "director",
        "grading-points": "15",
        "grading-is_active": "on",
    }
    data.update(overrides)
    return data


def test_marketing_sees_every_section(logged_in_client, marketing, source):
    response = logged_in_client(marketing).get(PAGE)

    assert response.status_code == 200
    page = response.text
    for section in ("readiness", "grading", "engagement", "fraud", "blocklist", "policies"):
        assert f'id="section-{section}"' in page
    assert "Sales-ready when grade is A or B and at least 3 of 4 BANT criteria are met." in page
    assert source.name in page
    assert "honeypot" in page


def test_a_sales_manager_reads_the_readiness_rule_only(logged_in_client, manager, marketing):
    config.update_scoring_settings(by=marketing, ready_min_engagement=60)

    response = logged_in_client(manager).get(PAGE)

    assert response.status_code == 200
    page = response.text
    assert (
        "Sales-ready when grade is A or B, engagement ≥ 60 and at least 3 of 4 BANT criteria "
        "are met." in page
    )
    assert f"Last changed by {marketing.display_name}" in page
    assert 'id="section-grading"' not in page
    assert "<form" not in page.split('id="section-readiness"')[1].split("</section>")[0]


def test_a_sales_manager_cannot_change_the_readiness_rule(logged_in_client, manager):
    response = logged_in_client(manager).post(
        reverse("assessment:config-readiness"),
        {
            "readiness-ready_grades": ["A", "B", "C", "D"],
            "readiness-ready_min_engagement": "0",
            "readiness-ready_min_bant": "0",
        },
    )

    assert response.status_code == 403
    assert ScoringSettings.objects.count() == 0


@pytest.mark.parametrize("role", ["rep", "partner_user"])
def test_reps_and_partners_get_403_everywhere(request, logged_in_client, source, role):
    rule = config.create_grading_rule(by=SYSTEM, field="industry", operator="is_set", points=5)
    entry = config.create_block_entry(by=SYSTEM, kind="ip", value="192.0.2.1")
    client = logged_in_client(request.getfixturevalue(role))

    gets = [
        PAGE,
        PAGE + "?section=grading",
        reverse("assessment:config-grading-rule", args=[rule.pk]),
        reverse("assessment:config-source-policy", args=[source.pk]),
    ]
    posts = [
        (reverse("assessment:config-readiness"), {"readiness-ready_grades": "A"}),
        (reverse("assessment:config-thresholds"), {"thresholds-grade_a_from": "1"}),
        (reverse("assessment:config-half-life"), {"half-life-engagement_half_life_days": "9"}),
        (reverse("assessment:config-fraud"), {"fraud-velocity_limit": "9"}),
        (reverse("assessment:config-grading-rule-create"), _grading_post()),
        (reverse("assessment:config-grading-rule", args=[rule.pk]), _grading_post()),
        (reverse("assessment:config-grading-rule-delete", args=[rule.pk]), {}),
        (reverse("assessment:config-engagement-rule-create"), {"engagement-event": "page_visit"}),
        (reverse("assessment:config-block-entry-create"), {"block-kind": "ip"}),
        (reverse("assessment:config-block-entry-delete", args=[entry.pk]), {}),
        (reverse("assessment:config-source-policy", args=[source.pk]), {}),
    ]

    statuses = [client.get(url).status_code for url in gets]
    statuses += [client.post(url, data).status_code for url, data in posts]

    assert set(statuses) == {403}
    assert list(GradingRule.objects.values_list("pk", "value")) == [(rule.pk, "")]
    assert list(BlockEntry.objects.values_list("value", flat=True)) == ["192.0.2.1"]
    assert EngagementRule.objects.count() == 0
    assert ScoringSettings.objects.count() == 0
    assert SourcePolicy.objects.count() == 0


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_nav_shows_scoring_to_marketing_only(logged_in_client, marketing, manager):
    assert 'href="/assessment/config/"' in logged_in_client(marketing).get(PAGE).text
    assert 'href="/assessment/config/"' not in logged_in_client(manager).get(PAGE).text


# --- Readiness -----------------------------------------------------------------------------------


def test_saving_the_readiness_rule_without_javascript_redirects(logged_in_client, marketing):
    client = logged_in_client(marketing)

    response = client.post(
        reverse("assessment:config-readiness"),
        {
            "readiness-ready_grades": ["A"],
            "readiness-ready_min_engagement": "40",
            "readiness-ready_min_bant": "2",
            "readiness-ready_min_predictive": "",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/assessment/config/#section-readiness"
    settings = ScoringSettings.objects.get()
    assert (settings.ready_grades, settings.ready_min_engagement, settings.ready_min_bant) == (
        "A",
        40,
        2,
    )
    page = client.get(PAGE).text
    assert "Sales-ready when grade is A, engagement ≥ 40 and at least 2 of 4 BANT criteria" in page
    assert "Readiness rule saved." in page


def test_the_readiness_rule_with_htmx_answers_its_section(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-readiness"),
        {
            "readiness-ready_grades": ["A", "B", "C"],
            "readiness-ready_min_engagement": "0",
            "readiness-ready_min_bant": "0",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.text.strip().startswith('<section class="card stack" id="section-readiness"')
    assert "Sales-ready when grade is A, B or C." in response.text
    assert "Saved." in response.text
    assert "<html" not in response.text


def test_a_readiness_rule_without_grades_comes_back_with_errors(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-readiness"),
        {"readiness-ready_min_engagement": "0", "readiness-ready_min_bant": "9"},
    )

    assert response.status_code == 422
    assert 'id="id_readiness-ready_grades_errors"' in response.text
    assert 'id="id_readiness-ready_min_bant_errors"' in response.text
    assert ScoringSettings.objects.count() == 0


def test_the_readiness_sentence_renders_in_dutch(logged_in_client, manager):
    manager.language = "nl"
    manager.save(update_fields=["language"])

    response = logged_in_client(manager).get(PAGE)

    assert response.status_code == 200
    assert '<html lang="nl"' in response.text
    assert 'data-testid="readiness-sentence"' in response.text


# --- Grading -------------------------------------------------------------------------------------


def test_adding_a_grading_rule_with_htmx_answers_the_grading_section(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-grading-rule-create"), _grading_post(), headers=HTMX
    )

    assert response.status_code == 200
    rule = GradingRule.objects.get()
    assert (rule.field, rule.operator, rule.value, rule.points) == (
        "job_title",
        "contains",
        "director",
        15,
    )
    assert f'id="grading-rule-{rule.pk}"' in response.text
    assert 'id="section-engagement"' not in response.text


def test_a_bad_grading_rule_shows_the_service_error_next_to_the_field(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-grading-rule-create"),
        _grading_post(
            **{"grading-field": "country", "grading-operator": "equals", "grading-value": "Narnia"}
        ),
        headers=HTMX,
    )

    assert response.status_code == 422
    assert 'id="id_grading-value_errors"' in response.text
    assert "Unknown country code" in response.text
    assert 'value="Narnia"' in response.text
    assert GradingRule.objects.count() == 0


def test_editing_a_grading_rule_inline(logged_in_client, marketing):
    rule = config.create_grading_rule(
        by=marketing, field="industry", operator="equals", value="IT", points=10
    )
    client = logged_in_client(marketing)
    url = reverse("assessment:config-grading-rule", args=[rule.pk])

    form = client.get(url, headers=HTMX)
    saved = client.post(
        url,
        {
            f"grading-{rule.pk}-field": "industry",
            f"grading-{rule.pk}-operator": "in",
            f"grading-{rule.pk}-value": "IT, Finance",
            f"grading-{rule.pk}-points": "12",
        },
        headers=HTMX,
    )

    assert form.status_code == 200
    assert f'name="grading-{rule.pk}-value"' in form.text
    assert saved.status_code == 200
    rule.refresh_from_db()
    assert (rule.operator, rule.value, rule.points, rule.is_active) == (
        "in",
        "IT,Finance",
        12,
        False,
    )
    assert f'name="grading-{rule.pk}-value"' not in saved.text


def test_editing_without_javascript_opens_the_row_on_the_full_page(logged_in_client, marketing):
    rule = config.create_grading_rule(
        by=marketing, field="industry", operator="equals", value="IT", points=10
    )

    response = logged_in_client(marketing).get(
        reverse("assessment:config-grading-rule", args=[rule.pk])
    )

    assert response.status_code == 200
    assert "<html" in response.text
    assert f'name="grading-{rule.pk}-value"' in response.text


def test_deleting_a_grading_rule(logged_in_client, marketing):
    rule = config.create_grading_rule(
        by=marketing, field="industry", operator="equals", value="IT", points=10
    )

    response = logged_in_client(marketing).post(
        reverse("assessment:config-grading-rule-delete", args=[rule.pk])
    )

    assert response.status_code == 302
    assert GradingRule.objects.count() == 0


def test_unordered_thresholds_are_refused_on_the_page(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-thresholds"),
        {
            "thresholds-grade_a_from": "10",
            "thresholds-grade_b_from": "20",
            "thresholds-grade_c_from": "5",
        },
    )

    assert response.status_code == 422
    assert "Grade A must need more points than grade B." in response.text
    assert ScoringSettings.objects.count() == 0


# --- Engagement, fraud, blocklist, policies ------------------------------------------------------


def test_engagement_rule_and_half_life(logged_in_client, marketing):
    client = logged_in_client(marketing)

    client.post(
        reverse("assessment:config-engagement-rule-create"),
        {
            "engagement-event": "page_visit",
            "engagement-match": "/pricing",
            "engagement-points": "5",
            "engagement-is_active": "on",
        },
    )
    client.post(
        reverse("assessment:config-half-life"), {"half-life-engagement_half_life_days": "14"}
    )

    rule = EngagementRule.objects.get()
    assert (rule.event, rule.match, rule.points, rule.is_repeatable) == (
        "page_visit",
        "/pricing",
        5,
        False,
    )
    assert ScoringSettings.objects.get().engagement_half_life_days == 14


def test_fraud_weights_are_saved_from_the_form(logged_in_client, marketing):
    data = {f"fraud-weight_{r.code}": str(r.default) for r in selectors.list_fraud_rules()}
    data.update(
        {
            "fraud-weight_honeypot": "0",
            "fraud-velocity_window_minutes": "30",
            "fraud-velocity_limit": "5",
            "fraud-check_mx": "on",
        }
    )

    response = logged_in_client(marketing).post(reverse("assessment:config-fraud"), data)

    assert response.status_code == 302
    settings = ScoringSettings.objects.get()
    assert settings.fraud_weights == {"honeypot": 0}
    assert (settings.velocity_window_minutes, settings.velocity_limit, settings.check_mx) == (
        30,
        5,
        True,
    )


def test_a_fraud_weight_over_100_is_shown_as_an_error(logged_in_client, marketing):
    data = {f"fraud-weight_{r.code}": str(r.default) for r in selectors.list_fraud_rules()}
    data.update(
        {
            "fraud-weight_honeypot": "500",
            "fraud-velocity_window_minutes": "30",
            "fraud-velocity_limit": "5",
        }
    )

    response = logged_in_client(marketing).post(reverse("assessment:config-fraud"), data)

    assert response.status_code == 422
    assert 'id="id_fraud-weight_honeypot_errors"' in response.text
    assert ScoringSettings.objects.count() == 0


def test_blocking_and_unblocking_a_value(logged_in_client, marketing):
    client = logged_in_client(marketing)

    added = client.post(
        reverse("assessment:config-block-entry-create"),
        {
            "block-kind": "phone",
            "block-value": "06 1234 5679",
            "block-country": "NL",
            "block-note": "complaint",
        },
        headers=HTMX,
    )
    entry = BlockEntry.objects.get()
    removed = client.post(
        reverse("assessment:config-block-entry-delete", args=[entry.pk]), headers=HTMX
    )

    assert added.status_code == 200
    assert "+31612345679" in added.text
    assert (entry.kind, entry.value, entry.note) == ("phone", "+31612345679", "complaint")
    assert removed.status_code == 200
    assert BlockEntry.objects.count() == 0


def test_a_bad_ip_is_refused_on_the_page(logged_in_client, marketing):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-block-entry-create"),
        {"block-kind": "ip", "block-value": "999.1.1.1"},
    )

    assert response.status_code == 422
    assert 'id="id_block-value_errors"' in response.text
    assert BlockEntry.objects.count() == 0


def test_a_source_policy_is_edited_from_the_sources_list(logged_in_client, marketing, source):
    client = logged_in_client(marketing)
    url = reverse("assessment:config-source-policy", args=[source.pk])

    sources_page = client.get(reverse("leads:source-list")).text
    form = client.get(url)
    saved = client.post(
        url,
        {
            f"policy-{source.pk}-fraud_review_at": "20",
            f"policy-{source.pk}-fraud_reject_at": "70",
            f"policy-{source.pk}-on_duplicate": "merge",
        },
    )

    assert f'href="{url}#section-policies"' in sources_page
    assert form.status_code == 200
    assert f'name="policy-{source.pk}-fraud_review_at"' in form.text
    assert saved.status_code == 302
    policy = SourcePolicy.objects.get()
    assert (policy.fraud_review_at, policy.fraud_reject_at, policy.on_duplicate) == (
        20,
        70,
        "merge",
    )


def test_a_policy_with_review_above_reject_comes_back_with_the_error(
    logged_in_client, marketing, source
):
    response = logged_in_client(marketing).post(
        reverse("assessment:config-source-policy", args=[source.pk]),
        {
            f"policy-{source.pk}-fraud_review_at": "80",
            f"policy-{source.pk}-fraud_reject_at": "70",
            f"policy-{source.pk}-on_duplicate": "merge",
        },
        headers=HTMX,
    )

    assert response.status_code == 422
    assert "Must be higher than the review threshold." in response.text
    assert SourcePolicy.objects.count() == 0


def test_an_unknown_rule_is_404(logged_in_client, marketing):
    rule = config.create_grading_rule(by=marketing, field="industry", operator="is_set", points=1)
    rule_id = rule.pk
    config.delete_grading_rule(rule, by=marketing)

    response = logged_in_client(marketing).get(
        reverse("assessment:config-grading-rule", args=[rule_id])
    )

    assert response.status_code == 404


# --- Hostile values ------------------------------------------------------------------------------

HOSTILE = (
    '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">',
    '"><svg onload=alert(1)>',
    "'; alert(1); //",
)


@pytest.mark.parametrize("payload", HOSTILE)
def test_markup_in_configured_values_is_shown_as_text(logged_in_client, marketing, payload):
    config.create_grading_rule(
        by=marketing,
        field="extra",
        extra_key=payload[:100],
        operator="equals",
        value=payload,
        points=1,
    )
    config.create_engagement_rule(by=marketing, event="page_visit", match=payload, points=1)
    config.create_block_entry(by=marketing, kind="ip", value="192.0.2.1", note=payload)

    page = logged_in_client(marketing).get(PAGE).text

    assert escape(payload) in page
    assert escape(payload[:100]) in page
    if "<" in payload:
        assert payload not in page


def test_naughty_strings_render_escaped_on_the_page(logged_in_client, marketing):
    with open(shared_data_path("hostile", "blns.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    strings = [line for line in lines if line.strip() and not line.startswith("#")]
    stored = []
    for text in strings:
        try:
            rule = config.create_engagement_rule(
                by=marketing, event="page_visit", match=text[:200], points=1
            )
        except ValidationFailed:
            continue  # e.g. a NUL byte, which the service refuses to store
        stored.append(rule.match)

    page = logged_in_client(marketing).get(PAGE).text

    assert len(stored) > 500
    for match in stored:
        assert escape(match) in page
        if "<" in match:
            assert match not in page


def _page_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_more_rows(logged_in_client, marketing):
    client = logged_in_client(marketing)
    make_source("One")
    config.create_grading_rule(by=marketing, field="industry", operator="is_set", points=1)
    config.create_engagement_rule(by=marketing, event="page_visit", points=1)
    config.create_block_entry(by=marketing, kind="ip", value="192.0.2.1")
    few = _page_queries(client)

    for n in range(10):
        source = make_source(f"Source {n}")
        config.set_source_policy(
            source, by=marketing, fraud_review_at=10, fraud_reject_at=20, on_duplicate="merge"
        )
        config.create_grading_rule(by=marketing, field="industry", operator="is_set", points=n)
        config.create_engagement_rule(by=marketing, event="email_opened", points=n)
        config.create_block_entry(by=marketing, kind="ip", value=f"192.0.2.{n + 10}")
    many = _page_queries(client)

    assert many == few


def test_a_long_blocklist_is_shown_a_page_at_a_time_and_can_be_searched(
    logged_in_client, marketing
):
    for n in range(105):
        config.create_block_entry(by=SYSTEM, kind="email_domain", value=f"spam{n:03d}.example")
    config.create_block_entry(by=SYSTEM, kind="ip", value="192.0.2.1", note="Botnet wave")
    client = logged_in_client(marketing)

    full = client.get(PAGE).text
    found = client.get(PAGE, {"section": "blocklist", "block_q": "botnet"}, headers=HTMX).text
    by_kind = client.get(PAGE, {"block_kind": "email_domain", "block_q": "spam10"}).text

    assert full.count('id="block-entry-') == 100
    assert "Showing the first 100 of 106 entries" in full
    assert found.count('id="block-entry-') == 1
    assert "192.0.2.1" in found
    assert by_kind.count('id="block-entry-') == 5
