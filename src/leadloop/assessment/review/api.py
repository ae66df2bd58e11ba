"""A lead's assessment over the API: read it, assess again, review a held lead, log behaviour."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from leadloop.accounts.selectors import is_staff_role
from leadloop.assessment import services
from leadloop.assessment.review import selectors as review_selectors
from leadloop.errors import NotAllowed, NotFound
from leadloop.leads import selectors as leads_selectors

router = Router()


class AssessmentOut(Schema):
    """A partner user gets null for what their organisation's field list hides."""

    lead_id: int
    status: str
    hold: str | None
    fit_grade: str | None
    fit_points: int | None
    engagement_score: int | None
    predictive_score: float | None
    fraud_score: int | None
    priority: int | None
    sales_ready: bool
    readiness: str
    findings: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    device: dict[str, Any]
    duplicate: dict[str, Any] | None
    appended: dict[str, Any]
    assessed_at: dt.datetime | None


class ReviewIn(Schema):
    decision: str
    note: str = ""


class EventIn(Schema):
    kind: str
    message: str = ""
    data: dict[str, Any] = {}


def _out(lead: Any) -> AssessmentOut:
    view = review_selectors.assessment_view(lead)
    doc = lead.assessment if isinstance(lead.assessment, dict) else {}
    grade, scores = lead.shown.shows("grade"), lead.shown.shows("scores")
    return AssessmentOut(
        lead_id=lead.pk,
        status=lead.status,
        hold=lead.hold,
        fit_grade=lead.fit_grade if grade else None,
        fit_points=int(doc.get("fit_points") or 0) if grade else None,
        engagement_score=lead.engagement_score if scores else None,
        predictive_score=lead.predictive_score,
        fraud_score=lead.fraud_score,
        priority=lead.priority if scores else None,
        sales_ready=bool(view.readiness.get("sales_ready")),
        readiness=str(view.readiness.get("summary", "")),
        findings=[f for stage in view.stages for f in stage.findings],
        errors=view.errors,
        device=view.device,
        duplicate=view.duplicate,
        appended=view.appended,
        assessed_at=lead.assessed_at,
    )


def _staff(request: HttpRequest) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    if not is_staff_role(actor):
        raise NotAllowed("Partner users cannot change assessments.")
    return actor


@router.get("/leads/{lead_id}", response=AssessmentOut, summary="A lead's assessment")
def get_assessment(request: HttpRequest, lead_id: int) -> AssessmentOut:
    """404 for a partner user whose organisation is not shown the findings."""
    lead = leads_selectors.get_lead_for(request.auth, lead_id)  # type: ignore[attr-defined]
    if not lead.shown.shows("findings"):
        raise NotFound(_("This lead's assessment is not shared with your organisation."))
    return _out(lead)


@router.post("/leads/{lead_id}/reassess", response=AssessmentOut, summary="Assess a lead again")
def reassess(request: HttpRequest, lead_id: int) -> AssessmentOut:
    actor = _staff(request)
    lead = leads_selectors.get_lead_for(actor, lead_id)
    services.reassess_lead(lead, by=actor)
    return _out(leads_selectors.get_lead_for(actor, lead_id))


@router.get("/review", response=list[AssessmentOut], summary="Leads held for review")
def review_queue(
    request: HttpRequest,
    response: HttpResponse,
    hold: str = "",
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> list[AssessmentOut]:
    """Highest fraud score first. More pages: the `Link` header's `rel="next"` and
    `rel="prev"` URLs (RFC 8288)."""
    actor = _staff(request)
    page = review_selectors.list_held_leads(actor, hold=hold, cursor=cursor, limit=limit)
    links = [
        f'<{request.build_absolute_uri(request.path)}?{urlencode(params)}>; rel="{rel}"'
        for rel, page_cursor in (("next", page.next_cursor), ("prev", page.previous_cursor))
        if page_cursor
        for params in [{"hold": hold, "limit": limit, "cursor": page_cursor}]
    ]
    if links:
        response["Link"] = ", ".join(links)
    return [_out(lead) for lead in page.items]


@router.post("/review/{lead_id}", response=AssessmentOut, summary="Accept or reject a held lead")
def review(request: HttpRequest, lead_id: int, payload: ReviewIn) -> AssessmentOut:
    actor = _staff(request)
    lead = leads_selectors.get_lead_for(actor, lead_id)
    services.review_lead(lead, decision=payload.decision, by=actor, note=payload.note)
    return _out(leads_selectors.get_lead_for(actor, lead_id))


@router.post(
    "/leads/{lead_id}/events", response=AssessmentOut, summary="Log a behaviour event (engagement)"
)
def log_event(request: HttpRequest, lead_id: int, payload: EventIn) -> AssessmentOut:
    actor = _staff(request)
    lead = leads_selectors.get_lead_for(actor, lead_id)
    services.log_engagement(
        lead, kind=payload.kind, by=actor, data=payload.data, message=payload.message
    )
    return _out(leads_selectors.get_lead_for(actor, lead_id))
