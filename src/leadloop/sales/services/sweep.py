"""The first-contact sweep: every minute, the reminders and breaches that fell due.

A minute's checks are handled CHECK_BATCH at a time, in one transaction a batch. The leads and
clocks of a batch are read once and locked (leads first, as everywhere else). A clock whose lead
is as the clock last saw it (still waiting, same owner, same team) and whose check only tells
people is handled with the others like it: one update of the clocks, one insert of the history
and one of the notifications for the whole batch. The rest (a lead contacted, moved or closed
since, a breach that puts the lead back in the pool or routes it again) are checked one by one,
each in a savepoint of its own, as `follow` would. A failing bulk part is retried one by one, so
one lead's trouble never stops the others; its clock stays due for the next run.

A crash loses the batch being handled, not more: nothing is reminded or escalated twice, and
the next run does the rest (tests/sales/test_sweep_crash.py kills it mid-way).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from leadloop.accounts.models import Role, User
from leadloop.leads import events
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead
from leadloop.notifications.services import Tell, notify_each
from leadloop.sales.models import (
    BreachAction,
    ClockState,
    FirstContactClock,
    SlaEvent,
    SlaEventKind,
)
from leadloop.sales.services.clocks import (
    SLA,
    WAITING,
    _follow_loaded,
    _log,
    _next_check,
    start_missing,
)
from leadloop.sales.services.rules import calendar_of, rules_of

logger = logging.getLogger(__name__)

# Checks a sweep commits together. At 1,000,000 leads a minute's 1,100 checks took 11.9 s on
# PostgreSQL one by one (25 a transaction); in bulk see docs/benchmarks.md.
CHECK_BATCH = 200
REMINDER_TITLE = gettext_noop("First contact due soon: %(lead)s")
REMINDER_BODY = gettext_noop("Reach %(lead)s before %(due)s.")
BREACH_TITLE = gettext_noop("First contact overdue: %(lead)s")
BREACH_BODY = gettext_noop("%(lead)s was due for a first contact at %(due)s (%(owner)s).")


def check(*, now: dt.datetime | None = None, limit: int = 5000) -> dict[str, int]:
    """The sweep: start lost clocks, then every reminder and breach that is due, oldest first."""
    now = now or timezone.now()
    counts = {"started": start_missing(now=now), "reminded": 0, "breached": 0}
    due = list(
        FirstContactClock.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
    managers: dict[int | None, list[User]] = {}
    for first in range(0, len(due), CHECK_BATCH):
        # The lead events of a batch's hand-overs (back to the pool, routed again) reach their
        # listeners as one batch after its commit: one task queued a listener, not one a lead.
        with events.gathered(), transaction.atomic():
            for outcome in _check_batch(due[first : first + CHECK_BATCH], now, managers):
                if outcome in counts:
                    counts[outcome] += 1
    return counts


@dataclass
class _Due:
    """A check of a lead as its clock last saw it: the clock, its (locked) lead and owner (as
    they were before any hand-over), reminder or breach, and the breach's hand-over (a
    `BreachAction`, "" for an alert only)."""

    clock: FirstContactClock
    lead: Lead
    owner: User | None
    kind: str
    hand_over: str = ""
    history: list[SlaEvent] = field(default_factory=list)


def _check_batch(
    lead_ids: Sequence[int], now: dt.datetime, managers: dict[int | None, list[User]]
) -> list[str]:
    """The outcomes of one batch's checks, inside the batch's transaction."""
    leads = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update(of=("self",))
        .select_related("assigned_to__notification_preference", "team")
        .filter(pk__in=lead_ids)
        .order_by("pk")
    }
    clocks = {
        clock.pk: clock
        for clock in FirstContactClock.objects.select_for_update()
        .filter(pk__in=lead_ids)
        .order_by("pk")
    }
    in_line: list[_Due] = []
    one_by_one: list[int] = []
    for lead_id in lead_ids:
        lead, clock = leads.get(lead_id), clocks.get(lead_id)
        due = _in_line(lead, clock, now) if lead is not None and clock is not None else None
        if due is None:
            one_by_one.append(lead_id)
        else:
            in_line.append(due)
    outcomes: list[str] = []
    if in_line:
        try:
            with transaction.atomic():
                # A hand-over that fails is rolled back alone, and its clock stays due for the
                # next run; the others are told about together.
                done = [due for due in in_line if not due.hand_over or _handed_over(due, now)]
                outcomes += _tell_in_bulk(done, now, managers)
        except Exception:
            logger.exception("first-contact checks in bulk failed; checking one by one")
            one_by_one += [due.lead.pk for due in in_line]
    for lead_id in one_by_one:
        try:
            outcomes.append(_check_one(lead_id, now=now, managers=managers))
        except Exception:
            # One lead's trouble (a notification, a routing refusal) must not stop the others:
            # its savepoint is rolled back, its clock stays due for the next run.
            logger.exception("first-contact check failed for lead %d", lead_id)
    return outcomes


def _in_line(lead: Lead, clock: FirstContactClock, now: dt.datetime) -> _Due | None:
    """The reminder or breach due on `clock` when its lead is as the clock last saw it (so
    `follow` would change nothing); None otherwise, for `_check_one`."""
    if (
        clock.state != ClockState.RUNNING
        or clock.next_check_at is None
        or clock.next_check_at > now
    ):
        return None
    in_line = (
        lead.status in WAITING
        and lead.merged_into_id is None
        and not lead.owner_partner_id
        and (lead.last_contacted_at is None or lead.last_contacted_at < clock.started_at)
        and (lead.team_id is None or lead.team_id == clock.team_id)
        and (lead.assigned_to_id is None or lead.assigned_to_id == clock.owner_id)
    )
    if not in_line:
        return None
    if clock.breached_at is None and now >= clock.due_at:
        return _Due(clock, lead, lead.assigned_to, "breached", _hand_over_of(lead))
    if clock.reminded_at is None and clock.remind_at is not None and now >= clock.remind_at:
        return _Due(clock, lead, lead.assigned_to, "reminded")
    return None


def _hand_over_of(lead: Lead) -> str:
    """What the team does with a lead whose time ran out, besides alerting: "" when the owner
    keeps it (or there is none, or no team's pool to return it to)."""
    action = rules_of(lead.team_id).on_breach
    if lead.assigned_to_id is None or action == BreachAction.ALERT:
        return ""
    if action == BreachAction.POOL and lead.team is None:
        return ""
    return str(action)


def _handed_over(due: _Due, now: dt.datetime) -> bool:
    """The breach's hand-over, in a savepoint of its own: the lead back in its team's pool or
    routed again. False (and nothing done) when it failed."""
    lead = due.lead
    reason = "First contact overdue"
    try:
        with transaction.atomic():
            if due.hand_over == BreachAction.POOL and lead.team is not None:
                team = lead.team.name
                # The batch holds the lead's row lock and read it under it.
                lead_services.assign_lead(
                    lead, by=SLA, team=lead.team, reason=reason, row_locked=True
                )
                due.history.append(_event(due, SlaEventKind.RETURNED, now, team=team))
            else:
                lead_services.release_lead(lead, by=SLA, reason=reason)
                due.history.append(_event(due, SlaEventKind.REROUTED, now))
    except Exception:
        logger.exception("handing over lead %d after its breach failed", lead.pk)
        return False
    return True


def _tell_in_bulk(
    checks: list[_Due], now: dt.datetime, managers: dict[int | None, list[User]]
) -> list[str]:
    """Reminders and breaches (their hand-overs done): the clocks updated by one statement a
    kind, their history by one insert and the notifications by another."""
    reminded = [due for due in checks if due.kind == "reminded"]
    breached = [due for due in checks if due.kind == "breached"]
    # One UPDATE a kind, not a row each: what the next check is follows from the columns
    # (`_next_check`): the deadline after a reminder; after a breach, nothing, or a reminder
    # that was never sent.
    for due in reminded:
        due.clock.reminded_at = now
    for due in breached:
        due.clock.breached_at = now
    for due in checks:
        due.clock.next_check_at = _next_check(due.clock)
    clocks = FirstContactClock.objects.filter(state=ClockState.RUNNING)
    if reminded:
        clocks.filter(pk__in=[due.clock.pk for due in reminded]).update(
            reminded_at=now, next_check_at=F("due_at")
        )
    for next_check in (None, F("remind_at")):
        group = [
            due.clock.pk
            for due in breached
            if (due.clock.next_check_at is None) == (next_check is None)
        ]
        if group:
            clocks.filter(pk__in=group).update(breached_at=now, next_check_at=next_check)
    history, messages = [], []
    for due in reminded:
        history.append(_event(due, SlaEventKind.REMINDED, now, to=_name(due.owner)))
        if due.owner is not None:
            messages.append(_reminder(due.clock, due.lead, due.owner))
    for due in breached:
        history.append(_event(due, SlaEventKind.BREACHED, now, owner=_name(due.owner)))
        history.extend(due.history)
        told = _managers(due.lead, managers)
        messages.append(_breach_message(due.clock, due.lead, told, owner=due.owner))
    SlaEvent.objects.bulk_create(history)
    notify_each(messages)
    return [due.kind for due in checks]


def _event(due: _Due, kind: str, now: dt.datetime, **data: Any) -> SlaEvent:
    return SlaEvent(lead_id=due.lead.pk, kind=kind, at=now, by="", data=data)


def _name(user: User | None) -> str:
    return user.display_name if user is not None else ""


@transaction.atomic
def _check_one(
    lead_id: int, *, now: dt.datetime, managers: dict[int | None, list[User]] | None = None
) -> str:
    # The lead and its clock are read once, locked, and brought in line first (a lost event:
    # contacted, moved or closed) before the check; the lead comes with its owner and team for
    # the reminder and breach. Lock the lead row only: PostgreSQL refuses FOR UPDATE on the
    # nullable side of the outer joins.
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .select_related("assigned_to", "team")
        .get(pk=lead_id)
    )
    clock = FirstContactClock.objects.select_for_update().filter(pk=lead_id).first()
    change = _follow_loaded(lead, clock, now=now)
    if (
        clock is None
        or clock.state != ClockState.RUNNING
        or clock.next_check_at is None
        or clock.next_check_at > now
    ):
        return change
    clock.lead = lead
    if clock.breached_at is None and now >= clock.due_at:
        _breach(clock, now=now, managers=managers)
        return "breached"
    if clock.reminded_at is None and clock.remind_at is not None and now >= clock.remind_at:
        _remind(clock, now=now)
        return "reminded"
    clock.next_check_at = _next_check(clock)
    clock.save(update_fields=["next_check_at"])
    return change


def _lead_params(clock: FirstContactClock, lead: Lead) -> dict[str, Any]:
    local = timezone.localtime(clock.due_at, calendar_of(rules_of(clock.team_id)).zone)
    return {"lead": str(lead)[:80], "due": local.strftime("%Y-%m-%d %H:%M")}


def _reminder(clock: FirstContactClock, lead: Lead, owner: User) -> Tell:
    return Tell(
        [owner],
        kind="sla_reminder",
        title=REMINDER_TITLE,
        body=REMINDER_BODY,
        params=_lead_params(clock, lead),
        url=f"/leads/{lead.pk}/",
        lead_id=lead.pk,
    )


def _breach_message(
    clock: FirstContactClock, lead: Lead, told: list[User], *, owner: User | None
) -> Tell:
    return Tell(
        told,
        kind="sla_breached",
        title=BREACH_TITLE,
        body=BREACH_BODY,
        params={**_lead_params(clock, lead), "owner": owner.display_name if owner else "-"},
        url=f"/leads/{lead.pk}/",
        lead_id=lead.pk,
    )


def _remind(clock: FirstContactClock, *, now: dt.datetime) -> None:
    clock.reminded_at = now
    clock.next_check_at = _next_check(clock)
    clock.save(update_fields=["reminded_at", "next_check_at"])
    owner = clock.lead.assigned_to
    if owner is not None:
        notify_each([_reminder(clock, clock.lead, owner)])
    _log(clock.lead_id, SlaEventKind.REMINDED, at=now, to=_name(owner))


def managers_of(team_id: int | None) -> list[User]:
    """Who hears of a breach: the team's manager and the sales managers in the team; for a lead
    without a team, every active sales manager."""
    managers = User.objects.filter(is_active=True, role=Role.SALES_MANAGER)
    if team_id is not None:
        managers = managers.filter(Q(managed_teams=team_id) | Q(team_id=team_id))
    return list(managers.select_related("notification_preference").distinct())


def _managers(lead: Lead, managers: dict[int | None, list[User]] | None) -> list[User]:
    """The lead's team's managers, asked once a sweep (the run's `managers`), not once a
    breach."""
    told = managers.get(lead.team_id) if managers is not None else None
    if told is None:
        told = managers_of(lead.team_id)
        if managers is not None:
            managers[lead.team_id] = told
    return told


def _breach(
    clock: FirstContactClock,
    *,
    now: dt.datetime,
    managers: dict[int | None, list[User]] | None = None,
) -> None:
    lead = clock.lead
    clock.breached_at = now
    clock.next_check_at = _next_check(clock)
    clock.save(update_fields=["breached_at", "next_check_at"])
    owner = lead.assigned_to
    _log(lead.pk, SlaEventKind.BREACHED, at=now, owner=_name(owner))
    notify_each([_breach_message(clock, lead, _managers(lead, managers), owner=owner)])
    action = rules_of(lead.team_id).on_breach
    if owner is None or action == BreachAction.ALERT:
        return
    reason = "First contact overdue"
    if action == BreachAction.POOL and lead.team is not None:
        # `_check_one` holds the lead's row lock and read it under it.
        lead_services.assign_lead(lead, by=SLA, team=lead.team, reason=reason, row_locked=True)
        _log(lead.pk, SlaEventKind.RETURNED, at=now, team=lead.team.name)
    elif action == BreachAction.REROUTE:
        lead_services.release_lead(lead, by=SLA, reason=reason)
        _log(lead.pk, SlaEventKind.REROUTED, at=now)
