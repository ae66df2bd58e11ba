"""/api/v1/assessment/config: the scoring settings, grading and engagement rules, the blocklist
and the per-source policies. Marketing and admins read and change them; a sales manager may read
the settings (the readiness rule); everyone else is refused (403 problem document)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment.models import BlockEntry, EngagementRule, GradingRule, ScoringSettings
from leadloop.assessment.scoring import selectors
from leadloop.assessment.scoring import services as config
from leadloop.errors import NotAllowed
from leadloop.leads import selectors as leads_selectors

router = Router(tags=["assessment config"])


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


def _configurator(request: HttpRequest) -> Actor:
    actor = _actor(request)
    if not can_manage_configuration(actor):
        raise NotAllowed(_("Only marketing and admins can see the scoring configuration."))
    return actor


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Settings ------------------------------------------------------------------------------------


class FraudRuleOut(Schema):
    code: str
    default: int
    weight: int
    description: str


class SettingsOut(Schema):
    grade_a_from: int
    grade_b_from: int
    grade_c_from: int
    engagement_half_life_days: int
    ready_grades: str
    ready_min_engagement: int
    ready_min_bant: int
    ready_min_predictive: float | None
    fraud_weights: dict[str, int] = Field(description="The weight in force for every rule.")
    fraud_rules: list[FraudRuleOut]
    velocity_window_minutes: int
    velocity_limit: int
    check_mx: bool
    readiness_sentence: str
    updated_by: str | None
    updated_at: dt.datetime | None


class SettingsIn(Strict):
    """Fields left out keep their value. `fraud_weights` replaces the weights: a rule not named
    goes back to its built-in weight."""

    grade_a_from: int | None = None
    grade_b_from: int | None = None
    grade_c_from: int | None = None
    engagement_half_life_days: int | None = None
    ready_grades: str | None = Field(None, description="Letters of ABCD, e.g. AB")
    ready_min_engagement: int | None = None
    ready_min_bant: int | None = None
    ready_min_predictive: float | None = Field(None, description="0–1; null ignores it")
    fraud_weights: dict[str, int] | None = None
    velocity_window_minutes: int | None = None
    velocity_limit: int | None = None
    check_mx: bool | None = None


def settings_out(settings: ScoringSettings) -> SettingsOut:
    rules = selectors.list_fraud_rules(settings)
    return SettingsOut(
        grade_a_from=settings.grade_a_from,
        grade_b_from=settings.grade_b_from,
        grade_c_from=settings.grade_c_from,
        engagement_half_life_days=settings.engagement_half_life_days,
        ready_grades=settings.ready_grades,
        ready_min_engagement=settings.ready_min_engagement,
        ready_min_bant=settings.ready_min_bant,
        ready_min_predictive=settings.ready_min_predictive,
        fraud_weights={rule.code: rule.weight for rule in rules},
        fraud_rules=[FraudRuleOut(**vars(rule)) for rule in rules],
        velocity_window_minutes=settings.velocity_window_minutes,
        velocity_limit=settings.velocity_limit,
        check_mx=settings.check_mx,
        readiness_sentence=selectors.readiness_sentence(settings),
        updated_by=settings.updated_by.username if settings.updated_by else None,
        updated_at=settings.updated_at,
    )


@router.get("/settings", response=SettingsOut, summary="Scoring settings and readiness rule")
def get_settings(request: HttpRequest) -> SettingsOut:
    if not selectors.can_view_readiness_rule(_actor(request)):
        raise NotAllowed(_("Only marketing, admins and sales managers see the scoring settings."))
    return settings_out(selectors.get_scoring_settings())


@router.put("/settings", response=SettingsOut, summary="Change scoring settings")
def put_settings(request: HttpRequest, payload: SettingsIn) -> SettingsOut:
    changes = payload.model_dump(exclude_unset=True)
    return settings_out(config.update_scoring_settings(by=_actor(request), **changes))


# --- Grading rules -------------------------------------------------------------------------------


class GradingRuleIn(Strict):
    field: str = Field(description="country, employees, industry, job_title, source, …, extra")
    operator: str = Field(description="equals, in, contains, gte, lte, is_set, not_set")
    value: str = ""
    extra_key: str = Field("", description="The extra field's name when field is extra")
    points: int
    is_active: bool = True


class GradingRuleOut(Schema):
    id: int
    field: str
    extra_key: str
    operator: str
    value: str
    points: int
    is_active: bool
    position: int


def grading_out(rule: GradingRule) -> GradingRuleOut:
    return GradingRuleOut(
        id=rule.pk,
        field=rule.field,
        extra_key=rule.extra_key,
        operator=rule.operator,
        value=rule.value,
        points=rule.points,
        is_active=rule.is_active,
        position=rule.position,
    )


@router.get("/grading-rules", response=list[GradingRuleOut], summary="Grading rules")
def list_grading_rules(request: HttpRequest) -> list[GradingRuleOut]:
    _configurator(request)
    return [grading_out(rule) for rule in selectors.list_grading_rules()]


@router.post("/grading-rules", response={201: GradingRuleOut}, summary="Add a grading rule")
def create_grading_rule(request: HttpRequest, payload: GradingRuleIn) -> Status[GradingRuleOut]:
    rule = config.create_grading_rule(by=_actor(request), **payload.model_dump())
    return Status(201, grading_out(rule))


@router.put("/grading-rules/{rule_id}", response=GradingRuleOut, summary="Change a grading rule")
def update_grading_rule(
    request: HttpRequest, rule_id: int, payload: GradingRuleIn
) -> GradingRuleOut:
    actor = _configurator(request)
    rule = selectors.get_grading_rule(rule_id)
    return grading_out(config.update_grading_rule(rule, by=actor, **payload.model_dump()))


@router.delete("/grading-rules/{rule_id}", response={204: None}, summary="Delete a grading rule")
def delete_grading_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    actor = _configurator(request)
    config.delete_grading_rule(selectors.get_grading_rule(rule_id), by=actor)
    return Status(204, None)


# --- Engagement rules ----------------------------------------------------------------------------


class EngagementRuleIn(Strict):
    event: str = Field(description="form_submitted, email_opened, email_clicked, page_visit, …")
    match: str = ""
    points: int
    is_repeatable: bool = True
    is_active: bool = True


class EngagementRuleOut(Schema):
    id: int
    event: str
    match: str
    points: int
    is_repeatable: bool
    is_active: bool


def engagement_out(rule: EngagementRule) -> EngagementRuleOut:
    return EngagementRuleOut(
        id=rule.pk,
        event=rule.event,
        match=rule.match,
        points=rule.points,
        is_repeatable=rule.is_repeatable,
        is_active=rule.is_active,
    )


@router.get("/engagement-rules", response=list[EngagementRuleOut], summary="Engagement rules")
def list_engagement_rules(request: HttpRequest) -> list[EngagementRuleOut]:
    _configurator(request)
    return [engagement_out(rule) for rule in selectors.list_engagement_rules()]


@router.post(
    "/engagement-rules", response={201: EngagementRuleOut}, summary="Add an engagement rule"
)
def create_engagement_rule(
    request: HttpRequest, payload: EngagementRuleIn
) -> Status[EngagementRuleOut]:
    rule = config.create_engagement_rule(by=_actor(request), **payload.model_dump())
    return Status(201, engagement_out(rule))


@router.put(
    "/engagement-rules/{rule_id}", response=EngagementRuleOut, summary="Change an engagement rule"
)
def update_engagement_rule(
    request: HttpRequest, rule_id: int, payload: EngagementRuleIn
) -> EngagementRuleOut:
    actor = _configurator(request)
    rule = selectors.get_engagement_rule(rule_id)
    return engagement_out(config.update_engagement_rule(rule, by=actor, **payload.model_dump()))


@router.delete(
    "/engagement-rules/{rule_id}", response={204: None}, summary="Delete an engagement rule"
)
def delete_engagement_rule(request: HttpRequest, rule_id: int) -> Status[None]:
    actor = _configurator(request)
    config.delete_engagement_rule(selectors.get_engagement_rule(rule_id), by=actor)
    return Status(204, None)


# --- Blocklist -----------------------------------------------------------------------------------


class BlockEntryIn(Strict):
    kind: str = Field(description="email_domain, email, ip or phone")
    value: str
    note: str = ""
    country: str = Field("", description="Region for a phone number without country code")


class BlockEntryOut(Schema):
    id: int
    kind: str
    value: str
    note: str
    created_by: str | None
    created_at: dt.datetime


def block_out(entry: BlockEntry) -> BlockEntryOut:
    return BlockEntryOut(
        id=entry.pk,
        kind=entry.kind,
        value=entry.value,
        note=entry.note,
        created_by=entry.created_by.username if entry.created_by else None,
        created_at=entry.created_at,
    )


@router.get("/blocklist", response=list[BlockEntryOut], summary="The blocklist")
def list_blocklist(request: HttpRequest, kind: str | None = None) -> list[BlockEntryOut]:
    _configurator(request)
    return [block_out(entry) for entry in selectors.list_block_entries(kind=kind)]


@router.post("/blocklist", response={201: BlockEntryOut}, summary="Block a value")
def create_block_entry(request: HttpRequest, payload: BlockEntryIn) -> Status[BlockEntryOut]:
    entry = config.create_block_entry(by=_actor(request), **payload.model_dump())
    return Status(201, block_out(entry))


@router.put("/blocklist/{entry_id}", response=BlockEntryOut, summary="Change a blocklist entry")
def update_block_entry(request: HttpRequest, entry_id: int, payload: BlockEntryIn) -> BlockEntryOut:
    actor = _configurator(request)
    entry = selectors.get_block_entry(entry_id)
    return block_out(config.update_block_entry(entry, by=actor, **payload.model_dump()))


@router.delete("/blocklist/{entry_id}", response={204: None}, summary="Unblock a value")
def delete_block_entry(request: HttpRequest, entry_id: int) -> Status[None]:
    actor = _configurator(request)
    config.delete_block_entry(selectors.get_block_entry(entry_id), by=actor)
    return Status(204, None)


# --- Source policy -------------------------------------------------------------------------------


class PolicyIn(Strict):
    fraud_review_at: int = Field(description="Hold for review from this fraud score (0–100)")
    fraud_reject_at: int = Field(description="Refuse from this fraud score (101: never)")
    on_duplicate: str = Field(description="merge, review or allow")


class PolicyOut(Schema):
    source_id: int
    source: str
    fraud_review_at: int
    fraud_reject_at: int
    on_duplicate: str
    is_default: bool


def _policy_out(request: HttpRequest, source_id: int) -> PolicyOut:
    source = leads_selectors.get_source_for(_actor(request), source_id)
    policy = selectors.get_source_policy(source)
    return PolicyOut(
        source_id=source.pk,
        source=source.name,
        fraud_review_at=policy.fraud_review_at,
        fraud_reject_at=policy.fraud_reject_at,
        on_duplicate=policy.on_duplicate,
        is_default=policy._state.adding,
    )


@router.get("/sources/{source_id}/policy", response=PolicyOut, summary="A source's policy")
def get_source_policy(request: HttpRequest, source_id: int) -> PolicyOut:
    _configurator(request)
    return _policy_out(request, source_id)


@router.put("/sources/{source_id}/policy", response=PolicyOut, summary="Set a source's policy")
def put_source_policy(request: HttpRequest, source_id: int, payload: PolicyIn) -> PolicyOut:
    actor = _configurator(request)
    source = leads_selectors.get_source_for(actor, source_id)
    config.set_source_policy(source, by=actor, **payload.model_dump())
    return _policy_out(request, source_id)
