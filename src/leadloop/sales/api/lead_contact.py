"""/api/v1/leads/{lead_id}/...: contact with one lead (calls, meetings, e-mails), won and lost,
and the first-contact clock with its history. The same rules as `lead_work`: the lead is resolved
through `get_lead_for` first, so a lead the caller may not see is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.accounts.models import User
from leadloop.core.schemas import StrictIn as In
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, Lead
from leadloop.leads.selectors import find_lost_reason, get_lead_for
from leadloop.sales.api.base import Amount, aware, lead_router
from leadloop.sales.models import FirstContactClock, OutgoingEmail, SlaEvent
from leadloop.sales.selectors import lead as selectors
from leadloop.sales.selectors.templates import get_template_for
from leadloop.sales.services import clocks, contact, quotes


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


# --- Contact -----------------------------------------------------------------------------------


class CallOut(Schema):
    id: int
    at: dt.datetime
    by: str
    outcome: str
    duration_seconds: int | None
    callback_at: dt.datetime | None
    note: str


class CallIn(In):
    outcome: str = Field(..., description="reached, no_answer, voicemail, wrong_number or callback")
    duration_seconds: int | None = None
    note: str = Field("", max_length=5000)
    callback_at: dt.datetime | None = Field(None, description="Required for callback")


class MeetingIn(In):
    note: str = Field(..., max_length=5000)


class ActivityOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    by: str
    note: str


def _call(activity: Activity) -> dict[str, Any]:
    data = activity.data or {}
    callback = data.get("callback_at")
    return {
        "id": activity.pk,
        "at": activity.created_at,
        "by": activity.actor_shown,
        "outcome": data.get("outcome", ""),
        "duration_seconds": data.get("duration_seconds"),
        "callback_at": dt.datetime.fromisoformat(callback) if callback else None,
        "note": activity.message,
    }


@lead_router.get("/{lead_id}/calls", response=list[CallOut], url_name="followup-calls")
def list_lead_calls(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The calls logged on the lead, newest first."""
    return [_call(a) for a in selectors.list_lead_calls(_actor(request), lead_id)]


@lead_router.post("/{lead_id}/calls", response={201: CallOut}, url_name="followup-call-add")
def log_lead_call(request: HttpRequest, lead_id: int, payload: CallIn) -> Status:
    """Log a call. Reaching the person (reached, callback) moves an assigned lead to contacted
    and stops the first-contact clock; `callback` plans the call-back as a next step."""
    actor = _actor(request)
    lead = selectors.get_lead_to_log(actor, lead_id)
    callback = payload.outcome == contact.CallOutcome.CALLBACK or payload.callback_at is not None
    if callback and selectors.is_partner(actor):
        raise ValidationFailed(
            _("Plan call-backs in your own agenda."),
            errors={"callback_at": [_("Partners do not plan tasks in Leadloop.")]},
        )
    values = payload.dict()
    values["callback_at"] = aware(payload.callback_at) if payload.callback_at else None
    return Status(201, _call(contact.log_call(lead, by=actor, **values)))


@lead_router.post(
    "/{lead_id}/meetings", response={201: ActivityOut}, url_name="followup-meeting-add"
)
def log_lead_meeting(request: HttpRequest, lead_id: int, payload: MeetingIn) -> Status:
    """Log a meeting with the person (it counts as reaching them)."""
    actor = _actor(request)
    lead = selectors.get_lead_to_log(actor, lead_id)
    activity = contact.log_meeting(lead, by=actor, note=payload.note)
    return Status(
        201,
        {
            "id": activity.pk,
            "kind": activity.kind,
            "at": activity.created_at,
            "by": activity.actor_shown,
            "note": activity.message,
        },
    )


class EmailIn(In):
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=20000)
    template_id: int | None = Field(
        None, description="Fill an empty subject or body from this template"
    )


class EmailOut(Schema):
    id: int
    to: str
    subject: str
    body: str
    message_id: str
    state: str
    created_at: dt.datetime


@lead_router.post("/{lead_id}/emails", response={201: EmailOut}, url_name="followup-email-send")
def send_lead_email(request: HttpRequest, lead_id: int, payload: EmailIn) -> Status:
    """Send an e-mail to the lead through SMTP (409 when no mail server is set up)."""
    actor = _actor(request)
    lead = selectors.get_lead_to_work(actor, lead_id)
    sender = cast(User, actor)
    subject, body = payload.subject, payload.body
    if payload.template_id is not None:
        template = get_template_for(actor, payload.template_id)
        subject = subject or contact.fill(template.subject, lead=lead, sender=sender)
        body = body or contact.fill(template.body, lead=lead, sender=sender)
    mail: OutgoingEmail = contact.send_email(lead, by=sender, subject=subject, body=body)
    return Status(
        201,
        {
            "id": mail.pk,
            "to": mail.to,
            "subject": mail.subject,
            "body": mail.body,
            "message_id": mail.message_id,
            "state": mail.state,
            "created_at": mail.created_at,
        },
    )


# --- Won and lost ------------------------------------------------------------------------------


class WonIn(In):
    order_value: Amount | None = Field(None, description="Empty: the current quote's amount")
    won_on: dt.date | None = None
    note: str = Field("", max_length=5000)


class LostIn(In):
    lost_reason: str = Field(..., max_length=100, description="A name from /lost-reasons")
    competitor: str = Field("", max_length=200)
    note: str = Field("", max_length=5000)


class OutcomeOut(Schema):
    id: int
    status: str
    order_value: str | None
    currency: str
    lost_reason: str | None
    competitor: str | None
    closed_at: dt.datetime | None


def _outcome(actor: Actor, lead: Lead) -> dict[str, Any]:
    fresh = get_lead_for(actor, lead.pk)
    return {
        "id": fresh.pk,
        "status": fresh.status,
        "order_value": str(fresh.order_value) if fresh.order_value is not None else None,
        "currency": fresh.currency,
        "lost_reason": fresh.lost_reason.name if fresh.lost_reason else None,
        "competitor": fresh.competitor or None,
        "closed_at": fresh.closed_at,
    }


@lead_router.post("/{lead_id}/won", response=OutcomeOut, url_name="followup-won")
def win_lead(request: HttpRequest, lead_id: int, payload: WonIn) -> dict[str, Any]:
    """Won: the order value (the current quote's amount unless given) and the date."""
    actor = _actor(request)
    lead = selectors.get_lead_to_work(actor, lead_id)
    return _outcome(actor, quotes.win(lead, by=actor, **payload.dict()))


@lead_router.post("/{lead_id}/lost", response=OutcomeOut, url_name="followup-lost")
def lose_lead(request: HttpRequest, lead_id: int, payload: LostIn) -> dict[str, Any]:
    """Lost, for a reason from the list, and to a competitor if known."""
    actor = _actor(request)
    lead = selectors.get_lead_to_work(actor, lead_id)
    reason = find_lost_reason(actor, payload.lost_reason)
    lost = quotes.lose(
        lead, by=actor, lost_reason=reason, competitor=payload.competitor, note=payload.note
    )
    return _outcome(actor, lost)


# --- The first-contact clock -------------------------------------------------------------------


class ClockOut(Schema):
    state: str
    started_at: dt.datetime
    due_at: dt.datetime
    target_minutes: int = Field(description="The target in business minutes")
    business_minutes_left: int | None = Field(
        description="Business minutes to the deadline while running; negative when overdue"
    )
    is_overdue: bool
    reminded_at: dt.datetime | None
    breached_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_by: str


class SlaEventOut(Schema):
    kind: str
    at: dt.datetime
    by: str
    data: dict[str, Any]


class SlaOut(Schema):
    clock: ClockOut | None
    history: list[SlaEventOut]


def _clock(clock: FirstContactClock) -> dict[str, Any]:
    summary = clocks.summary(clock, now=timezone.now()) or {}
    left: dt.timedelta | None = summary.get("left")
    minutes = int(left.total_seconds() // 60) if left is not None else None
    return {
        "state": clock.state,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "target_minutes": clock.target_minutes,
        "business_minutes_left": minutes,
        "is_overdue": minutes is not None and minutes < 0,
        "reminded_at": clock.reminded_at,
        "breached_at": clock.breached_at,
        "ended_at": clock.ended_at,
        "ended_by": clock.ended_by,
    }


def _event(event: SlaEvent) -> dict[str, Any]:
    return {"kind": event.kind, "at": event.at, "by": event.by, "data": event.data}


@lead_router.get("/{lead_id}/sla", response=SlaOut, url_name="followup-sla")
def get_lead_sla(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The first-contact clock (business time left, or over) and its history."""
    lead = selectors.get_lead_to_read(_actor(request), lead_id)
    clock = selectors.get_clock(lead)
    return {
        "clock": _clock(clock) if clock is not None else None,
        "history": [_event(e) for e in clocks.history(lead.pk)],
    }
