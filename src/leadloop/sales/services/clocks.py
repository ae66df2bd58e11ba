"""The first-contact clock: started when a lead reaches sales, settled when someone reaches the
person, and watched by a sweep that reminds the owner and escalates a breach.

`follow(lead_ids)` brings each lead's clock in line with the lead as it is now, so it can run as
often as anyone likes: after the lead events (a task), from the sweep, from the CLI. It starts a
missing clock, settles one whose lead was contacted, stops one whose lead left sales, and moves
the deadline when the lead went to another team. The sweep that does what is due (reminders at
the team's share of the time, and the breach: manager alerted, and per the team's rules the
lead put back in the pool or routed again) is `sales.services.sweep.check`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from leadloop.accounts.actors import SystemActor
from leadloop.core.expressions import indexed
from leadloop.core.retry import enqueue
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import Lead, LeadStatus
from leadloop.sales.business_time import NoWorkingTime
from leadloop.sales.models import (
    ClockState,
    FirstContactClock,
    SlaEvent,
    SlaEventKind,
)
from leadloop.sales.services.rules import calendar_of, rules_of, target_for

SLA = SystemActor(label="sla")
FOLLOW_TASK = "leadloop.sales.tasks.follow_clocks_task"
# Statuses in which a lead waits for its first contact.
WAITING = frozenset({LeadStatus.SALES_READY, LeadStatus.ASSIGNED})
# How far back the sweep looks for a lead that reached sales but whose clock task was lost.
MISSING_WINDOW = dt.timedelta(days=2)
CHUNK = 200
# The events that can bring a lead to sales; their time is when its clock starts.
STARTING_EVENTS = frozenset({EventName.LEAD_BECAME_SALES_READY, EventName.ASSIGNED})


def on_lead_events(batch: Sequence[LeadEvent]) -> None:
    """After a lead became sales-ready, was assigned, changed status or was merged: queue
    `follow` for those leads (the sweep catches a task that was lost)."""
    ids = list(dict.fromkeys(event.lead_id for event in batch))
    starts: dict[str, str] = {}
    for event in batch:
        if event.name in STARTING_EVENTS:
            starts.setdefault(str(event.lead_id), event.at.isoformat())
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            enqueue(
                FOLLOW_TASK,
                lead_ids=chunk,
                starts={str(i): starts[str(i)] for i in chunk if str(i) in starts},
            )


def follow(
    lead_ids: Iterable[int],
    *,
    now: dt.datetime | None = None,
    starts: Mapping[int, dt.datetime] | None = None,
) -> dict[str, int]:
    """Bring the clocks of `lead_ids` in line with their leads; counts of what changed.

    `starts` says when a lead reached sales (the event's time), for a clock not started yet;
    without it the lead's last status change counts."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for lead_id in dict.fromkeys(lead_ids):
        try:
            change = _follow_one(lead_id, now=now, start=(starts or {}).get(lead_id))
        except Lead.DoesNotExist:
            continue
        if change:
            counts[change] = counts.get(change, 0) + 1
    return counts


@transaction.atomic
def _follow_one(lead_id: int, *, now: dt.datetime, start: dt.datetime | None = None) -> str:
    lead = Lead.objects.select_for_update().get(pk=lead_id)
    clock = FirstContactClock.objects.filter(pk=lead_id).first()
    return _follow_loaded(lead, clock, now=now, start=start)


def _follow_loaded(
    lead: Lead,
    clock: FirstContactClock | None,
    *,
    now: dt.datetime,
    start: dt.datetime | None = None,
) -> str:
    """`_follow_one` on rows already read and locked."""
    if clock is None:
        return _start(lead, now=now, start=start) if _waiting(lead) else ""
    if clock.state != ClockState.RUNNING:
        return ""
    if lead.last_contacted_at is not None and lead.last_contacted_at >= clock.started_at:
        return _settle(clock, lead)
    if lead.status not in WAITING or lead.merged_into_id is not None or lead.owner_partner_id:
        return _stop(clock, lead, now=now)
    return _follow_owner(clock, lead, now=now)


def _waiting(lead: Lead) -> bool:
    """Whether the lead waits for its first contact by the company's own sales team (a
    partner's lead has the partner's response time instead, kept by distribution)."""
    return (
        lead.status in WAITING
        and lead.last_contacted_at is None
        and lead.merged_into_id is None
        and lead.owner_partner_id is None
        and lead.erased_at is None
    )


def _plan(lead: Lead, *, team_id: int | None, start: dt.datetime) -> dict[str, Any]:
    """Target, deadline and reminder time of a clock started at `start` for `team_id`."""
    rules = rules_of(team_id)
    calendar = calendar_of(rules)
    minutes = target_for(lead, rules)
    try:
        due = calendar.add(start, dt.timedelta(minutes=minutes))
        remind = (
            calendar.add(start, dt.timedelta(minutes=minutes * rules.remind_at_percent / 100))
            if rules.remind_at_percent
            else None
        )
    except NoWorkingTime:
        # A calendar with no working time at all: count wall-clock time instead of never.
        due = start + dt.timedelta(minutes=minutes)
        remind = None
    return {"target_minutes": minutes, "due_at": due, "remind_at": remind}


def _next_check(clock: FirstContactClock) -> dt.datetime | None:
    if clock.state != ClockState.RUNNING:
        return None
    if clock.remind_at is not None and clock.reminded_at is None and clock.remind_at < clock.due_at:
        return clock.remind_at
    if clock.breached_at is None:
        return clock.due_at
    return None


def _log(lead_id: int, kind: str, *, at: dt.datetime, by: str = "", **data: Any) -> None:
    SlaEvent.objects.create(lead_id=lead_id, kind=kind, at=at, by=by, data=data)


def _started_at(lead: Lead) -> dt.datetime:
    """When the lead reached sales: the moment it became sales-ready or assigned."""
    return lead.status_changed_at or lead.created_at


def _start(lead: Lead, *, now: dt.datetime, start: dt.datetime | None) -> str:
    start = min(start or _started_at(lead), now)
    plan = _plan(lead, team_id=lead.team_id, start=start)
    clock = FirstContactClock(
        lead=lead,
        team_id=lead.team_id,
        owner_id=lead.assigned_to_id,
        state=ClockState.RUNNING,
        started_at=start,
        **plan,
    )
    clock.next_check_at = _next_check(clock)
    try:
        with transaction.atomic():
            clock.save(force_insert=True)
    except IntegrityError:
        return ""  # another worker started it a moment ago
    _log(lead.pk, SlaEventKind.STARTED, at=start, **_described(clock))
    lead_services.set_contact_due(lead.pk, clock.due_at, at=now)
    return "started"


def _described(clock: FirstContactClock) -> dict[str, Any]:
    return {
        "team_id": clock.team_id,
        "target_minutes": clock.target_minutes,
        "due_at": clock.due_at.isoformat(),
    }


def _settle(clock: FirstContactClock, lead: Lead) -> str:
    contacted = lead.last_contacted_at
    assert contacted is not None
    clock.state = ClockState.MET if contacted <= clock.due_at else ClockState.LATE
    clock.ended_at = contacted
    clock.ended_by = lead.assigned_to.display_name if lead.assigned_to else ""
    clock.next_check_at = None
    clock.save()
    kind = SlaEventKind.MET if clock.state == ClockState.MET else SlaEventKind.LATE
    _log(lead.pk, kind, at=contacted, by=clock.ended_by)
    return str(clock.state)


def _stop(clock: FirstContactClock, lead: Lead, *, now: dt.datetime) -> str:
    clock.state = ClockState.STOPPED
    clock.ended_at = now
    clock.next_check_at = None
    clock.save()
    _log(lead.pk, SlaEventKind.STOPPED, at=now, status=lead.status)
    lead_services.set_contact_due(lead.pk, None, at=now)
    return "stopped"


def _follow_owner(clock: FirstContactClock, lead: Lead, *, now: dt.datetime) -> str:
    """A lead that moved: to another rep (a team may restart the clock then) or another team
    (the deadline is counted again in that team's working time, from the same start)."""
    reassigned = (
        lead.assigned_to_id is not None
        and clock.owner_id is not None
        and lead.assigned_to_id != clock.owner_id
    )
    change = ""
    if reassigned and rules_of(lead.team_id).restart_on_reassign:
        clock.started_at = now
        clock.team_id = lead.team_id
        clock.reminded_at = clock.breached_at = None
        clock.__dict__.update(_plan(lead, team_id=lead.team_id, start=now))
        _log(lead.pk, SlaEventKind.RESTARTED, at=now, **_described(clock))
        change = "restarted"
    elif lead.team_id != clock.team_id and lead.team_id is not None:
        clock.team_id = lead.team_id
        plan = _plan(lead, team_id=lead.team_id, start=clock.started_at)
        clock.__dict__.update(plan)
        _log(lead.pk, SlaEventKind.MOVED, at=now, **_described(clock))
        change = "moved"
    before = (clock.owner_id, clock.next_check_at)
    if lead.assigned_to_id is not None:
        clock.owner_id = lead.assigned_to_id
    clock.next_check_at = _next_check(clock)
    # Nothing moved (the sweep's every check passes here): no write.
    if change or (clock.owner_id, clock.next_check_at) != before:
        clock.save()
    if change:
        lead_services.set_contact_due(lead.pk, clock.due_at, at=now)
    return change


def start_missing(*, now: dt.datetime) -> int:
    """Start the clocks of leads that reached sales recently and have none (their task was
    lost): the partial index `lead_clock_missing` holds exactly those leads."""
    since = now - MISSING_WINDOW
    ids = list(
        Lead.objects.filter(indexed(Lead, "lead_clock_missing"))
        .filter(Q(status_changed_at__gte=since) | Q(status_changed_at__isnull=True))
        .exclude(status_changed_at__isnull=True, created_at__lt=since)
        .values_list("pk", flat=True)[:5000]
    )
    return follow(ids, now=now).get("started", 0)


def history(lead_id: int) -> list[SlaEvent]:
    return list(SlaEvent.objects.filter(lead_id=lead_id).order_by("at", "id"))


def summary(clock: FirstContactClock | None, *, now: dt.datetime) -> Mapping[str, Any] | None:
    """What a list shows for a lead's clock: state, deadline and the business time left (or
    over, negative), counted in the team's working time."""
    if clock is None:
        return None
    calendar = calendar_of(rules_of(clock.team_id))
    left = None
    if clock.state == ClockState.RUNNING:
        left = calendar.between(now, clock.due_at)
    return {"state": clock.state, "due_at": clock.due_at, "left": left}
