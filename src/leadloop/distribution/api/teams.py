"""/api/v1/distribution/teams, /reps, /absences: a team's push strategy and working hours,
reps' capacity and absences (marketing, admins and the team's own manager)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor
from leadloop.distribution import selectors, services
from leadloop.distribution.api.base import Strict, _actor, router


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


def _team(team_id: int, actor: Actor) -> TeamOut:
    team = selectors.get_routing_team_for(actor, team_id)
    return _team_out(team)


def _team_out(team: Any) -> TeamOut:
    routing = selectors.team_routing(team)
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


@router.put("/reps/{user_id}/capacity", response=MemberOut, url_name="distribution-capacity")
def set_capacity(request: HttpRequest, user_id: int, payload: CapacityIn) -> MemberOut:
    """What one rep takes: on or off, most open leads, a daily quota, weight, languages."""
    actor = _actor(request)
    user = selectors.get_team_member_for(actor, user_id)
    services.set_capacity(user, by=actor, **payload.model_dump())
    team_out = _team(user.team_id or 0, actor)
    return next(member for member in team_out.members if member.user_id == user.pk)


@router.post(
    "/reps/{user_id}/absences", response={201: AbsenceOut}, url_name="distribution-absence-add"
)
def add_absence(request: HttpRequest, user_id: int, payload: AbsenceIn) -> Status:
    """Record that a rep is away: routing skips them from `starts_on` to `ends_on`."""
    actor = _actor(request)
    user = selectors.get_team_member_for(actor, user_id)
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
