"""/api/v1/lost-reasons: the reasons offered when a lead is marked lost, kept by admins."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.permissions import Permission, require
from leadloop.leads import selectors, services
from leadloop.leads.api.base import Strict, _actor, lost_reasons
from leadloop.leads.models import LostReason


class LostReasonOut(Schema):
    id: int
    name: str
    is_active: bool = Field(description="Offered when a lead is marked lost")
    lead_count: int = Field(description="Leads lost for this reason")


class LostReasonIn(Strict):
    name: str = Field(max_length=120)


class LostReasonChangeIn(Strict):
    name: str | None = Field(None, max_length=120)
    is_active: bool | None = None


def lost_reason_out(reason: LostReason, *, lead_count: int | None = None) -> LostReasonOut:
    count = getattr(reason, "lead_count", 0) if lead_count is None else lead_count
    return LostReasonOut(
        id=reason.pk, name=reason.name, is_active=reason.is_active, lead_count=count
    )


@lost_reasons.get("", response=list[LostReasonOut], summary="Every lost reason (admins)")
def list_lost_reasons(request: HttpRequest) -> list[LostReasonOut]:
    actor = _actor(request)
    require(actor, Permission.MANAGE_USERS)
    return [lost_reason_out(r) for r in selectors.list_all_lost_reasons(actor)]


@lost_reasons.post("", response={201: LostReasonOut}, summary="Add a lost reason")
def create_lost_reason(request: HttpRequest, payload: LostReasonIn) -> Status[LostReasonOut]:
    actor = _actor(request)
    reason = services.create_lost_reason(by=actor, name=payload.name)
    return Status(201, lost_reason_out(reason, lead_count=0))


@lost_reasons.patch("/{reason_id}", response=LostReasonOut, summary="Rename or (de)activate")
def update_lost_reason(
    request: HttpRequest, reason_id: int, payload: LostReasonChangeIn
) -> LostReasonOut:
    actor = _actor(request)
    require(actor, Permission.MANAGE_USERS)
    reason = selectors.get_any_lost_reason(actor, reason_id)
    count = reason.lead_count  # type: ignore[attr-defined]
    if payload.name is not None:
        reason = services.rename_lost_reason(reason, name=payload.name, by=actor)
    if payload.is_active is not None:
        reason = services.set_lost_reason_active(reason, active=payload.is_active, by=actor)
    return lost_reason_out(reason, lead_count=count)
