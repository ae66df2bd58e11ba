"""/api/v1/leads/{lead_id}/...: the follow-up of one lead: its next steps (tasks) and quotes.
Calls, meetings, e-mails, won and lost and the first-contact clock are in `lead_contact`.

Every endpoint resolves the lead through `get_lead_for` first: a lead the caller may not see is
404, and a task or quote id is looked up on that lead only (another lead's id is 404 too).
Company staff read; reps, sales managers and admins change; a partner user may log calls and
meetings on its organisation's leads. Amounts are strings (decimals) with their currency beside
them, never converted and never summed across currencies.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.accounts.models import User
from leadloop.accounts.selectors import list_assignable_users
from leadloop.core.schemas import StrictIn as In
from leadloop.errors import ValidationFailed
from leadloop.sales.api.base import Amount, aware, lead_router
from leadloop.sales.models import Quote, Task
from leadloop.sales.selectors import lead as selectors
from leadloop.sales.services import quotes, steps


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


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
    values["due_at"] = aware(payload.due_at)
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
        task, by=actor, due_at=aware(payload.due_at), reason=payload.reason, snooze=True
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
    moved = steps.move_task(task, by=actor, due_at=aware(payload.due_at), reason=payload.reason)
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
