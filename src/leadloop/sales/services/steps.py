"""Next steps: every lead being worked has one (a task with a kind, a due time and an owner).

The lead's `next_follow_up_at` is kept at its earliest open task, so "overdue" and "no next step"
are index reads on the lead (`lead_follow_up_owner`, `lead_no_next_step`). Snoozes and
reschedules keep their reason in the task's history; a task that repeats (a quote awaiting an
answer) comes back when it is done, until the lead closes. A closed lead's open tasks are
cancelled (`tidy`), whichever path closed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts import selectors as accounts_selectors
from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.errors import Conflict, NotAllowed, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import CLOSED_STATUSES, Lead
from leadloop.sales.models import OPEN_TASK, Quote, Task, TaskKind

MAX_TITLE = 200
MAX_REASON = 300
LATEST = dt.timedelta(days=3 * 366)


def label_of(by: Actor) -> str:
    return lead_services.actor_label(by)


def _check_due(due_at: Any, *, field: str = "due_at") -> dt.datetime:
    if not isinstance(due_at, dt.datetime) or timezone.is_naive(due_at):
        raise ValidationFailed(
            _("Give a date and time."), errors={field: [_("A date and time is required.")]}
        )
    now = timezone.now()
    if due_at > now + LATEST or due_at < now - LATEST:
        raise ValidationFailed(
            _("That date is too far away."), errors={field: [_("Within three years from now.")]}
        )
    return due_at


def _owner_for(lead: Lead, *, by: Actor, owner: User | None) -> User:
    """Who does the step: the one named (a manager may name anyone they may assign leads to),
    else the lead's owner, else the person setting it."""
    if owner is None:
        if lead.assigned_to is not None:
            return lead.assigned_to
        if isinstance(by, User):
            return by
        raise ValidationFailed(_("Say who does it."), errors={"owner": [_("Required.")]})
    if isinstance(by, User) and owner.pk != by.pk and not _may_give_tasks(by, owner):
        raise NotAllowed(_("You cannot give tasks to this person."))
    if not owner.is_active:
        raise ValidationFailed(_("This person is not active."), errors={"owner": [_("Inactive.")]})
    return owner


def _may_give_tasks(by: User, owner: User) -> bool:
    if by.role == Role.PARTNER:
        return False
    return accounts_selectors.list_assignable_users(by).filter(pk=owner.pk).exists()


@transaction.atomic
def add_task(
    lead: Lead,
    *,
    by: Actor,
    kind: str,
    due_at: dt.datetime,
    owner: User | None = None,
    title: str = "",
    duration_minutes: int = 30,
    repeat_days: int | None = None,
    quote: Quote | None = None,
) -> Task:
    """Plan a next step on a lead the caller may see (resolved through `get_lead_for`)."""
    if kind not in TaskKind.values:
        raise ValidationFailed(_("Choose a kind of task."), errors={"kind": [_("Not a kind.")]})
    # Read again under a lock: the caller's row may be older than a close a moment ago.
    lead = (
        Lead.objects.select_for_update(of=("self",)).select_related("assigned_to").get(pk=lead.pk)
    )
    if lead.status in CLOSED_STATUSES:
        raise Conflict(_("This lead is closed; it needs no next step."))
    if not 5 <= duration_minutes <= 24 * 60:
        raise ValidationFailed(
            _("Some fields are not valid."),
            errors={"duration_minutes": [_("Between 5 minutes and a day.")]},
        )
    if repeat_days is not None and not 1 <= repeat_days <= 90:
        raise ValidationFailed(
            _("Some fields are not valid."), errors={"repeat_days": [_("Between 1 and 90 days.")]}
        )
    task = Task.objects.create(
        lead_id=lead.pk,
        owner=_owner_for(lead, by=by, owner=owner),
        kind=kind,
        title=lead_services.clean_text(title)[:MAX_TITLE],
        due_at=_check_due(due_at),
        duration_minutes=duration_minutes,
        repeat_days=repeat_days,
        quote=quote,
        created_by=label_of(by),
        created_at=timezone.now(),
    )
    sync(lead.pk)
    return task


def _lock_open(task: Task) -> Task:
    locked = Task.objects.select_for_update().get(pk=task.pk)
    if not locked.is_open:
        raise Conflict(_("This task is already done or cancelled."))
    return locked


@transaction.atomic
def complete_task(task: Task, *, by: Actor, outcome: str = "") -> Task:
    """Mark a task done. A repeating one comes back `repeat_days` later while its lead is open."""
    locked = _lock_open(task)
    now = timezone.now()
    locked.done_at = now
    locked.closed_by = label_of(by)
    locked.history = [*locked.history, _entry("done", by, now, reason=outcome)]
    locked.save()
    lead_open = Lead.objects.filter(pk=locked.lead_id).exclude(status__in=CLOSED_STATUSES).exists()
    if locked.repeat_days and lead_open:
        Task.objects.create(
            lead_id=locked.lead_id,
            owner_id=locked.owner_id,
            kind=locked.kind,
            title=locked.title,
            due_at=now + dt.timedelta(days=locked.repeat_days),
            duration_minutes=locked.duration_minutes,
            repeat_days=locked.repeat_days,
            quote_id=locked.quote_id,
            created_by=label_of(by),
            created_at=now,
        )
    sync(locked.lead_id)
    return locked


@transaction.atomic
def move_task(
    task: Task, *, by: Actor, due_at: dt.datetime, reason: str, snooze: bool = False
) -> Task:
    """Snooze or reschedule a task; the reason goes into its history."""
    locked = _lock_open(task)
    text = lead_services.clean_text(reason)[:MAX_REASON]
    if not text:
        raise ValidationFailed(_("Say why it moves."), errors={"reason": [_("Required.")]})
    new_due = _check_due(due_at)
    now = timezone.now()
    locked.history = [
        *locked.history,
        _entry(
            "snoozed" if snooze else "rescheduled",
            by,
            now,
            reason=text,
            old=locked.due_at.isoformat(),
            new=new_due.isoformat(),
        ),
    ]
    locked.due_at = new_due
    if snooze:
        locked.snoozes += 1
    locked.save()
    sync(locked.lead_id)
    return locked


@transaction.atomic
def cancel_task(task: Task, *, by: Actor, reason: str = "") -> Task:
    locked = _lock_open(task)
    now = timezone.now()
    locked.cancelled_at = now
    locked.closed_by = label_of(by)
    locked.history = [
        *locked.history,
        _entry("cancelled", by, now, reason=lead_services.clean_text(reason)[:MAX_REASON]),
    ]
    locked.save()
    sync(locked.lead_id)
    return locked


def _entry(what: str, by: Actor, at: dt.datetime, **data: str) -> dict[str, str]:
    return {"what": what, "by": label_of(by), "at": at.isoformat(), **data}


def sync(lead_id: int) -> None:
    """The lead's next follow-up is its earliest open task."""
    earliest = Task.objects.filter(OPEN_TASK, lead_id=lead_id).aggregate(first=Min("due_at"))
    lead_services.set_next_follow_up(lead_id, earliest["first"])


def tidy(lead_ids: Iterable[int]) -> int:
    """Cancel the open tasks of leads that closed (won, lost, disqualified, merged away)."""
    ids = list(lead_ids)
    closed = list(
        Lead.objects.filter(pk__in=ids)
        .filter(status__in=[str(s) for s in CLOSED_STATUSES])
        .values_list("pk", flat=True)
    ) + list(
        Lead.objects.filter(pk__in=ids, merged_into__isnull=False).values_list("pk", flat=True)
    )
    if not closed:
        return 0
    now = timezone.now()
    with transaction.atomic():
        cancelled = Task.objects.filter(OPEN_TASK, lead_id__in=closed).update(
            cancelled_at=now, closed_by=SystemActor(label="sla").label
        )
        for lead_id in closed:
            lead_services.set_next_follow_up(lead_id, None)
    return cancelled
