"""/api/v1/audit: the audit log for admins, newest first, in keyset pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from leadloop.accounts.audit_selectors import MAX_PAGE, PAGE_SIZE, AuditFilters, list_audit_events
from leadloop.accounts.models import AuditEvent

router = Router()


class AuditQuery(Schema):
    actor: str = Field("", max_length=150, description="Username (or `cli`, `system`, …)")
    action: str = Field("", max_length=40, description="For example lead_viewed")
    target_type: str = Field("", max_length=40, description="lead, source, user, rule, …")
    target_id: str = Field("", max_length=64)
    lead: int | None = Field(None, description="Shorthand for target_type=lead&target_id=N")
    since: dt.date | None = Field(None, description="From this day (your time zone)")
    until: dt.date | None = Field(None, description="To the end of this day (your time zone)")
    q: str = Field("", max_length=200, description="Text in the target's label")
    before: int | None = Field(None, ge=1, description="next_before of the previous page")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE)

    def filters(self) -> AuditFilters:
        lead = self.lead is not None
        return AuditFilters(
            actor=self.actor,
            action=self.action,
            target_type="lead" if lead else self.target_type,
            target_id=str(self.lead) if lead else self.target_id,
            since=self.since,
            until=self.until,
            q=self.q,
        )


class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    target_label: str
    data: dict[str, Any]
    ip: str
    method: str
    path: str
    request_id: str


class AuditList(Schema):
    items: list[AuditEventOut]
    next_before: int | None


def event_out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        id=event.pk,
        at=event.at,
        actor_id=event.actor_id,
        actor=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        target_label=event.target_label,
        data=event.data,
        ip=event.ip,
        method=event.method,
        path=event.path,
        request_id=event.request_id,
    )


@router.get("", response=AuditList, summary="The audit log, newest first (admins only)")
def list_events(request: HttpRequest, query: Query[AuditQuery]) -> AuditList:
    from leadloop.accounts.actors import actor_from_request

    page = list_audit_events(
        actor_from_request(request), query.filters(), before=query.before, limit=query.limit
    )
    return AuditList(items=[event_out(e) for e in page.items], next_before=page.next_before)
