"""/api/v1/analytics/alerts: the alert rules with what breaches them now; add, pause, resume,
delete, and check them all at once (marketing and admins every rule; sales managers the team
rules and their own)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Status
from pydantic import BaseModel, ConfigDict

from leadloop.accounts.actors import actor_from_request
from leadloop.analytics.models import AlertRule
from leadloop.analytics.selectors import alerts as selectors
from leadloop.analytics.services import alerts as services
from leadloop.leads.selectors import get_linkable_source

router = Router()


class BreachOut(BaseModel):
    subject: str = Field(description="source or team")
    subject_id: int
    name: str
    value: Decimal | None
    since: dt.datetime


class AlertOut(BaseModel):
    id: int
    name: str
    kind: str = Field(description="cpo_above, roi_below, overdue_above, source_silent")
    threshold: Decimal | None
    window_days: int
    silent_hours: int
    source_id: int | None
    team_id: int | None
    owner_id: int
    is_active: bool
    breaching: list[BreachOut]


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=120)
    kind: str
    threshold: Decimal | None = Field(
        None, description="CPO: an amount; ROI: a ratio (1 = break-even); overdue: a percentage"
    )
    window_days: int = Field(30, ge=1, le=366)
    silent_hours: int = Field(24, ge=1, le=336)
    source_id: int | None = None
    team_id: int | None = None
    owner_id: int | None = Field(None, description="Who is told; empty: the caller")


def alert_out(rule: AlertRule) -> AlertOut:
    return AlertOut(
        id=rule.pk,
        name=rule.name,
        kind=rule.kind,
        threshold=rule.threshold,
        window_days=rule.window_days,
        silent_hours=rule.silent_hours,
        source_id=rule.source_id,
        team_id=rule.team_id,
        owner_id=rule.owner_id,
        is_active=rule.is_active,
        breaching=[
            BreachOut(
                subject=s.subject,
                subject_id=s.subject_id,
                name=s.subject_name,
                value=s.value,
                since=s.breached_at,
            )
            for s in getattr(rule, "breaching", [])
            if s.breached_at is not None
        ],
    )


@router.get("", response=list[AlertOut], summary="Alert rules and what breaches them now")
def list_alerts(request: HttpRequest) -> list[AlertOut]:
    return [alert_out(rule) for rule in selectors.list_rules_for(actor_from_request(request))]


@router.post("", response={201: AlertOut}, summary="Add an alert rule")
def create_alert(request: HttpRequest, payload: AlertIn) -> Status[AlertOut]:
    actor = actor_from_request(request)
    data: dict[str, Any] = payload.model_dump()
    owner_id = data.pop("owner_id")
    source_id, team_id = data.pop("source_id"), data.pop("team_id")
    owner = selectors.get_owner_choice(actor, owner_id) if owner_id else actor
    source = get_linkable_source(actor, source_id, field="source_id") if source_id else None
    team = selectors.get_team_choice(actor, team_id) if team_id else None
    rule = services.create_rule(by=actor, owner=owner, source=source, team=team, **data)  # type: ignore[arg-type]
    return Status(201, alert_out(selectors.get_rule_for(actor, rule.pk)))


class CheckOut(BaseModel):
    rules: int
    breached: int
    recovered: int


@router.post("/check", response=CheckOut, summary="Check every alert rule now")
def check_alerts(request: HttpRequest) -> CheckOut:
    selectors.list_rules_for(actor_from_request(request))
    return CheckOut(**services.evaluate())


@router.post("/{alert_id}/pause", response=AlertOut, summary="Stop checking an alert rule")
def pause_alert(request: HttpRequest, alert_id: int) -> AlertOut:
    actor = actor_from_request(request)
    rule = services.set_active(selectors.get_rule_for(actor, alert_id), active=False, by=actor)
    return alert_out(selectors.get_rule_for(actor, rule.pk))


@router.post("/{alert_id}/resume", response=AlertOut, summary="Check an alert rule again")
def resume_alert(request: HttpRequest, alert_id: int) -> AlertOut:
    actor = actor_from_request(request)
    rule = services.set_active(selectors.get_rule_for(actor, alert_id), active=True, by=actor)
    return alert_out(selectors.get_rule_for(actor, rule.pk))


@router.delete("/{alert_id}", response={204: None}, summary="Delete an alert rule")
def delete_alert(request: HttpRequest, alert_id: int) -> Status[None]:
    actor = actor_from_request(request)
    services.delete_rule(selectors.get_rule_for(actor, alert_id), by=actor)
    return Status(204, None)
