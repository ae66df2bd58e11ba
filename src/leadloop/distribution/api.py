"""/api/v1/distribution: routing rules (draft, publish, versions, test, dry run), routing a lead
now, the decisions about a lead, and teams' push settings, reps' capacity and absences.

Rules are changed by marketing and admins and read by sales managers too; a team's settings by
marketing, admins and the team's manager. Anyone else gets 403 or 404 and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.distribution import selectors, services
from leadloop.distribution.models import RouteDecision, RuleSet, TeamRouting
from leadloop.errors import Conflict, NotFound
from leadloop.leads.selectors import get_lead_for

router = Router(tags=["distribution"])


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


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


class TeamRoutingIn(Strict):
    strategy: Literal["round_robin", "weighted", "load_balanced"]
    work_days: str = Field("1234567", max_length=7, description="ISO weekdays, 1 = Monday.")
    work_start: dt.time | None = None
    work_end: dt.time | None = None
    pool_alert_hours: int = Field(4, ge=0, le=720, description="0: no alert.")


class AbsenceOut(Schema):
    id: int
    starts_on: dt.date
    ends_on: dt.date
    reason: str


class MemberOut(Schema):
    user_id: int
    username: str
    name: str
    accepts_leads: bool
    max_open: int | None
    daily_quota: int | None
    claim_limit: int | None
    weight: int
    languages: str
    open_leads: int
    pushed_today: int
    absent_today: bool
    absences: list[AbsenceOut]


class TeamOut(Schema):
    id: int
    name: str
    manager: str | None
    strategy: str
    work_days: str
    work_start: dt.time | None
    work_end: dt.time | None
    pool_alert_hours: int
    members: list[MemberOut]


class CapacityIn(Strict):
    accepts_leads: bool = True
    max_open: int | None = Field(None, ge=0, le=100_000)
    daily_quota: int | None = Field(None, ge=0, le=100_000)
    claim_limit: int | None = Field(None, ge=0, le=100_000)
    weight: int = Field(1, ge=1, le=100)
    languages: str = Field("", max_length=60)


class AbsenceIn(Strict):
    starts_on: dt.date
    ends_on: dt.date
    reason: str = Field("", max_length=200)


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


def _team(team_id: int, actor: Actor) -> TeamOut:
    team = selectors.get_routing_team_for(actor, team_id)
    return _team_out(team)


def _team_out(team: Any) -> TeamOut:
    routing = TeamRouting.objects.filter(team=team).first() or TeamRouting(team=team)
    return TeamOut(
        id=team.pk,
        name=team.name,
        manager=team.manager.username if team.manager else None,
        strategy=routing.strategy,
        work_days=routing.work_days,
        work_start=routing.work_start,
        work_end=routing.work_end,
        pool_alert_hours=routing.pool_alert_hours,
        members=[
            MemberOut(
                user_id=row.user.pk,
                username=row.user.username,
                name=row.user.display_name,
                accepts_leads=row.capacity.accepts_leads,
                max_open=row.capacity.max_open,
                daily_quota=row.capacity.daily_quota,
                claim_limit=row.capacity.claim_limit,
                weight=row.capacity.weight,
                languages=row.capacity.languages,
                open_leads=row.open_leads,
                pushed_today=row.today,
                absent_today=row.absence is not None,
                absences=[
                    AbsenceOut(id=a.pk, starts_on=a.starts_on, ends_on=a.ends_on, reason=a.reason)
                    for a in row.upcoming
                ],
            )
            for row in selectors.team_board(team)
        ],
    )


@router.get("/teams", response=list[TeamOut], url_name="distribution-teams")
def list_teams(request: HttpRequest) -> list[TeamOut]:
    """The teams whose routing the caller sets, with each member's capacity and load."""
    return [_team_out(team) for team in selectors.list_routing_teams(_actor(request))]


@router.put("/teams/{team_id}", response=TeamOut, url_name="distribution-team-set")
def set_team(request: HttpRequest, team_id: int, payload: TeamRoutingIn) -> TeamOut:
    """Set a team's push strategy and working hours."""
    actor = _actor(request)
    team = selectors.get_routing_team_for(actor, team_id)
    services.set_team_routing(team, by=actor, **payload.model_dump())
    return _team(team_id, actor)


def _member(actor: Actor, user_id: int) -> User:
    for team in selectors.list_routing_teams(actor):
        found = selectors.team_sales_members(team).filter(pk=user_id).first()
        if found is not None:
            return found
    raise NotFound("No such team member.")


@router.put("/reps/{user_id}/capacity", response=MemberOut, url_name="distribution-capacity")
def set_capacity(request: HttpRequest, user_id: int, payload: CapacityIn) -> MemberOut:
    """What one rep takes: on or off, most open leads, a daily quota, weight, languages."""
    actor = _actor(request)
    user = _member(actor, user_id) if 0 < user_id < 2**63 else None
    if user is None:
        raise NotFound("No such team member.")
    services.set_capacity(user, by=actor, **payload.model_dump())
    team_out = _team(user.team_id or 0, actor)
    return next(member for member in team_out.members if member.user_id == user.pk)


@router.post(
    "/reps/{user_id}/absences", response={201: AbsenceOut}, url_name="distribution-absence-add"
)
def add_absence(request: HttpRequest, user_id: int, payload: AbsenceIn) -> Status:
    """Record that a rep is away: routing skips them from `starts_on` to `ends_on`."""
    actor = _actor(request)
    user = _member(actor, user_id) if 0 < user_id < 2**63 else None
    if user is None:
        raise NotFound("No such team member.")
    absence = services.add_absence(user, by=actor, **payload.model_dump())
    return Status(
        201,
        AbsenceOut(
            id=absence.pk,
            starts_on=absence.starts_on,
            ends_on=absence.ends_on,
            reason=absence.reason,
        ),
    )


@router.delete(
    "/absences/{absence_id}", response={204: None}, url_name="distribution-absence-remove"
)
def remove_absence(request: HttpRequest, absence_id: int) -> Status:
    """Remove an absence (the rep is back early, or it was entered by mistake)."""
    services.remove_absence(absence_id, by=_actor(request))
    return Status(204, None)


class PoolLeadOut(Schema):
    id: int
    name: str
    priority: int
    fit_grade: str
    source: str
    pooled_at: dt.datetime | None


class PoolOut(Schema):
    team_id: int
    total: int
    leads: list[PoolLeadOut]


class ClaimIn(Strict):
    team_id: int | None = Field(None, description="The pool; your own team's by default.")
    lead_id: int | None = Field(None, description="A chosen lead; else the next by priority.")


class ClaimOut(Schema):
    lead_id: int
    team_id: int | None
    assigned_to_id: int | None


@router.get("/pool", response=PoolOut, url_name="distribution-pool")
def get_pool(request: HttpRequest, team_id: int | None = None) -> PoolOut:
    """A team's pool by priority (the first 200): your own team's by default."""
    actor = _actor(request)
    teams = selectors.list_claim_teams(actor) or list(selectors.list_routing_teams(actor))
    team = next((t for t in teams if team_id is None or t.pk == team_id), None)
    if team is None:
        raise NotFound("No such pool.")
    pool = selectors.list_pool(actor, team)
    return PoolOut(
        team_id=team.pk,
        total=pool.count(),
        leads=[
            PoolLeadOut(
                id=lead.pk,
                name=str(lead),
                priority=lead.priority,
                fit_grade=lead.fit_grade,
                source=lead.source.name,
                pooled_at=lead.pooled_at,
            )
            for lead in pool.annotate(pooled_at=services.pooled_since())[:200]
        ],
    )


@router.post("/pool/claim", response={201: ClaimOut}, url_name="distribution-claim")
def claim(request: HttpRequest, payload: ClaimIn) -> Status:
    """Take the next lead of a pool (or the chosen one): 409 when the pool is empty or someone
    else took the lead first, 422 when a limit of yours is reached."""
    actor = _actor(request)
    if not isinstance(actor, User):
        raise NotFound("No such pool.")
    if payload.lead_id is not None:
        lead = services.claim_lead(actor, payload.lead_id)
    else:
        team = None
        if payload.team_id is not None:
            team = next(
                (t for t in selectors.list_claim_teams(actor) if t.pk == payload.team_id), None
            )
            if team is None:
                raise NotFound("No such pool.")
        lead = services.claim_next(actor, team=team)
    return Status(
        201, ClaimOut(lead_id=lead.pk, team_id=lead.team_id, assigned_to_id=lead.assigned_to_id)
    )


class OfferOut(Schema):
    id: int
    lead_id: int
    lead: str
    partner_id: int
    state: str
    offered_at: dt.datetime
    respond_by: dt.datetime
    responded_at: dt.datetime | None
    reason: str


class RejectIn(Strict):
    reason: str = Field(..., min_length=1, max_length=500)


class ScoreOut(Schema):
    partner_id: int
    partner: str
    received: int
    accepted: int
    rejected: int
    expired: int
    waiting: int
    acceptance_rate: float | None
    median_response_hours: float | None
    won: int
    revenue: str


def _offer(found: Any) -> OfferOut:
    return OfferOut(
        id=found.pk,
        lead_id=found.lead_id,
        # A lead the partner turned down is no longer theirs to see: its number only.
        lead=str(found.lead) if found.state in ("offered", "accepted") else f"#{found.lead_id}",
        partner_id=found.partner_id,
        state=found.state,
        offered_at=found.offered_at,
        respond_by=found.respond_by,
        responded_at=found.responded_at,
        reason=found.reason,
    )


def _partner_user(request: HttpRequest) -> User:
    actor = _actor(request)
    if not selectors.is_partner_user(actor):
        raise NotFound("Only partner users have offered leads.")
    return actor  # type: ignore[return-value]


@router.get("/offers", response=list[OfferOut], url_name="distribution-offers")
def list_offers(request: HttpRequest) -> list[OfferOut]:
    """Leads routed to your partner organisation: open offers first, then the last answered."""
    return [_offer(found) for found in services.list_offers_for(_partner_user(request))]


@router.post("/offers/{offer_id}/accept", response=OfferOut, url_name="distribution-offer-accept")
def accept_offer(request: HttpRequest, offer_id: int) -> OfferOut:
    """Take the lead (it stays your organisation's to work); 409 when already answered."""
    found = services.accept_offer(_partner_user(request), offer_id)
    found.refresh_from_db()
    return _offer(found)


@router.post("/offers/{offer_id}/reject", response=OfferOut, url_name="distribution-offer-reject")
def reject_offer(request: HttpRequest, offer_id: int, payload: RejectIn) -> OfferOut:
    """Turn the lead down with a reason: it is routed again, past your organisation."""
    found = services.reject_offer(_partner_user(request), offer_id, reason=payload.reason)
    return _offer(found)


@router.get("/partners/scorecard", response=list[ScoreOut], url_name="distribution-scorecard")
def partner_scorecard(request: HttpRequest) -> list[ScoreOut]:
    """Per partner: leads offered, accepted, rejected, unanswered, the median time to answer,
    leads won and their revenue (marketing, admins, sales managers)."""
    return [
        ScoreOut(
            partner_id=row.partner.pk,
            partner=row.partner.name,
            received=row.received,
            accepted=row.accepted,
            rejected=row.rejected,
            expired=row.expired,
            waiting=row.open,
            acceptance_rate=row.acceptance_rate,
            median_response_hours=row.median_response_hours,
            won=row.won,
            revenue=str(row.revenue),
        )
        for row in services.scorecard(_actor(request))
    ]
