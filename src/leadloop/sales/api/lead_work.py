"""/api/v1/leads/{lead_id}/...: the follow-up of one lead. Its next steps (tasks), quotes, calls,
meetings, e-mails, won and lost, and the first-contact clock with its history.

Every endpoint resolves the lead through `get_lead_for` first: a lead the caller may not see is
404, and a task or quote id is looked up on that lead only (another lead's id is 404 too).
Company staff read; reps, sales managers and admins change; a partner user may log calls and
meetings on its organisation's leads. Amounts are strings (decimals) with their currency beside
them, never converted and never summed across currencies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema, Status
from pydantic import BeforeValidator, Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.accounts.models import User
from leadloop.accounts.selectors import list_assignable_users
from leadloop.core.schemas import StrictIn as In
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, Lead
from leadloop.leads.selectors import find_lost_reason, get_lead_for
from leadloop.sales.api.base import lead_router
from leadloop.sales.models import FirstContactClock, OutgoingEmail, Quote, SlaEvent, Task
from leadloop.sales.selectors import lead as selectors
from leadloop.sales.selectors.templates import get_template_for
from leadloop.sales.services import clocks, contact, quotes, steps


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


def _as_text(value: Any) -> Any:
    """A JSON number for an amount is taken as its text; the service reads the decimal."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


Amount = Annotated[
    str, BeforeValidator(_as_text), Field(max_length=40, description='A decimal, e.g. "1250.00"')
]


def _aware(value: dt.datetime) -> dt.datetime:
    """A time without an offset is read in the caller's time zone."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# --- Tasks -------------------------------------------------------------------------------------


class OwnerOut(Schema):
    id: int
    name: str


class TaskOut(Schema):
    id: int
    lead_id: int
    kind: str
    title: str
    due_at: dt.datetime
    duration_minutes: int
    repeat_days: int | None
    quote_id: int | None
    owner: OwnerOut
    state: Literal["open", "done", "cancelled"]
    done_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    snoozes: int
    history: list[dict[str, Any]]
    created_by: str
    created_at: dt.datetime


class TaskIn(In):
    kind: str = Field(..., description="call, email, meeting, send_quote or other")
    due_at: dt.datetime
    title: str = Field("", max_length=200)
    owner_id: int | None = Field(None, description="Empty: the lead's owner, else the caller.")
    duration_minutes: int = Field(30, ge=5, le=24 * 60)
    repeat_days: int | None = Field(None, ge=1, le=90)


class TaskMoveIn(In):
    due_at: dt.datetime
    reason: str = Field(..., max_length=300)


class TaskDoneIn(In):
    outcome: str = Field("", max_length=300)


class TaskCancelIn(In):
    reason: str = Field("", max_length=300)


def _task(task: Task) -> dict[str, Any]:
    state = "done" if task.done_at else "cancelled" if task.cancelled_at else "open"
    return {
        "id": task.pk,
        "lead_id": task.lead_id,
        "kind": task.kind,
        "title": task.title,
        "due_at": task.due_at,
        "duration_minutes": task.duration_minutes,
        "repeat_days": task.repeat_days,
        "quote_id": task.quote_id,
        "owner": {"id": task.owner_id, "name": task.owner.display_name},
        "state": state,
        "done_at": task.done_at,
        "cancelled_at": task.cancelled_at,
        "snoozes": task.snoozes,
        "history": task.history,
        "created_by": task.created_by,
        "created_at": task.created_at,
    }


def _owner(actor: Actor, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = list_assignable_users(actor).filter(pk=owner_id).first()
    if owner is None:
        raise ValidationFailed(
            _("You cannot give tasks to this person."),
            errors={"owner_id": [_("Not someone you may give tasks to.")]},
        )
    return owner


@lead_router.get("/{lead_id}/tasks", response=list[TaskOut], url_name="followup-tasks")
def list_lead_tasks(
    request: HttpRequest, lead_id: int, state: Literal["open", "all"] = "open"
) -> list[dict[str, Any]]:
    """The lead's next steps: the open ones by due time, or (`state=all`) the closed too."""
    tasks = selectors.list_lead_tasks(_actor(request), lead_id, open_only=state == "open")
    return [_task(task) for task in tasks]


@lead_router.post("/{lead_id}/tasks", response={201: TaskOut}, url_name="followup-task-add")
def add_lead_task(request: HttpRequest, lead_id: int, payload: TaskIn) -> Status:
    """Plan a next step; the lead's next follow-up becomes its earliest open step."""
    actor = _actor(request)
    lead = selectors.get_lead_to_work(actor, lead_id)
    values = payload.dict(exclude={"owner_id"})
    values["due_at"] = _aware(payload.due_at)
    task = steps.add_task(lead, by=actor, owner=_owner(actor, payload.owner_id), **values)
    return Status(201, _task(Task.objects.select_related("owner").get(pk=task.pk)))


def _task_of(request: HttpRequest, lead_id: int, task_id: int) -> tuple[Actor, Task]:
    actor = _actor(request)
    return actor, selectors.get_task_for(actor, lead_id, task_id)


def _reloaded(task: Task) -> dict[str, Any]:
    return _task(Task.objects.select_related("owner").get(pk=task.pk))


@lead_router.post(
    "/{lead_id}/tasks/{task_id}/done", response=TaskOut, url_name="followup-task-done"
)
def complete_lead_task(
    request: HttpRequest, lead_id: int, task_id: int, payload: TaskDoneIn | None = None
) -> dict[str, Any]:
    """Mark a step done; a repeating one comes back after its interval."""
    actor, task = _task_of(request, lead_id, task_id)
    outcome = payload.outcome if payload else ""
    return _reloaded(steps.complete_task(task, by=actor, outcome=outcome))


@lead_router.post(
    "/{lead_id}/tasks/{task_id}/snooze", response=TaskOut, url_name="followup-task-snooze"
)
def snooze_lead_task(
    request: HttpRequest, lead_id: int, task_id: int, payload: TaskMoveIn
) -> dict[str, Any]:
    """Push a step back to `due_at`, with a reason (counted as a snooze)."""
    actor, task = _task_of(request, lead_id, task_id)
    moved = steps.move_task(
        task, by=actor, due_at=_aware(payload.due_at), reason=payload.reason, snooze=True
    )
    return _reloaded(moved)


@lead_router.post(
    "/{lead_id}/tasks/{task_id}/reschedule",
    response=TaskOut,
    url_name="followup-task-reschedule",
)
def reschedule_lead_task(
    request: HttpRequest, lead_id: int, task_id: int, payload: TaskMoveIn
) -> dict[str, Any]:
    """Move a step to another time, with a reason."""
    actor, task = _task_of(request, lead_id, task_id)
    moved = steps.move_task(task, by=actor, due_at=_aware(payload.due_at), reason=payload.reason)
    return _reloaded(moved)


@lead_router.post(
    "/{lead_id}/tasks/{task_id}/cancel", response=TaskOut, url_name="followup-task-cancel"
)
def cancel_lead_task(
    request: HttpRequest, lead_id: int, task_id: int, payload: TaskCancelIn | None = None
) -> dict[str, Any]:
    """Cancel a step (the reason is kept in its history)."""
    actor, task = _task_of(request, lead_id, task_id)
    return _reloaded(steps.cancel_task(task, by=actor, reason=payload.reason if payload else ""))


# --- Quotes ------------------------------------------------------------------------------------


class QuoteOut(Schema):
    id: int
    lead_id: int
    title: str
    amount: str
    currency: str
    probability: int
    weighted: str = Field(description="amount × probability, in the quote's own currency")
    expected_close_on: dt.date | None
    state: str
    is_current: bool
    sent_at: dt.datetime | None
    note: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class QuoteIn(In):
    amount: Amount
    currency: str = Field("", max_length=3, description="ISO 4217; empty: the default (EUR)")
    probability: int | None = Field(None, description="0–100; empty: the usual at this stage")
    expected_close_on: dt.date | None = None
    title: str = Field("", max_length=200)
    note: str = Field("", max_length=5000)
    send: bool = Field(False, description="The quote went to the customer already")


class QuotePatch(In):
    amount: Amount | None = None
    currency: str | None = Field(None, max_length=3)
    probability: int | None = None
    expected_close_on: dt.date | None = None
    title: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=5000)


def _quote(quote: Quote) -> dict[str, Any]:
    return {
        "id": quote.pk,
        "lead_id": quote.lead_id,
        "title": quote.title,
        "amount": str(quote.amount),
        "currency": quote.currency,
        "probability": quote.probability,
        "weighted": str(quote.weighted),
        "expected_close_on": quote.expected_close_on,
        "state": quote.state,
        "is_current": quote.is_current,
        "sent_at": quote.sent_at,
        "note": quote.note,
        "created_by": quote.created_by,
        "created_at": quote.created_at,
        "updated_at": quote.updated_at,
    }


def _fresh(quote: Quote) -> dict[str, Any]:
    return _quote(Quote.objects.get(pk=quote.pk))


@lead_router.get("/{lead_id}/quotes", response=list[QuoteOut], url_name="followup-quotes")
def list_lead_quotes(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The lead's quotes, the current one first, each in its own currency."""
    return [_quote(q) for q in selectors.list_lead_quotes(_actor(request), lead_id)]


@lead_router.post("/{lead_id}/quotes", response={201: QuoteOut}, url_name="followup-quote-add")
def add_lead_quote(request: HttpRequest, lead_id: int, payload: QuoteIn) -> Status:
    """A new quote, which becomes the current one (`send: true` also marks it sent)."""
    actor = _actor(request)
    lead = selectors.get_lead_to_work(actor, lead_id)
    return Status(201, _fresh(quotes.add_quote(lead, by=actor, **payload.dict())))


@lead_router.patch(
    "/{lead_id}/quotes/{quote_id}", response=QuoteOut, url_name="followup-quote-update"
)
def update_lead_quote(
    request: HttpRequest, lead_id: int, quote_id: int, payload: QuotePatch
) -> dict[str, Any]:
    """Change any of a quote's fields."""
    actor = _actor(request)
    quote = selectors.get_quote_for(actor, lead_id, quote_id)
    changes = payload.dict(exclude_unset=True)
    return _fresh(quotes.update_quote(quote, by=actor, **changes))


@lead_router.post(
    "/{lead_id}/quotes/{quote_id}/send", response=QuoteOut, url_name="followup-quote-send"
)
def send_lead_quote(request: HttpRequest, lead_id: int, quote_id: int) -> dict[str, Any]:
    """The quote went to the customer: the lead moves to quoted and a repeating reminder to
    ask for the answer is planned."""
    actor = _actor(request)
    quote = selectors.get_quote_for(actor, lead_id, quote_id)
    return _fresh(quotes.send_quote(quote, by=actor))


@lead_router.post(
    "/{lead_id}/quotes/{quote_id}/current", response=QuoteOut, url_name="followup-quote-current"
)
def make_lead_quote_current(request: HttpRequest, lead_id: int, quote_id: int) -> dict[str, Any]:
    """Make this quote the current one: the lead's revenue and probability follow it."""
    actor = _actor(request)
    quote = selectors.get_quote_for(actor, lead_id, quote_id)
    return _fresh(quotes.make_current(quote, by=actor))


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
    values["callback_at"] = _aware(payload.callback_at) if payload.callback_at else None
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
