"""Reads of one lead's follow-up: its tasks, quotes, calls and first-contact clock.

Every read starts from `get_lead_for(actor, lead_id)`, so a lead the actor may not see is
NotFound (no hint it exists), and a task or quote is found only on the lead named in the
address: another lead's task id is NotFound as well. Partner users work the leads routed to
their organisation through the timeline; the sales parts (tasks, quotes, the clock) are the
company's own and are refused to them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import is_staff_role
from leadloop.errors import NotAllowed, NotFound
from leadloop.leads.models import CLOSED_STATUSES, OWNED_STATUSES, Activity, ActivityKind, Lead
from leadloop.leads.selectors import get_lead_for
from leadloop.sales.models import OPEN_TASK, FirstContactClock, Quote, Task

MAX_ROWS = 200


def may_work(actor: Actor) -> bool:
    """Reps, sales managers and admins plan tasks, log contact, quote and close leads."""
    return can(actor, Permission.FOLLOW_UP_LEADS)


def may_read(actor: Actor) -> bool:
    """Company staff read a visible lead's tasks, quotes and clock; partners do not."""
    return is_staff_role(actor)


def may_log_contact(actor: Actor) -> bool:
    """Who logs calls and meetings: the sales team, and a partner on its organisation's leads."""
    return may_work(actor) or (isinstance(actor, User) and actor.role == Role.PARTNER)


def is_partner(actor: Actor) -> bool:
    return isinstance(actor, User) and actor.role == Role.PARTNER


def require_work(actor: Actor) -> None:
    if not may_work(actor):
        raise NotAllowed(_("Only the sales team works the follow-up of a lead."))


def require_read(actor: Actor) -> None:
    if not may_read(actor):
        raise NotAllowed(_("Only company staff see a lead's tasks, quotes and clock."))


def get_lead_to_read(actor: Actor, lead_id: int) -> Lead:
    """The lead, if `actor` may see it (NotFound) and read its sales parts (NotAllowed)."""
    lead = get_lead_for(actor, lead_id)
    require_read(actor)
    return lead


def get_lead_to_work(actor: Actor, lead_id: int) -> Lead:
    """The lead, if `actor` may see it (NotFound) and work its follow-up (NotAllowed)."""
    lead = get_lead_for(actor, lead_id)
    require_work(actor)
    return lead


def get_lead_to_log(actor: Actor, lead_id: int) -> Lead:
    """The lead, if `actor` may see it (NotFound) and log contact on it (NotAllowed)."""
    lead = get_lead_for(actor, lead_id)
    if not may_log_contact(actor):
        raise NotAllowed(_("You cannot log contact on this lead."))
    return lead


def lead_tasks(lead: Lead) -> QuerySet[Task]:
    """A lead's open tasks, by due time."""
    return (
        Task.objects.filter(OPEN_TASK, lead_id=lead.pk)
        .select_related("owner")
        .order_by("due_at", "id")
    )


def list_lead_tasks(actor: Actor, lead_id: int, *, open_only: bool = False) -> list[Task]:
    """The tasks of a lead `actor` may read: the open ones by due time, then (unless
    `open_only`) the done and cancelled ones, the latest due first."""
    lead = get_lead_to_read(actor, lead_id)
    tasks = list(lead_tasks(lead)[:MAX_ROWS])
    if not open_only:
        closed = (
            Task.objects.filter(lead_id=lead.pk)
            .exclude(OPEN_TASK)
            .select_related("owner")
            .order_by("-due_at", "-id")
        )
        tasks += list(closed[: MAX_ROWS - len(tasks)])
    return tasks


def get_task_for(actor: Actor, lead_id: int, task_id: int, *, to_work: bool = True) -> Task:
    """A task of the lead named in the address, if `actor` may see the lead (NotFound)."""
    lead = get_lead_to_work(actor, lead_id) if to_work else get_lead_to_read(actor, lead_id)
    task = Task.objects.filter(pk=task_id, lead_id=lead.pk).select_related("owner", "lead").first()
    if task is None:
        raise NotFound(_("No such task on this lead."))
    return task


def lead_quotes(lead: Lead) -> QuerySet[Quote]:
    """A lead's quotes, the current one first, then newest first."""
    return Quote.objects.filter(lead_id=lead.pk).order_by("-is_current", "-created_at", "-id")


def list_lead_quotes(actor: Actor, lead_id: int) -> list[Quote]:
    lead = get_lead_to_read(actor, lead_id)
    return list(lead_quotes(lead)[:MAX_ROWS])


def get_quote_for(actor: Actor, lead_id: int, quote_id: int) -> Quote:
    """A quote of the lead named in the address, if `actor` may work that lead (NotFound)."""
    lead = get_lead_to_work(actor, lead_id)
    quote = Quote.objects.filter(pk=quote_id, lead_id=lead.pk).select_related("lead").first()
    if quote is None:
        raise NotFound(_("No such quote on this lead."))
    return quote


def list_lead_calls(actor: Actor, lead_id: int) -> list[Activity]:
    """The calls logged on a lead, newest first (staff, and a partner on its own leads)."""
    lead = get_lead_to_log(actor, lead_id)
    return list(
        Activity.objects.filter(lead_id=lead.pk, kind=ActivityKind.CALL)
        .select_related("actor_user")
        .order_by("-created_at", "-id")[:MAX_ROWS]
    )


def get_clock(lead: Lead) -> FirstContactClock | None:
    return FirstContactClock.objects.filter(pk=lead.pk).first()


def lacks_next_step(lead: Lead) -> bool:
    """A lead being worked (assigned, contacted, quoted) without an open task: "no next step"."""
    return (
        lead.status in OWNED_STATUSES
        and lead.next_follow_up_at is None
        and lead.merged_into_id is None
    )


def is_open(lead: Lead) -> bool:
    return lead.status not in CLOSED_STATUSES and lead.merged_into_id is None
