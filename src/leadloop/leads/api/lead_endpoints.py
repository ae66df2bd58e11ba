"""/api/v1/leads: list, create, read, update, move, assign, the timeline and activities."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.lead_fields import FieldView
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads import entry, selectors, services
from leadloop.leads.api.base import Strict, _actor, leads
from leadloop.leads.models import Activity, Lead, Source


class LeadFields(Strict):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2, e.g. NL")
    job_title: str | None = None
    language: str | None = None
    company_name: str | None = None
    organization_id: int | None = None
    campaign_id: int | None = None
    consent_purpose: str | None = None
    consent_at: dt.datetime | None = None
    consent_text_version: str | None = None
    external_ref: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None
    fit_grade: str | None = None
    bant_budget: str | None = None
    bant_authority: str | None = None
    bant_need: str | None = None
    bant_timeframe: str | None = None
    potential_revenue: Decimal | None = None
    probability: int | None = None
    order_value: Decimal | None = None
    currency: str | None = None
    next_follow_up_at: dt.datetime | None = None
    extra: dict[str, Any] | None = None


class LeadCreate(LeadFields):
    source_id: int | None = Field(None, description="Required unless a source key is used.")


class Ref(Schema):
    id: int
    name: str


class LeadOut(Schema):
    """A lead. For a partner user the fields their organisation does not show are null, and
    `hidden_fields` names their keys (accounts.lead_fields; empty for staff)."""

    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    phone_e164: str | None
    street: str | None
    house_number: str | None
    postal_code: str | None
    city: str | None
    region: str | None
    country: str | None
    job_title: str | None
    language: str | None
    company_name: str | None
    organization: Ref | None
    consent_purpose: str | None
    consent_at: dt.datetime | None
    consent_text_version: str | None
    source: Ref | None
    campaign: Ref | None
    external_ref: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    referrer: str | None
    landing_page: str | None
    status: str
    allowed_transitions: list[str]
    assigned_to: Ref | None
    team: Ref | None
    owner_partner: Ref | None
    fit_grade: str | None
    engagement_score: int | None
    predictive_score: float | None
    priority: int | None
    bant_budget: str | None
    bant_authority: str | None
    bant_need: str | None
    bant_timeframe: str | None
    potential_revenue: Decimal | None
    probability: int | None
    weighted_revenue: Decimal | None
    order_value: Decimal | None
    currency: str
    lost_reason: str | None
    competitor: str | None
    first_contact_due_at: dt.datetime | None
    next_follow_up_at: dt.datetime | None
    last_contacted_at: dt.datetime | None
    extra: dict[str, Any] | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    marketing_opt_out_at: dt.datetime | None
    processing_objected_at: dt.datetime | None
    objection_source: str | None
    can_receive_marketing: bool
    erased_at: dt.datetime | None
    hidden_fields: list[str] = Field(
        default_factory=list, description="Field keys not shown to you (null in this answer)"
    )


def _ref(obj: Any, label: str = "name") -> Ref | None:
    if obj is None:
        return None
    name = obj.display_name if isinstance(obj, User) else getattr(obj, label)
    return Ref(id=obj.pk, name=name)


def lead_out(lead: Lead, actor: Actor) -> LeadOut:
    values = {name: getattr(lead, name) for name in LeadOut.model_fields if hasattr(lead, name)}
    values.update(
        phone=lead.phone_raw,
        organization=_ref(lead.organization),
        source=_ref(lead.source),
        campaign=_ref(lead.campaign),
        assigned_to=_ref(lead.assigned_to),
        team=_ref(lead.team),
        owner_partner=_ref(lead.owner_partner),
        lost_reason=lead.lost_reason.name if lead.lost_reason else None,
        allowed_transitions=selectors.list_allowed_moves(actor, lead),
        can_receive_marketing=selectors.can_receive_marketing(lead),
    )
    shown = selectors.fields_shown_to(actor)
    if not shown.everything:
        for name in _hidden_out_fields(shown):
            values[name] = None
        values["hidden_fields"] = sorted(shown.hidden)
    return LeadOut(**values)


# Answer fields that are not a column of the same name, by the key that covers them.
_OUT_ALIASES = {
    "phone": "phone",
    "organization": "company",
    "source": "source",
    "campaign": "source",
    "weighted_revenue": "revenue",
}


def _hidden_out_fields(shown: FieldView) -> list[str]:
    columns = shown.hidden_columns
    named = [name for name in LeadOut.model_fields if name in columns]
    aliased = [name for name, key in _OUT_ALIASES.items() if not shown.shows(key)]
    return named + aliased


class LeadList(Schema):
    items: list[LeadOut]
    next_cursor: str | None
    previous_cursor: str | None = Field(None, description="The page before this one")
    start: int | None = Field(
        None, description="Position of the first item (1-based), when the cursor knows it"
    )
    sort: str


class LeadQuery(Schema):
    status: list[str] = Field(default_factory=list, description="Repeat for several")
    state: Literal["", "open", "closed"] = Field(
        "", description="open (not won, lost or disqualified) or closed; empty for both"
    )
    assigned_to: int | None = None
    unassigned: bool = False
    team: int | None = None
    partner: int | None = None
    source: int | None = None
    campaign: int | None = None
    grade: list[str] = Field(default_factory=list)
    organization: int | None = Field(None, description="Includes the organisation's whole subtree")
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    q: str = Field("", description="Word-prefix search on name, e-mail, company and phone")
    sort: str = Field(
        selectors.DEFAULT_SORT,
        description="created_at, updated_at, last_name, priority, engagement_score; '-' descends",
    )
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)

    def filters(self) -> selectors.LeadFilters:
        return selectors.LeadFilters(
            status=tuple(self.status),
            state=self.state,
            assigned_to=self.assigned_to,
            unassigned=self.unassigned,
            team=self.team,
            partner=self.partner,
            source=self.source,
            campaign=self.campaign,
            grade=tuple(self.grade),
            organization=self.organization,
            created_from=self.created_from,
            created_to=self.created_to,
            q=self.q[:200],
            sort=self.sort,
        )


class TransitionIn(Strict):
    to: str
    lost_reason: str | None = Field(None, description="Required when moving to lost")
    competitor: str = Field("", description="Who won the deal, when moving to lost")
    order_value: Decimal | None = None
    note: str = ""


class AssignIn(Strict):
    user_id: int | None = None
    team_id: int | None = None
    partner_id: int | None = None
    reason: str = Field("", max_length=500, description="Why; shown on the lead's timeline")


class ReassignIn(Strict):
    from_user_id: int = Field(description="Whose open leads move")
    user_id: int | None = Field(None, description="The person who takes them")
    team_id: int | None = Field(None, description="Or the team whose pool takes them")
    reason: str = Field("", max_length=500, description="Why; shown on each lead's timeline")


class ReassignOut(Schema):
    moved: int
    refused: dict[int, str]


class ActivityIn(Strict):
    kind: str = Field(description="note, call, email or meeting")
    message: str


class ActivityOut(Schema):
    id: int
    kind: str
    actor_kind: str
    actor: str
    message: str
    data: dict[str, Any]
    created_at: dt.datetime


def activity_out(activity: Activity) -> ActivityOut:
    return ActivityOut(
        id=activity.pk,
        kind=activity.kind,
        actor_kind=activity.actor_kind,
        actor=activity.actor_label,
        message=activity.message,
        data=activity.data,
        created_at=activity.created_at,
    )


# --- Leads ---------------------------------------------------------------------------------------


@leads.get("", response=LeadList, summary="List leads (filter, search, sort, cursor pages)")
def list_leads(request: HttpRequest, query: Query[LeadQuery]) -> LeadList:
    actor = _actor(request)
    page = selectors.list_leads(actor, query.filters(), cursor=query.cursor, limit=query.limit)
    return LeadList(
        items=[lead_out(lead, actor) for lead in page.items],
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
        start=page.start,
        sort=page.sort,
    )


@leads.post(
    "",
    response={200: LeadOut, 201: LeadOut},
    summary="Create a lead (with a source key: through the intake, 200 for a repeat)",
)
def create_lead(request: HttpRequest, payload: LeadCreate) -> Status[LeadOut]:
    actor = _actor(request)
    data = payload.model_dump(exclude_unset=True)
    source_id = data.pop("source_id", None)
    if isinstance(actor, SourceActor):
        source_id = source_id or actor.source_id
    if source_id is None:
        raise ValidationFailed(
            "Say which source the lead came from.", errors={"source_id": ["Required."]}
        )
    source = _source_for_submit(actor, source_id)
    if isinstance(actor, SourceActor):
        lead_id, is_new = entry.submit_as_source(request, actor, source)
        lead = selectors.get_lead_sent_by(actor, lead_id)
        return Status(201 if is_new else 200, lead_out(lead, actor))
    lead = entry.create_lead(data, source=source, by=actor)
    return Status(201, lead_out(selectors.get_lead_for(actor, lead.pk), actor))


def _source_for_submit(actor: Actor, source_id: int) -> Source:
    if isinstance(actor, SourceActor):
        if source_id != actor.source_id:
            raise NotAllowed("This key may only submit leads to its own source.")
        return Source.objects.get(pk=source_id)
    return selectors.get_linkable_source(actor, source_id, field="source_id")


@leads.post(
    "/reassign",
    response=ReassignOut,
    summary="Move every open lead of a person to another person or a team's pool",
)
def reassign_open_leads(request: HttpRequest, payload: ReassignIn) -> ReassignOut:
    actor = _actor(request)
    owner = selectors.get_lead_owner_for(actor, payload.from_user_id)
    target = services.resolve_assignee(
        by=actor, user_id=payload.user_id, team_id=payload.team_id, partner_id=None
    )
    result = services.reassign_open_leads(owner, by=actor, reason=payload.reason, **target)
    return ReassignOut(moved=result.changed, refused=result.failed)


@leads.get("/{lead_id}", response=LeadOut, summary="One lead")
def get_lead(request: HttpRequest, lead_id: int) -> LeadOut:
    actor = _actor(request)
    lead = lead_out(selectors.get_lead_for(actor, lead_id), actor)
    record_audit(
        actor=actor,
        action=AuditAction.LEAD_VIEWED,
        target_type=AuditTarget.LEAD,
        target_id=lead_id,
        request=request,
    )
    return lead


@leads.patch("/{lead_id}", response=LeadOut, summary="Change a lead's fields")
def update_lead(request: HttpRequest, lead_id: int, payload: LeadFields) -> LeadOut:
    actor = _actor(request)
    lead = selectors.get_lead_for(actor, lead_id)
    services.update_lead(lead, payload.model_dump(exclude_unset=True), by=actor)
    entry.reassess_after_edit(lead)
    return lead_out(selectors.get_lead_for(actor, lead_id), actor)


@leads.post("/{lead_id}/transition", response=LeadOut, summary="Move a lead to another status")
def transition_lead(request: HttpRequest, lead_id: int, payload: TransitionIn) -> LeadOut:
    actor = _actor(request)
    lead = selectors.get_lead_for(actor, lead_id)
    reason = selectors.find_lost_reason(actor, payload.lost_reason) if payload.lost_reason else None
    services.transition(
        lead,
        to=payload.to,
        by=actor,
        lost_reason=reason,
        order_value=payload.order_value,
        note=payload.note,
        competitor=payload.competitor,
    )
    return lead_out(selectors.get_lead_for(actor, lead_id), actor)


@leads.post(
    "/{lead_id}/assign", response=LeadOut, summary="Assign to a user, a team pool or a partner"
)
def assign_lead(request: HttpRequest, lead_id: int, payload: AssignIn) -> LeadOut:
    actor = _actor(request)
    lead = selectors.get_lead_for(actor, lead_id)
    target = services.resolve_assignee(by=actor, **payload.model_dump(exclude={"reason"}))
    # Answer with what was written: after handing a lead on, the caller may no longer see it.
    return lead_out(services.assign_lead(lead, by=actor, reason=payload.reason, **target), actor)


@leads.get(
    "/{lead_id}/timeline", response=list[ActivityOut], summary="A lead's timeline, newest first"
)
def timeline(request: HttpRequest, lead_id: int) -> list[ActivityOut]:
    return [activity_out(a) for a in selectors.list_timeline(_actor(request), lead_id)]


@leads.post(
    "/{lead_id}/activities",
    response={201: ActivityOut},
    summary="Log a note, call, e-mail or meeting",
)
def log_activity(request: HttpRequest, lead_id: int, payload: ActivityIn) -> Status[ActivityOut]:
    actor = _actor(request)
    lead = selectors.get_lead_for(actor, lead_id)
    activity = services.log_activity(lead, kind=payload.kind, message=payload.message, by=actor)
    return Status(201, activity_out(activity))
