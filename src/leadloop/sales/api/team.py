"""/api/v1/sales/team, /teams/{id}/rules, /sla-targets, /sla/breaches: the manager's view of a
team, its first-contact rules and targets, and the clocks that ran out (sales managers for
their teams, marketing and admins for all; reps and partners are refused)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status
from pydantic import BaseModel, ConfigDict

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.accounts.models import Team
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads.models import Lead
from leadloop.leads.selectors import get_linkable_source
from leadloop.sales.api.base import sales_router
from leadloop.sales.models import FirstContactClock, SlaTarget, TeamSla
from leadloop.sales.selectors import team as selectors
from leadloop.sales.services import rules

WEEKDAYS = "1234567"


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class TeamRef(BaseModel):
    id: int
    name: str


class RepOut(BaseModel):
    user_id: int
    username: str
    name: str
    is_member: bool = Field(description="False: owns leads of the team but is not in it.")
    open_leads: int
    overdue: int
    no_next_step: int
    not_contacted: int = Field(description="Assigned leads nobody reached yet.")
    tasks_today: int


class TeamLeadOut(BaseModel):
    id: int
    name: str
    status: str
    priority: int
    assigned_to_id: int | None
    owner: str | None
    next_follow_up_at: dt.datetime | None


class BreachOut(BaseModel):
    lead_id: int
    name: str
    status: str
    team_id: int | None
    assigned_to_id: int | None
    owner: str | None
    due_at: dt.datetime
    breached_at: dt.datetime
    state: str = Field(description="running (still not contacted), late, stopped")


class TeamViewOut(BaseModel):
    team: TeamRef | None
    teams: list[TeamRef]
    at: dt.datetime
    week_start: dt.datetime
    open_leads: int
    pool: int
    owned: int = Field(description="Leads being worked (assigned, contacted, quoted).")
    overdue: int
    overdue_percent: int = Field(description="Of the owned leads; the norm is 0.")
    no_next_step: int
    followed_up_percent: int = Field(description="Owned leads with a next step; the norm is 100.")
    breached_this_week: int
    late_now: int
    reps: list[RepOut]
    overdue_leads: list[TeamLeadOut]
    no_next_step_leads: list[TeamLeadOut]
    breached_leads: list[BreachOut]


class RulesIn(Strict):
    time_zone: str | None = Field(None, max_length=100, description="IANA, Europe/Amsterdam.")
    holiday_country: str | None = Field(None, max_length=10, description="ISO code; '': none.")
    holiday_subdivision: str | None = Field(None, max_length=20)
    work_days: str | None = Field(None, max_length=7, description="ISO weekdays, 1 = Monday.")
    opens: dt.time | None = None
    closes: dt.time | None = None
    target_minutes: int | None = Field(None, description="Business minutes; null: one day.")
    remind_at_percent: int | None = None
    on_breach: str | None = Field(None, max_length=10, description="alert, pool or reroute")
    restart_on_reassign: bool | None = None


class RulesOut(Schema):
    team_id: int
    team: str
    is_default: bool
    time_zone: str
    holiday_country: str
    holiday_subdivision: str
    work_days: str
    opens: dt.time
    closes: dt.time
    target_minutes: int | None
    business_day_minutes: int
    remind_at_percent: int
    on_breach: str
    restart_on_reassign: bool
    updated_at: dt.datetime | None
    due_if_received_now: dt.datetime | None


class TargetIn(Strict):
    team_id: int | None = None
    source_id: int | None = None
    fit_grade: str = Field("", max_length=1)
    business_minutes: int


class TargetOut(Schema):
    id: int
    team_id: int | None
    team: str | None
    source_id: int | None
    source: str | None
    fit_grade: str
    business_minutes: int
    updated_at: dt.datetime


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


def _lead_out(lead: Lead) -> TeamLeadOut:
    return TeamLeadOut(
        id=lead.pk,
        name=str(lead),
        status=lead.status,
        priority=lead.priority,
        assigned_to_id=lead.assigned_to_id,
        owner=lead.assigned_to.display_name if lead.assigned_to else None,
        next_follow_up_at=lead.next_follow_up_at,
    )


def _breach_out(lead: Lead, *, team_id: int | None, due_at: Any, at: Any, state: str) -> BreachOut:
    return BreachOut(
        lead_id=lead.pk,
        name=str(lead),
        status=lead.status,
        team_id=team_id,
        assigned_to_id=lead.assigned_to_id,
        owner=lead.assigned_to.display_name if lead.assigned_to else None,
        due_at=due_at,
        breached_at=at,
        state=state,
    )


@sales_router.get("/team", response=TeamViewOut, url_name="sales-team")
def get_team_view(request: HttpRequest, team: int | None = None) -> TeamViewOut:
    """A team's open leads, overdue ones, leads without a next step, first contacts too late
    this week and running late now, and each person's workload (your own team by default)."""
    actor = _actor(request)
    found = selectors.get_team_for(actor, team)
    board = selectors.team_board(actor, found)
    return TeamViewOut(
        team=TeamRef(id=found.pk, name=found.name) if found else None,
        teams=[TeamRef(id=t.pk, name=t.name) for t in selectors.list_viewable_teams(actor)],
        at=board.now,
        week_start=board.week_start,
        open_leads=board.open_leads,
        pool=board.pool,
        owned=board.owned,
        overdue=board.overdue,
        overdue_percent=board.overdue_percent,
        no_next_step=board.no_next_step,
        followed_up_percent=board.followed_up_percent,
        breached_this_week=board.breached_this_week,
        late_now=board.late_now,
        reps=[
            RepOut(
                user_id=rep.user.pk,
                username=rep.user.username,
                name=rep.user.display_name,
                is_member=rep.is_member,
                open_leads=rep.open_leads,
                overdue=rep.overdue,
                no_next_step=rep.no_next_step,
                not_contacted=rep.not_contacted,
                tasks_today=rep.tasks_today,
            )
            for rep in board.reps
        ],
        overdue_leads=[_lead_out(lead) for lead in board.overdue_leads],
        no_next_step_leads=[_lead_out(lead) for lead in board.no_next_step_leads],
        breached_leads=[
            _breach_out(
                row.lead,
                team_id=found.pk if found else None,
                due_at=row.due_at,
                at=row.breached_at,
                state=row.state,
            )
            for row in board.breached_leads
        ],
    )


def _rules_out(team: Team) -> RulesOut:
    saved = TeamSla.objects.filter(team=team).first()
    current = saved or TeamSla(team=team)
    day = rules.calendar_of(current).business_day
    return RulesOut(
        team_id=team.pk,
        team=team.name,
        is_default=saved is None,
        time_zone=current.time_zone,
        holiday_country=current.holiday_country,
        holiday_subdivision=current.holiday_subdivision,
        work_days="".join(str(int(d) + 1) for d in current.work_days),
        opens=current.opens,
        closes=current.closes,
        target_minutes=current.target_minutes,
        business_day_minutes=int(day.total_seconds() // 60),
        remind_at_percent=current.remind_at_percent,
        on_breach=current.on_breach,
        restart_on_reassign=current.restart_on_reassign,
        updated_at=saved.updated_at if saved else None,
        due_if_received_now=rules.due_if_received(team.pk, at=timezone.now()),
    )


def _viewable_team(actor: Actor, team_id: int) -> Team:
    found = selectors.get_team_for(actor, team_id)
    if found is None:  # pragma: no cover - an id always finds a team or raises
        raise NotFound(_("No such team."))
    return found


@sales_router.get("/teams/{team_id}/rules", response=RulesOut, url_name="sales-team-rules")
def get_team_rules(request: HttpRequest, team_id: int) -> RulesOut:
    """A team's working time, holiday calendar and first-contact rules (the defaults while it
    has none of its own), and when a lead received now would be due."""
    return _rules_out(_viewable_team(_actor(request), team_id))


@sales_router.put("/teams/{team_id}/rules", response=RulesOut, url_name="sales-team-rules-set")
def set_team_rules(request: HttpRequest, team_id: int, payload: RulesIn) -> RulesOut:
    """Change a team's rules (its manager or an admin); fields left out keep their value."""
    actor = _actor(request)
    team = _viewable_team(actor, team_id)
    values = payload.model_dump(exclude_unset=True)
    if "work_days" in values:
        days = values["work_days"] or ""
        if any(day not in WEEKDAYS for day in days):
            raise ValidationFailed(
                _("Some fields are not valid."),
                errors={"work_days": [_("Choose one or more working days.")]},
            )
        values["work_days"] = "".join(str(int(day) - 1) for day in days)
    for name in set(RulesIn.model_fields) - {"target_minutes"}:
        if name in values and values[name] is None:
            raise ValidationFailed(_("Some fields are not valid."), errors={name: [_("Required.")]})
    rules.set_team_rules(team, values, by=actor)
    rules.forget()
    return _rules_out(team)


def _target_out(target: SlaTarget) -> TargetOut:
    return TargetOut(
        id=target.pk,
        team_id=target.team_id,
        team=target.team.name if target.team else None,
        source_id=target.source_id,
        source=target.source.name if target.source else None,
        fit_grade=target.fit_grade,
        business_minutes=target.business_minutes,
        updated_at=target.updated_at,
    )


@sales_router.get("/sla-targets", response=list[TargetOut], url_name="sales-sla-targets")
def list_sla_targets(request: HttpRequest, team: int | None = None) -> list[TargetOut]:
    """First-contact targets by team, source and fit grade; with `team`, those that apply to
    its leads (its own and those for every team)."""
    actor = _actor(request)
    found = _viewable_team(actor, team) if team is not None else None
    return [_target_out(t) for t in selectors.list_targets(actor, team=found)]


@sales_router.post("/sla-targets", response={201: TargetOut}, url_name="sales-sla-targets-set")
def set_sla_target(request: HttpRequest, payload: TargetIn) -> Status[TargetOut]:
    """Add a target, or change the one for the same team, source and grade."""
    actor = _actor(request)
    selectors.require_team_viewer(actor)
    team = None
    if payload.team_id is not None:
        try:
            team = _viewable_team(actor, payload.team_id)
        except NotFound as exc:
            raise ValidationFailed(
                _("Some fields are not valid."), errors={"team_id": [_("Unknown team.")]}
            ) from exc
    source = (
        get_linkable_source(actor, payload.source_id, field="source_id")
        if payload.source_id is not None
        else None
    )
    target = rules.set_target(
        by=actor,
        team=team,
        source=source,
        fit_grade=payload.fit_grade,
        business_minutes=payload.business_minutes,
    )
    rules.forget()
    return Status(201, _target_out(selectors.get_target_for(actor, target.pk)))


@sales_router.delete(
    "/sla-targets/{target_id}", response={204: None}, url_name="sales-sla-target-delete"
)
def delete_sla_target(request: HttpRequest, target_id: int) -> Status[None]:
    """Remove a target; its leads fall back to the next most specific one."""
    rules.delete_target(target_id, by=_actor(request))
    rules.forget()
    return Status(204, None)


class BreachFilter(Schema):
    since: dt.datetime | None = Field(None, description="Default: seven days ago.")


@sales_router.get("/sla/breaches", response=list[BreachOut], url_name="sales-sla-breaches")
def list_sla_breaches(request: HttpRequest, filters: Query[BreachFilter]) -> list[BreachOut]:
    """First-contact clocks that ran out since `since`, newest first (500 at most)."""
    since = filters.since or timezone.now() - dt.timedelta(days=7)
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    clocks: list[FirstContactClock] = selectors.list_breaches(_actor(request), since=since)
    return [
        _breach_out(
            clock.lead,
            team_id=clock.team_id,
            due_at=clock.due_at,
            at=clock.breached_at,
            state=clock.state,
        )
        for clock in clocks
    ]
