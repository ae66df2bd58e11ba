"""/api/v1/distribution/rules…, /route, /leads/{id}/decisions: the routing rules (draft,
publish, versions, test, dry run), routing a lead now, and the decisions about a lead.

Rules are changed by marketing and admins and read by sales managers too; anyone else gets 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.distribution import selectors, services
from leadloop.distribution.api.base import Strict, _actor, router
from leadloop.distribution.models import RouteDecision, RuleSet
from leadloop.errors import Conflict, NotFound
from leadloop.leads.selectors import get_lead_for


class ConditionIO(Schema):
    field: str = Field(..., max_length=80, description="A lead field, or extra.<name>.")
    op: str = Field(
        ...,
        max_length=20,
        description="eq, ne, in, not_in, between, gte, lte, gt, lt, contains, starts_with, "
        "empty, not_empty (or as typed: =, !=, >=, …)",
    )
    value: str | list[str] | None = None


class ActionIO(Schema):
    kind: Literal["team", "person", "partner", "nurture"]
    team_id: int | None = None
    team: str | None = Field(None, max_length=200, description="Team name (when no team_id).")
    mode: Literal["push", "pool"] | None = None
    user_id: int | None = None
    user: str | None = Field(None, max_length=150, description="User name (when no user_id).")
    partner_id: int | None = None
    partner: str | None = Field(None, max_length=200)


class RuleIO(Schema):
    name: str = Field(..., max_length=200)
    conditions: list[ConditionIO] | str = Field(
        ..., description="A list, or text with one condition a line (country = NL)."
    )
    action: ActionIO


class DocumentIn(Strict):
    rules: list[RuleIO] = Field(default_factory=list, max_length=200)
    default: ActionIO


class DocumentOut(Schema):
    version: int | None
    based_on: int | None = None
    published_at: dt.datetime | None = None
    published_by: str = ""
    note: str = ""
    rules: list[dict[str, Any]]
    default: dict[str, Any]


class VersionOut(Schema):
    version: int
    published_at: dt.datetime
    published_by: str
    note: str
    rules: int


class PublishIn(Strict):
    note: str = Field("", max_length=300)
    document: DocumentIn | None = Field(
        None, description="Publish this rule set; without it, the draft."
    )


class TestIn(Strict):
    lead_id: int
    rules: Literal["active", "draft"] = "active"


class CheckOut(Schema):
    condition: str
    value: str
    ok: bool


class RuleCheckOut(Schema):
    rule: str
    matched: bool
    checks: list[CheckOut]


class TestOut(Schema):
    lead_id: int
    rule: str
    is_default: bool
    action: dict[str, Any]
    target: str
    rep: str
    notes: list[str]
    rules: list[RuleCheckOut]


class DryRunIn(Strict):
    last: int = Field(200, ge=1, le=5000)
    rules: Literal["active", "draft"] = "draft"


class DryRunRow(Schema):
    lead_id: int
    rule: str
    target: str


class DryRunOut(Schema):
    counts: dict[str, int]
    unmatched_rules: list[str]
    leads: list[DryRunRow]


class DecisionOut(Schema):
    id: int
    lead_id: int
    at: dt.datetime
    version: int | None
    rule: str
    outcome: str
    user_id: int | None
    team_id: int | None
    partner_id: int | None
    explanation: str


class RouteIn(Strict):
    lead_id: int


class WaitingOut(Schema):
    routed: int
    failed: list[int]


def _document(rule_set: RuleSet | None) -> DocumentOut:
    if rule_set is None:
        return DocumentOut(version=None, rules=[], default={})
    return DocumentOut(
        version=rule_set.version,
        published_at=rule_set.published_at,
        published_by=rule_set.published_by_label,
        note=rule_set.note,
        rules=rule_set.rules,
        default=rule_set.default,
    )


def _chosen(actor: Actor, which: str) -> dict[str, Any]:
    if which == "draft":
        draft = selectors.get_draft_for(actor)
        return {"rules": draft.rules, "default": draft.default}
    selectors.get_draft_for(actor)  # the permission check
    active = selectors.active_rule_set()
    if active is None:
        raise NotFound("No routing rules are published yet.")
    return {"rules": active.rules, "default": active.default}


def _dump(payload: DocumentIn) -> dict[str, Any]:
    return payload.model_dump(exclude_none=True)


@router.get("/rules", response=DocumentOut, url_name="distribution-rules")
def get_rules(request: HttpRequest) -> DocumentOut:
    """The rules in force (version null: none published, routing is off)."""
    selectors.get_draft_for(_actor(request))
    return _document(selectors.active_rule_set())


@router.get("/rules/draft", response=DocumentOut, url_name="distribution-draft")
def get_draft(request: HttpRequest) -> DocumentOut:
    """The draft being edited (the rules in force when nobody edits)."""
    draft = selectors.get_draft_for(_actor(request))
    return DocumentOut(
        version=None, based_on=draft.based_on, rules=draft.rules, default=draft.default
    )


@router.put("/rules/draft", response=DocumentOut, url_name="distribution-draft-save")
def save_draft(request: HttpRequest, payload: DocumentIn) -> DocumentOut:
    """Check a whole rule set and keep it as the draft; 422 lists every problem."""
    draft = services.save_draft(_dump(payload), by=_actor(request))
    return DocumentOut(
        version=None, based_on=draft.based_on, rules=draft.rules, default=draft.default
    )


@router.post("/rules/publish", response={201: DocumentOut}, url_name="distribution-publish")
def publish(request: HttpRequest, payload: PublishIn) -> Status:
    """Publish the draft (or the document given) as the next version: leads route by it now."""
    document = _dump(payload.document) if payload.document is not None else None
    published = services.publish(by=_actor(request), note=payload.note, document=document)
    return Status(201, _document(published))


@router.get("/rules/versions", response=list[VersionOut], url_name="distribution-versions")
def list_versions(request: HttpRequest) -> list[VersionOut]:
    """Every published version, newest first."""
    return [
        VersionOut(
            version=found.version,
            published_at=found.published_at,
            published_by=found.published_by_label,
            note=found.note,
            rules=len(found.rules),
        )
        for found in selectors.list_versions(_actor(request))[:500]
    ]


@router.get("/rules/versions/{version}", response=DocumentOut, url_name="distribution-version")
def get_version(request: HttpRequest, version: int) -> DocumentOut:
    """One published version, whole."""
    return _document(selectors.get_version_for(_actor(request), version))


@router.post("/rules/test", response=TestOut, url_name="distribution-test")
def test_lead(request: HttpRequest, payload: TestIn) -> TestOut:
    """Which rule a lead matches and why, under the rules in force or the draft; writes nothing."""
    actor = _actor(request)
    trial = services.test_lead(payload.lead_id, _chosen(actor, payload.rules), by=actor)
    return TestOut(
        lead_id=trial.lead.pk,
        rule=trial.match.name,
        is_default=trial.match.is_default,
        action=trial.match.action,
        target=trial.target,
        rep=trial.rep,
        notes=trial.skipped,
        rules=[
            RuleCheckOut(
                rule=name,
                matched=all(check.ok for check in checks),
                checks=[CheckOut(condition=c.text, value=c.value, ok=c.ok) for c in checks],
            )
            for name, checks in trial.rules
        ],
    )


@router.post("/rules/dry-run", response=DryRunOut, url_name="distribution-dry-run")
def dry_run(request: HttpRequest, payload: DryRunIn) -> DryRunOut:
    """Where the newest `last` leads would go under the draft (or the rules in force)."""
    actor = _actor(request)
    result = services.dry_run(_chosen(actor, payload.rules), by=actor, last=payload.last)
    return DryRunOut(
        counts={name or "(default)": count for name, count in result.counts},
        unmatched_rules=result.unmatched_rules,
        leads=[
            DryRunRow(lead_id=lead.pk, rule=match.name, target=target)
            for lead, match, target in result.rows
        ],
    )


def _decision(decision: RouteDecision) -> DecisionOut:
    return DecisionOut(
        id=decision.pk,
        lead_id=decision.lead_id,
        at=decision.at,
        version=decision.version,
        rule=decision.rule_name,
        outcome=decision.outcome,
        user_id=decision.user_id,
        team_id=decision.team_id,
        partner_id=decision.partner_id,
        explanation=decision.explanation,
    )


@router.post("/route", response={201: DecisionOut}, url_name="distribution-route")
def route_lead(request: HttpRequest, payload: RouteIn) -> Status:
    """Route one waiting lead now by the rules in force; 409 when it is not waiting."""
    actor = _actor(request)
    selectors.get_draft_for(actor)  # managers, marketing and admins
    get_lead_for(actor, payload.lead_id)
    decision = services.route_lead(payload.lead_id, by=services.ROUTING)
    if decision is None:
        raise Conflict(
            "The lead is not waiting to be routed (it is not sales-ready, already has an owner "
            "or a pool, or is held), or no rules are published."
        )
    return Status(201, _decision(decision))


@router.post("/route/waiting", response=WaitingOut, url_name="distribution-route-waiting")
def route_waiting(request: HttpRequest) -> WaitingOut:
    """Route every lead still waiting (after fixing the rules); marketing and admins."""
    require(_actor(request), Permission.CONFIGURE_ROUTING)
    routed, failed = services.route_many(services.waiting_ids(undecided_only=False))
    return WaitingOut(routed=routed, failed=failed)


@router.get(
    "/leads/{lead_id}/decisions", response=list[DecisionOut], url_name="distribution-decisions"
)
def lead_decisions(request: HttpRequest, lead_id: int) -> list[DecisionOut]:
    """Every routing decision about one lead, newest first."""
    return [_decision(d) for d in selectors.list_decisions_for(_actor(request), lead_id)]
