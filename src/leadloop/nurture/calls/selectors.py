"""Reads of telemarketing: call lists and their entries (marketing and admins all of them, an
agent the lists it works), the do-not-call list, a lead's calls, the outcome a workflow waits
for, and the agents' figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import ROLES, Permission, can, require
from leadloop.errors import NotFound
from leadloop.nurture.calls.models import (
    CallAttempt,
    CallEntry,
    CallList,
    CallOutcome,
    DoNotCall,
    EntryState,
)

_REACHED = (
    CallOutcome.QUALIFIED,
    CallOutcome.NOT_INTERESTED,
    CallOutcome.CALLBACK,
    CallOutcome.DO_NOT_CALL,
)
_MAX_ID = 2**63


def can_manage_calls(actor: Actor) -> bool:
    """Marketing and admins set up call lists and keep the do-not-call list."""
    return can(actor, Permission.MANAGE_CALL_LISTS)


def can_work_calls(actor: Actor) -> bool:
    return can(actor, Permission.WORK_CALL_LISTS)


def is_agent(actor: Actor) -> bool:
    """A telemarketing agent (the desk is its start page and menu)."""
    return isinstance(actor, User) and actor.role == "agent" and actor.is_active


def agent_leads(user: User) -> Q:
    """The leads an agent sees (registered as its role's `lead_visibility`): those with an entry
    on a call list it is a member of, as a subquery."""
    return Q(pk__in=CallEntry.objects.filter(call_list__members=user).values("lead_id"))


def list_call_lists_for(actor: Actor) -> QuerySet[CallList]:
    """Every call list for those who manage them; an agent's own lists; nothing otherwise."""
    lists = CallList.objects.order_by("name", "pk")
    if can_manage_calls(actor):
        return lists
    if can_work_calls(actor) and isinstance(actor, User) and actor.is_active:
        return lists.filter(members=actor)
    return lists.none()


def get_call_list_for(actor: Actor, list_id: int) -> CallList:
    found = (
        list_call_lists_for(actor).filter(pk=list_id).first() if 0 <= list_id < _MAX_ID else None
    )
    if found is None:
        raise NotFound(_("No such call list."))
    return found


def list_entries_for(actor: Actor, call_list: CallList, *, state: str = "") -> QuerySet[CallEntry]:
    """A list's entries (marketing and admins), due first for waiting ones, else newest first."""
    require(actor, Permission.MANAGE_CALL_LISTS)
    entries = CallEntry.objects.filter(call_list=call_list).select_related(
        "lead", "assigned_to", "claimed_by"
    )
    if state in EntryState.values:
        entries = entries.filter(state=state)
    if state == EntryState.WAITING:
        return entries.order_by("due_at", "pk")
    return entries.order_by("-created_at", "-pk")


def count_entries(call_list: CallList) -> dict[str, int]:
    rows = CallEntry.objects.filter(call_list=call_list).values("state").annotate(n=Count("pk"))
    counts = dict.fromkeys(EntryState.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def get_entry_for(actor: Actor, entry_id: int) -> CallEntry:
    """An entry on a list `actor` may see (NotFound otherwise)."""
    lists = list_call_lists_for(actor)
    entry = (
        CallEntry.objects.select_related("lead", "call_list", "assigned_to", "claimed_by")
        .filter(pk=entry_id, call_list__in=lists)
        .first()
        if 0 <= entry_id < _MAX_ID
        else None
    )
    if entry is None:
        raise NotFound(_("No such call list entry."))
    return entry


def list_lead_calls(lead_id: int, *, limit: int = 20) -> list[CallAttempt]:
    """The calls made to a lead from the desk, newest first (the caller checked the lead)."""
    return list(
        CallAttempt.objects.filter(entry__lead_id=lead_id)
        .select_related("agent", "entry__call_list")
        .order_by("-at", "-pk")[:limit]
    )


STALE_CLAIM = dt.timedelta(minutes=15)


def held_by(agent: User, *, now: dt.datetime) -> CallEntry | None:
    """The lead the agent took and has not logged yet (so the desk survives a reload), unless
    the claim went stale."""
    return (
        CallEntry.objects.filter(
            state=EntryState.WAITING,
            claimed_by=agent,
            claimed_at__gte=now - STALE_CLAIM,
            call_list__members=agent,
        )
        .select_related("lead", "call_list")
        .order_by("claimed_at", "pk")
        .first()
    )


def count_due_for(agent: User, *, now: dt.datetime) -> int:
    """Entries due now on the agent's lists that nobody has on the desk (the desk's counter)."""
    return (
        CallEntry.objects.filter(
            call_list__members=agent,
            call_list__is_active=True,
            state=EntryState.WAITING,
            due_at__lte=now,
        )
        .filter(Q(assigned_to__isnull=True) | Q(assigned_to=agent))
        .count()
    )


def list_dnc_for(actor: Actor, *, search: str = "") -> QuerySet[DoNotCall]:
    require(actor, Permission.MANAGE_CALL_LISTS)
    entries = DoNotCall.objects.select_related("added_by")
    digits = "".join(ch for ch in search if ch.isdigit())
    if digits:
        entries = entries.filter(phone_e164__contains=digits)
    return entries.order_by("-created_at", "-id")


def get_dnc_for(actor: Actor, dnc_id: int) -> DoNotCall:
    entry = list_dnc_for(actor).filter(pk=dnc_id).first() if 0 <= dnc_id < _MAX_ID else None
    if entry is None:
        raise NotFound(_("No such number on the do-not-call list."))
    return entry


def list_agents(actor: Actor) -> QuerySet[User]:
    """Users who may be members of a call list (for those who manage lists)."""
    if not can_manage_calls(actor):
        return User.objects.none()
    return User.objects.filter(is_active=True, role__in=ROLES[Permission.WORK_CALL_LISTS]).order_by(
        "role", "username"
    )


def final_outcome(
    lead_id: int, call_list_id: int, since: dt.datetime
) -> tuple[str, dt.datetime] | None:
    """How the lead's entry on the list ended, and when: the latest entry closed at or after
    `since` (done or cancelled), None while it is still waiting (or none was closed since).

    For the workflow engine, which puts a lead on a list at `since` and branches on this. An entry
    that was already waiting before `since` (`add_to_call_list` returned it) counts once it
    closes after `since`.
    """
    row = (
        CallEntry.objects.filter(
            lead_id=lead_id,
            call_list_id=call_list_id,
            state__in=(EntryState.DONE, EntryState.CANCELLED),
            closed_at__gte=since,
        )
        .order_by("-closed_at", "-pk")
        .values_list("outcome", "closed_at")
        .first()
    )
    if row is None or row[1] is None:
        return None
    return row[0], row[1]


@dataclass(frozen=True)
class AgentStats:
    """One agent's calls in a period. `calls_per_hour` counts the hours in which the agent
    logged at least one call (the hours on the desk); the rates are fractions (0.25 = 25 %)."""

    agent_id: int
    agent: str
    calls: int
    reached: int
    qualified: int
    hours: int
    talk_seconds: int

    @property
    def calls_per_hour(self) -> float:
        return round(self.calls / self.hours, 1) if self.hours else 0.0

    @property
    def reach_rate(self) -> float:
        """Calls that reached the person, of all calls."""
        return round(self.reached / self.calls, 3) if self.calls else 0.0

    @property
    def qualified_rate(self) -> float:
        """Calls that qualified the lead, of all calls."""
        return round(self.qualified / self.calls, 3) if self.calls else 0.0


def agent_stats(actor: Actor, period: tuple[dt.datetime, dt.datetime]) -> list[AgentStats]:
    """Calls per hour, reach rate and qualified rate per agent for calls from start to end:
    every agent for those who manage call lists, an agent its own row. Both ends count."""
    require(actor, Permission.WORK_CALL_LISTS)
    start, end = period
    attempts = CallAttempt.objects.filter(at__gte=start, at__lte=end, agent__isnull=False)
    if not can_manage_calls(actor):
        attempts = attempts.filter(agent_id=getattr(actor, "pk", None))
    totals = attempts.values("agent_id").annotate(
        calls=Count("pk"),
        reached=Count("pk", filter=Q(outcome__in=_REACHED)),
        qualified=Count("pk", filter=Q(outcome=CallOutcome.QUALIFIED)),
    )
    talk: dict[int, int] = defaultdict(int)
    for agent_id, seconds in attempts.filter(duration_seconds__isnull=False).values_list(
        "agent_id", "duration_seconds"
    ):
        talk[agent_id] += seconds or 0
    hours: dict[int, int] = defaultdict(int)
    for row in attempts.annotate(hour=TruncHour("at")).values("agent_id", "hour").distinct():
        hours[row["agent_id"]] += 1
    names = {
        u.pk: u.display_name for u in User.objects.filter(pk__in=[t["agent_id"] for t in totals])
    }
    rows = [
        AgentStats(
            agent_id=t["agent_id"],
            agent=names.get(t["agent_id"], ""),
            calls=t["calls"],
            reached=t["reached"],
            qualified=t["qualified"],
            hours=hours[t["agent_id"]],
            talk_seconds=talk[t["agent_id"]],
        )
        for t in totals
    ]
    return sorted(rows, key=lambda r: (-r.calls, r.agent))


def find_call_list(name: str) -> CallList | None:
    """The call list a workflow step names (by name; None when there is none)."""
    return CallList.objects.filter(name=name).first()


def call_list_names() -> list[str]:
    """Names of the active call lists, for a workflow step's choice."""
    return list(
        CallList.objects.filter(is_active=True).order_by("name").values_list("name", flat=True)
    )


def first_call_list_name() -> str | None:
    names = call_list_names()
    return names[0] if names else None
