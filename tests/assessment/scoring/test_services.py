"""The configuration services: each refuses bad values with field errors, writes good ones in
their normal form, and the next assessment sees the change at once."""

from __future__ import annotations

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import (
    BlockEntry,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring import rules, selectors
from leadloop.assessment.scoring import services as config
from leadloop.assessment.services import assess
from leadloop.assessment.stages.fraud import RULE_WEIGHTS
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads import services as leads_services

# --- Grading rules -------------------------------------------------------------------------------


def test_marketing_adds_grading_rules_in_order(marketing):
    first = config.create_grading_rule(
        by=marketing, field="job_title", operator="contains", value=" director ", points=15
    )
    second = config.create_grading_rule(
        by=marketing, field="country", operator="in", value="nl, be,uk", points=10
    )

    assert (first.value, first.position) == ("director", 1)
    assert (second.value, second.position) == ("NL,BE,GB", 2)
    assert list(selectors.list_grading_rules()) == [first, second]


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"field": "shoe_size", "operator": "equals", "value": "x"}, {"field"}),
        ({"field": "country", "operator": "like", "value": "NL"}, {"operator"}),
        ({"field": "country", "operator": "equals", "value": "Narnia"}, {"value"}),
        ({"field": "employees", "operator": "gte", "value": "lots"}, {"value"}),
        ({"field": "employees", "operator": "gte", "value": "NaN"}, {"value"}),
        ({"field": "employees", "operator": "gte", "value": "1e999999"}, {"value"}),
        ({"field": "industry", "operator": "equals", "value": ""}, {"value"}),
        ({"field": "industry", "operator": "in", "value": "it,,finance"}, {"value"}),
        ({"field": "email_kind", "operator": "equals", "value": "spammy"}, {"value"}),
        ({"field": "extra", "operator": "equals", "value": "yes", "extra_key": ""}, {"extra_key"}),
        ({"field": "industry", "operator": "equals", "value": "a\x00b"}, {"value"}),
        ({"field": "industry", "operator": "equals", "value": "x" * 501}, {"value"}),
    ],
)
def test_a_grading_rule_that_cannot_match_is_refused_with_field_errors(marketing, values, errors):
    with pytest.raises(ValidationFailed) as refused:
        config.create_grading_rule(by=marketing, points=10, **values)

    assert set(refused.value.errors) == errors
    assert GradingRule.objects.count() == 0


def test_points_out_of_range_are_refused(marketing):
    with pytest.raises(ValidationFailed) as refused:
        config.create_grading_rule(
            by=marketing, field="industry", operator="is_set", points=1_000_000
        )

    assert refused.value.errors == {"points": ["Between -1000 and 1000."]}


def test_numbers_and_value_free_operators_are_stored_plainly(marketing):
    rule = config.create_grading_rule(
        by=marketing, field="employees", operator="gte", value="1,5e2", points=5
    )
    empty = config.create_grading_rule(
        by=marketing, field="industry", operator="is_set", value="ignored", points=3
    )
    extra = config.create_grading_rule(
        by=marketing,
        field="extra",
        extra_key="budget_band",
        operator="equals",
        value="high",
        points=20,
    )
    not_extra = config.create_grading_rule(
        by=marketing, field="industry", extra_key="stray", operator="equals", value="IT", points=1
    )

    assert rule.value == "150"
    assert empty.value == ""
    assert (extra.extra_key, extra.value) == ("budget_band", "high")
    assert not_extra.extra_key == ""


def test_update_and_delete_a_grading_rule(marketing):
    rule = config.create_grading_rule(
        by=marketing, field="industry", operator="equals", value="IT", points=10
    )

    config.update_grading_rule(
        rule,
        by=marketing,
        field="industry",
        operator="equals",
        value="Finance",
        points=-5,
        is_active=False,
    )
    rule.refresh_from_db()
    assert (rule.value, rule.points, rule.is_active, rule.position) == ("Finance", -5, False, 1)

    config.delete_grading_rule(rule, by=marketing)
    assert GradingRule.objects.count() == 0


def test_a_refused_update_leaves_the_rule_as_it_was(marketing):
    rule = config.create_grading_rule(
        by=marketing, field="industry", operator="equals", value="IT", points=10
    )

    with pytest.raises(ValidationFailed):
        config.update_grading_rule(
            rule, by=marketing, field="industry", operator="gte", value="x", points=10
        )

    rule.refresh_from_db()
    assert (rule.operator, rule.value) == ("equals", "IT")


@pytest.mark.parametrize("role", ["rep", "manager", "partner_user"])
def test_only_marketing_and_admins_change_the_configuration(request, source, role):
    user = request.getfixturevalue(role)

    with pytest.raises(NotAllowed):
        config.create_grading_rule(by=user, field="industry", operator="is_set", points=1)
    with pytest.raises(NotAllowed):
        config.create_engagement_rule(by=user, event="page_visit", points=1)
    with pytest.raises(NotAllowed):
        config.create_block_entry(by=user, kind="email_domain", value="spam.example")
    with pytest.raises(NotAllowed):
        config.update_scoring_settings(by=user, ready_min_bant=0)
    with pytest.raises(NotAllowed):
        config.set_source_policy(
            source, by=user, fraud_review_at=10, fraud_reject_at=20, on_duplicate="merge"
        )

    assert GradingRule.objects.count() == 0
    assert EngagementRule.objects.count() == 0
    assert BlockEntry.objects.count() == 0
    assert ScoringSettings.objects.count() == 0
    assert SourcePolicy.objects.count() == 0


# --- Engagement rules ----------------------------------------------------------------------------


def test_engagement_rules_are_created_updated_and_deleted(admin):
    rule = config.create_engagement_rule(
        by=admin, event="page_visit", match=" /pricing ", points=5, is_repeatable=True
    )
    assert (rule.event, rule.match, rule.points, rule.is_repeatable) == (
        "page_visit",
        "/pricing",
        5,
        True,
    )

    config.update_engagement_rule(
        rule, by=admin, event="form_submitted", points=20, is_repeatable=False
    )
    rule.refresh_from_db()
    assert (rule.event, rule.match, rule.points, rule.is_repeatable) == (
        "form_submitted",
        "",
        20,
        False,
    )

    config.delete_engagement_rule(rule, by=admin)
    assert EngagementRule.objects.count() == 0


def test_an_unknown_event_is_refused(admin):
    with pytest.raises(ValidationFailed) as refused:
        config.create_engagement_rule(by=admin, event="tweeted", points="many")

    assert set(refused.value.errors) == {"event", "points"}
    assert EngagementRule.objects.count() == 0


# --- Blocklist -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "country", "stored"),
    [
        ("email_domain", "  Spam.EXAMPLE. ", "", "spam.example"),
        ("email_domain", "@bücher.example", "", "xn--bcher-kva.example"),
        ("email_domain", "someone@Spam.Example", "", "spam.example"),
        ("email", "Ann.Spam@Example.COM", "", "ann.spam@example.com"),
        ("ip", "203.0.113.7", "", "203.0.113.7"),
        ("ip", "203.0.113.9/24", "", "203.0.113.0/24"),
        ("ip", "2001:DB8::1", "", "2001:db8::1"),
        ("phone", "06 1234 5679", "nl", "+31612345679"),
        ("phone", "0031 6 12345679", "", "+31612345679"),
        ("phone", "+49 30 1234567", "", "+49301234567"),
    ],
)
def test_blocklist_values_are_stored_normalised(marketing, kind, value, country, stored):
    entry = config.create_block_entry(
        by=marketing, kind=kind, value=value, country=country, note="from complaint #12"
    )

    assert (entry.kind, entry.value, entry.note, entry.created_by) == (
        kind,
        stored,
        "from complaint #12",
        marketing,
    )


@pytest.mark.parametrize(
    ("kind", "value", "country", "field"),
    [
        ("email_domain", "no-dot", "", "value"),
        ("email_domain", "exa mple.com", "", "value"),
        ("email", "not an address", "", "value"),
        ("ip", "300.1.2.3", "", "value"),
        ("ip", "10.0.0.0/4", "", "value"),
        ("ip", "::/0", "", "value"),
        ("phone", "06 1234 5679", "", "value"),
        ("phone", "12", "NL", "value"),
        ("phone", "06 1234 5679", "XX", "country"),
        ("fax", "123", "", "kind"),
        ("email_domain", "", "", "value"),
    ],
)
def test_bad_blocklist_values_are_refused(marketing, kind, value, country, field):
    with pytest.raises(ValidationFailed) as refused:
        config.create_block_entry(by=marketing, kind=kind, value=value, country=country)

    assert list(refused.value.errors) == [field]
    assert BlockEntry.objects.count() == 0


def test_the_same_value_twice_is_refused(marketing):
    config.create_block_entry(by=marketing, kind="email_domain", value="spam.example")

    with pytest.raises(ValidationFailed) as refused:
        config.create_block_entry(by=marketing, kind="email_domain", value="SPAM.example")

    assert refused.value.errors == {"value": ["spam.example is on the blocklist already."]}
    assert BlockEntry.objects.count() == 1


def test_a_blocklist_entry_can_be_changed_and_removed(marketing):
    entry = config.create_block_entry(by=marketing, kind="ip", value="198.51.100.1")

    config.update_block_entry(entry, by=marketing, kind="ip", value="198.51.100.0/24", note="all")
    entry.refresh_from_db()
    assert (entry.value, entry.note) == ("198.51.100.0/24", "all")

    config.delete_block_entry(entry, by=marketing)
    assert BlockEntry.objects.count() == 0


# --- Scoring settings ----------------------------------------------------------------------------


def test_settings_change_only_what_is_named_and_remember_who(marketing):
    settings = config.update_scoring_settings(
        by=marketing, ready_grades="ba", ready_min_engagement=60, ready_min_bant=3
    )

    settings.refresh_from_db()
    assert (settings.ready_grades, settings.ready_min_engagement, settings.ready_min_bant) == (
        "AB",
        60,
        3,
    )
    assert (settings.grade_a_from, settings.velocity_limit) == (60, 3)
    assert settings.updated_by == marketing
    assert selectors.readiness_sentence(settings) == (
        "Sales-ready when grade is A or B, engagement ≥ 60 and at least 3 of 4 BANT criteria "
        "are met."
    )


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"grade_a_from": 30, "grade_b_from": 30}, {"grade_a_from"}),
        ({"grade_b_from": 10, "grade_c_from": 20}, {"grade_b_from"}),
        ({"grade_a_from": "sixty"}, {"grade_a_from"}),
        ({"ready_grades": "ABE"}, {"ready_grades"}),
        ({"ready_grades": ""}, {"ready_grades"}),
        ({"ready_grades": "<script>"}, {"ready_grades"}),
        ({"ready_min_bant": 5}, {"ready_min_bant"}),
        ({"ready_min_engagement": -1}, {"ready_min_engagement"}),
        ({"ready_min_predictive": 1.5}, {"ready_min_predictive"}),
        ({"ready_min_predictive": float("nan")}, {"ready_min_predictive"}),
        ({"engagement_half_life_days": 0}, {"engagement_half_life_days"}),
        ({"velocity_window_minutes": 0}, {"velocity_window_minutes"}),
        ({"velocity_limit": 0}, {"velocity_limit"}),
        ({"check_mx": "yes"}, {"check_mx"}),
        ({"fraud_weights": {"no_such_rule": 10}}, {"fraud_weights.no_such_rule"}),
        ({"fraud_weights": {"honeypot": 101}}, {"fraud_weights.honeypot"}),
        ({"fraud_weights": ["honeypot"]}, {"fraud_weights"}),
        ({"colour": "blue"}, {"colour"}),
    ],
)
def test_bad_settings_are_refused_with_field_errors(marketing, changes, errors):
    with pytest.raises(ValidationFailed) as refused:
        config.update_scoring_settings(by=marketing, **changes)

    assert set(refused.value.errors) == errors
    assert ScoringSettings.objects.count() == 0


def test_fraud_weights_keep_only_what_differs_from_the_built_in_ones(marketing):
    code, (default, _description) = next(iter(RULE_WEIGHTS.items()))
    other = list(RULE_WEIGHTS)[1]

    settings = config.update_scoring_settings(by=marketing, fraud_weights={code: default, other: 0})

    assert settings.fraud_weights == {other: 0}
    weights = selectors.effective_fraud_weights(settings)
    assert weights[code] == default
    assert weights[other] == 0
    assert set(weights) == set(RULE_WEIGHTS)


def test_the_predicted_chance_can_be_set_and_cleared(marketing):
    config.update_scoring_settings(by=marketing, ready_min_predictive=0.4)
    assert "predicted chance is at least 40%" in selectors.readiness_sentence()

    config.update_scoring_settings(by=marketing, ready_min_predictive=None)
    assert selectors.get_scoring_settings().ready_min_predictive is None


# --- Source policy -------------------------------------------------------------------------------


def test_a_source_policy_is_created_then_changed(marketing, source):
    assert selectors.get_source_policy(source).fraud_review_at == 40

    config.set_source_policy(
        source, by=marketing, fraud_review_at=30, fraud_reject_at=101, on_duplicate="merge"
    )
    config.set_source_policy(
        source, by=marketing, fraud_review_at=50, fraud_reject_at=90, on_duplicate="allow"
    )

    policy = SourcePolicy.objects.get()
    assert (policy.source, policy.fraud_review_at, policy.fraud_reject_at, policy.on_duplicate) == (
        source,
        50,
        90,
        "allow",
    )


@pytest.mark.parametrize(
    ("review", "reject", "action", "errors"),
    [
        (60, 60, "merge", {"fraud_reject_at"}),
        (70, 50, "merge", {"fraud_reject_at"}),
        (10, 102, "merge", {"fraud_reject_at"}),
        (-1, 50, "merge", {"fraud_review_at"}),
        (101, 101, "merge", {"fraud_review_at"}),
        (10, 50, "delete", {"on_duplicate"}),
    ],
)
def test_bad_policies_are_refused(marketing, source, review, reject, action, errors):
    with pytest.raises(ValidationFailed) as refused:
        config.set_source_policy(
            source,
            by=marketing,
            fraud_review_at=review,
            fraud_reject_at=reject,
            on_duplicate=action,
        )

    assert set(refused.value.errors) == errors
    assert SourcePolicy.objects.count() == 0


# --- The next assessment sees the change ---------------------------------------------------------


def _unsaved_lead(source, **fields):
    data = {"first_name": "Ann", "last_name": "de Vries", **fields}
    return leads_services.prepare_lead(data, source=source, by=SYSTEM)


def test_a_rule_change_is_seen_by_the_next_assessment_at_once(marketing, source):
    before = rules.current()  # cached now, for TTL seconds

    rule = config.create_grading_rule(
        by=marketing, field="job_title", operator="contains", value="director", points=15
    )
    config.update_scoring_settings(by=marketing, ready_grades="A", velocity_limit=7)
    ctx = assess(_unsaved_lead(source, email="ann@example.com"))

    assert before.grading == ()
    assert rules.current().grading == (rule,)
    assert ctx.rules.grading == (rule,)
    assert (ctx.settings.ready_grades, ctx.settings.velocity_limit) == ("A", 7)


def test_a_blocked_domain_counts_in_the_next_assessments_fraud_score(marketing, source):
    lead = _unsaved_lead(source, email="ann@spam.example")
    assert assess(lead).fraud_score == 0

    config.create_block_entry(by=marketing, kind="email_domain", value="SPAM.example")
    ctx = assess(_unsaved_lead(source, email="ann@spam.example"))

    codes = [f["code"] for f in ctx.lead.assessment["findings"] if f["stage"] == "fraud"]
    assert "blocklist" in codes
    assert ctx.fraud_score == RULE_WEIGHTS["blocklist"][0]


def test_a_switched_off_fraud_rule_stops_counting(marketing, source):
    config.create_block_entry(by=marketing, kind="email", value="ann@spam.example")
    assert assess(_unsaved_lead(source, email="ann@spam.example")).fraud_score > 0

    config.update_scoring_settings(by=marketing, fraud_weights={"blocklist": 0})
    ctx = assess(_unsaved_lead(source, email="ann@spam.example"))

    assert ctx.fraud_score == 0


def test_a_source_policy_is_what_the_next_assessment_uses(marketing, source):
    config.set_source_policy(
        source, by=marketing, fraud_review_at=5, fraud_reject_at=10, on_duplicate="merge"
    )

    ctx = assess(_unsaved_lead(source, email="ann@example.com"))

    assert (ctx.policy.fraud_review_at, ctx.policy.fraud_reject_at, ctx.policy.on_duplicate) == (
        5,
        10,
        "merge",
    )


def test_a_grading_rule_and_readiness_change_decide_the_next_verdict(marketing, source):
    config.create_grading_rule(
        by=marketing, field="job_title", operator="contains", value="director", points=70
    )
    config.update_scoring_settings(by=marketing, ready_grades="A", ready_min_bant=0)

    ready = assess(_unsaved_lead(source, email="ann@acme.example", job_title="Sales Director"))
    config.update_scoring_settings(by=marketing, ready_grades="B")
    not_ready = assess(_unsaved_lead(source, email="ann@acme.example", job_title="Sales Director"))

    assert (ready.lead.fit_grade, ready.fit_points, ready.sales_ready) == ("A", 70, True)
    assert [f["code"] for f in ready.lead.assessment["findings"] if f["code"] == "fit_rule"] == [
        "fit_rule"
    ]
    assert (not_ready.lead.fit_grade, not_ready.sales_ready) == ("A", False)
