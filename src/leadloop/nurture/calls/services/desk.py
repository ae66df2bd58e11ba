"""The agent's desk: take the next lead to call, and log how the call went.

`next_for` claims one due entry on the agent's lists: a call-back the agent agreed comes first
when its time has come, then the list's leads by priority and due time, and only lists whose
calling hours are open now. A number on the do-not-call list is never handed out: an entry whose
number was added after it was queued is closed as `dnc` when its turn comes. Claims are a
compare-and-set on the row (and `SELECT … FOR UPDATE SKIP LOCKED` where the database has it), so
two agents never get the same lead; a claim left alone for `STALE_CLAIM` (the agent closed the
page) may be taken by the next agent who asks.

`log_outcome` records the call (a `CallAttempt` and a "call" entry on the lead's timeline, which
counts as contact when the person was reached) and decides what happens to the entry:

- qualified: done; the BANT answers are saved on the lead, and the lead is made sales-ready
  (and so routed) when its status allows;
- not_interested, wrong_number: done (a wrong number is not put on the do-not-call list);
- do_not_call ("asks not to be called"): done, and the number goes on the do-not-call list;
- no_answer, voicemail: due again after the list's retry delay in calling time, until
  `max_attempts` tries; then done as `unreachable`;
- callback: due at the agreed time, on this agent's desk only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.core.expressions import indexed
from leadloop.errors import Conflict, NotAllowed, ValidationFailed
from leadloop.leads import lifecycle
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind, BantAnswer, Lead, LeadStatus
from leadloop.leads.normalize import InvalidValue
from leadloop.nurture import engagement
from leadloop.nurture.calls.models import (
    CallAttempt,
    CallEntry,
    CallList,
    CallOutcome,
    DoNotCall,
    EntryState,
)
from leadloop.nurture.calls.selectors import STALE_CLAIM, held_by
from leadloop.nurture.calls.services import dnc, hours

MAX_NOTES = 5_000
MAX_DURATION = 8 * 3600
MAX_CALLBACK_AHEAD = dt.timedelta(days=366)
# One claim locks one due entry at a time (another agent's SKIP LOCKED passes over it to the
# next), and looks at up to this many (entries closed for a do-not-call number, no phone or a
# merge, or taken by another agent at that moment, make it look further).
ROUNDS = 50

# What an agent may log for a call; the other outcomes only end entries.
CALL_OUTCOMES = (
    CallOutcome.QUALIFIED,
    CallOutcome.NOT_INTERESTED,
    CallOutcome.NO_ANSWER,
    CallOutcome.VOICEMAIL,
    CallOutcome.WRONG_NUMBER,
    CallOutcome.CALLBACK,
    CallOutcome.DO_NOT_CALL,
)
REACHED = frozenset(
    {
        CallOutcome.QUALIFIED,
        CallOutcome.NOT_INTERESTED,
        CallOutcome.CALLBACK,
        CallOutcome.DO_NOT_CALL,
    }
)
RETRIED = frozenset({CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL})
CLOSING = frozenset(
    {
        CallOutcome.QUALIFIED,
        CallOutcome.NOT_INTERESTED,
        CallOutcome.WRONG_NUMBER,
        CallOutcome.DO_NOT_CALL,
    }
)
BANT_FIELDS = ("budget", "authority", "need", "timeframe")


def _agent(by: Actor) -> User:
    require(by, Permission.WORK_CALL_LISTS)
    if not isinstance(by, User) or not by.is_active:
        raise NotAllowed(_("Only a person works the desk."))
    return by


def _free(now: dt.datetime) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_at__lt=now - STALE_CLAIM)


def _member_lists(agent: User) -> QuerySet[CallList]:
    return CallList.objects.filter(members=agent, is_active=True)


def _close(entry: CallEntry, outcome: str, *, at: dt.datetime) -> None:
    entry.state = EntryState.DONE if outcome != CallOutcome.CANCELLED else EntryState.CANCELLED
    entry.outcome = outcome
    entry.closed_at = at
    entry.claimed_by = None
    entry.claimed_at = None


def _skip(entry: CallEntry, outcome: str, *, by: Actor, at: dt.datetime) -> None:
    """Close an entry the desk will not hand out (do-not-call number, no number, merged)."""
    _close(entry, outcome, at=at)
    entry.save()
    messages = {
        CallOutcome.DNC: _("Not called from “%(name)s”: the number is on the do-not-call list."),
        CallOutcome.NO_PHONE: _("Not called from “%(name)s”: no phone number."),
        CallOutcome.CANCELLED: _("Taken off “%(name)s”: merged into another lead."),
    }
    lead_services.record_activity(
        entry.lead,
        kind=ActivityKind.NOTE,
        by=by,
        message=messages[CallOutcome(outcome)] % {"name": entry.call_list.name},
        data={"call_list": entry.call_list.name, "call_entry_id": entry.pk, "outcome": outcome},
        at=at,
    )


def _claim_from(queue: QuerySet[CallEntry], agent: User, now: dt.datetime) -> CallEntry | None:
    for _round in range(ROUNDS):
        with transaction.atomic():
            candidates = list(
                queue.select_for_update(skip_locked=True, of=("self",)).select_related(
                    "lead", "call_list"
                )[:1]
            )
            if not candidates:
                return None
            phones = {c.lead.phone_e164 for c in candidates if c.lead.phone_e164}
            blocked = set(
                DoNotCall.objects.filter(phone_e164__in=phones).values_list("phone_e164", flat=True)
            )
            for candidate in candidates:
                lead = candidate.lead
                reason = (
                    CallOutcome.CANCELLED
                    if lead.merged_into_id
                    else CallOutcome.NO_PHONE
                    if not lead.phone_e164
                    else CallOutcome.DNC
                    if lead.phone_e164 in blocked
                    else None
                )
                claimed = (
                    CallEntry.objects.filter(pk=candidate.pk, state=EntryState.WAITING)
                    .filter(_free(now))
                    # Taken for a moment also when it is to be closed: nobody else takes it.
                    .update(claimed_by=agent, claimed_at=now)
                )
                if not claimed:
                    continue
                if reason is not None:
                    _skip(candidate, reason, by=agent, at=now)
                    continue
                candidate.claimed_by = agent
                candidate.claimed_at = now
                return candidate
    return None


def next_for(agent: Actor, *, at: dt.datetime | None = None) -> CallEntry | None:
    """Claim the agent's next lead to call, or None when nothing is due on its lists now. A lead
    the agent already has on the desk (claimed, no outcome yet) comes back first."""
    user = _agent(agent)
    now = at or timezone.now()
    held = held_by(user, now=now)
    if held is not None:
        return held
    lists = list(_member_lists(user))
    open_ids = [item.pk for item in lists if hours.is_calling_time(item, now)]
    if not open_ids:
        return None
    due = CallEntry.objects.filter(
        indexed(CallEntry, "call_entry_due"), call_list_id__in=open_ids, due_at__lte=now
    ).filter(_free(now))
    callbacks = due.filter(assigned_to=user).order_by("due_at", "pk")
    general = due.filter(assigned_to__isnull=True).order_by("-lead__priority", "due_at", "pk")
    for queue in (callbacks, general):
        entry = _claim_from(queue, user, now)
        if entry is not None:
            return entry
    return None


def _may_work(entry: CallEntry, by: Actor) -> bool:
    if can(by, Permission.MANAGE_CALL_LISTS):
        return True
    return isinstance(by, User) and entry.call_list.members.filter(pk=by.pk).exists()


@transaction.atomic
def release(entry: CallEntry, *, by: Actor) -> CallEntry:
    """Put a claimed lead back without a call (the agent skips it); it stays due."""
    require(by, Permission.WORK_CALL_LISTS)
    locked = CallEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    if locked.claimed_by_id and (
        locked.claimed_by_id == getattr(by, "pk", None) or can(by, Permission.MANAGE_CALL_LISTS)
    ):
        locked.claimed_by = None
        locked.claimed_at = None
        locked.save(update_fields=["claimed_by", "claimed_at"])
    return locked


def _bant(values: Mapping[str, Any] | None) -> dict[str, str]:
    changes: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key, value in (values or {}).items():
        name = str(key).removeprefix("bant_")
        if name not in BANT_FIELDS:
            errors[f"bant.{key}"] = [_("Not a BANT question.")]
            continue
        answer = "" if value is None else str(value)
        if answer not in BantAnswer.values:
            errors[f"bant.{name}"] = [_("met, not_met or empty.")]
            continue
        if answer:
            changes[f"bant_{name}"] = answer
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return changes


def _validated(
    entry: CallEntry,
    *,
    outcome: str,
    duration: int | None,
    notes: str,
    callback_at: dt.datetime | None,
    now: dt.datetime,
) -> str:
    errors: dict[str, list[str]] = {}
    if outcome not in CALL_OUTCOMES:
        errors["outcome"] = [
            _("One of: %(choices)s.") % {"choices": ", ".join(str(o) for o in CALL_OUTCOMES)}
        ]
    if duration is not None and not 0 <= duration <= MAX_DURATION:
        errors["duration"] = [_("Between 0 and 8 hours (in seconds).")]
    try:
        text = lead_services.clean_text(notes or "")
    except InvalidValue as exc:
        errors["notes"] = [str(exc)]
        text = ""
    if len(text) > MAX_NOTES:
        errors["notes"] = [_("At most %(n)d characters.") % {"n": MAX_NOTES}]
    if outcome == CallOutcome.CALLBACK:
        if callback_at is None:
            errors["callback_at"] = [_("Required for a call-back.")]
        elif callback_at <= now or callback_at > now + MAX_CALLBACK_AHEAD:
            errors["callback_at"] = [_("A moment in the coming year.")]
        elif not hours.is_calling_time(entry.call_list, callback_at):
            errors["callback_at"] = [_("Outside the list's calling hours.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return text


@transaction.atomic
def log_outcome(
    entry: CallEntry,
    *,
    by: Actor,
    outcome: str,
    duration: int | None = None,
    notes: str = "",
    callback_at: dt.datetime | None = None,
    bant: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> CallAttempt:
    """Record a call on a waiting entry and move the entry on (see the module's table)."""
    require(by, Permission.WORK_CALL_LISTS)
    now = at or timezone.now()
    locked = (
        CallEntry.objects.select_for_update(of=("self",))
        .select_related("call_list", "lead")
        .get(pk=entry.pk)
    )
    if not _may_work(locked, by):
        raise NotAllowed(_("This lead is not on one of your call lists."))
    if locked.state != EntryState.WAITING:
        raise Conflict(_("This call is already logged: the lead is no longer waiting."))
    if (
        locked.claimed_by_id
        and locked.claimed_by_id != getattr(by, "pk", None)
        and locked.claimed_at
        and locked.claimed_at >= now - STALE_CLAIM
    ):
        raise Conflict(_("Another agent has this lead on their desk."))
    text = _validated(
        locked, outcome=outcome, duration=duration, notes=notes, callback_at=callback_at, now=now
    )
    changes = _bant(bant) if outcome == CallOutcome.QUALIFIED else {}
    call_list, lead = locked.call_list, locked.lead
    attempt = CallAttempt.objects.create(
        entry=locked,
        agent=by if isinstance(by, User) else None,
        outcome=outcome,
        duration_seconds=duration,
        notes=text,
        callback_at=callback_at if outcome == CallOutcome.CALLBACK else None,
        at=now,
    )
    locked.attempts += 1
    locked.claimed_by = None
    locked.claimed_at = None
    if outcome in CLOSING:
        _close(locked, outcome, at=now)
    elif outcome in RETRIED:
        due = hours.retry_at(call_list, now)
        if locked.attempts >= call_list.max_attempts or due is None:
            _close(locked, CallOutcome.UNREACHABLE, at=now)
        else:
            locked.due_at = due
    elif outcome == CallOutcome.CALLBACK:
        assert callback_at is not None
        locked.due_at = callback_at
        locked.assigned_to = by if isinstance(by, User) else None
    locked.save()
    data: dict[str, Any] = {
        "outcome": outcome,
        "call_list": call_list.name,
        "call_entry_id": locked.pk,
        "attempt": locked.attempts,
    }
    if duration is not None:
        data["duration_seconds"] = duration
    if outcome == CallOutcome.CALLBACK and callback_at is not None:
        data["callback_at"] = callback_at.isoformat()
    if locked.state == EntryState.DONE:
        data["closed"] = locked.outcome
    lead_services.log_contact(
        lead,
        kind=ActivityKind.CALL,
        by=by,
        reached=outcome in REACHED,
        message=text,
        data=data,
        at=now,
    )
    if outcome == CallOutcome.DO_NOT_CALL:
        dnc.add_asked_not_to_call(
            lead.phone_e164,
            by=by,
            reason=_("Asked not to be called (call list “%(name)s”).") % {"name": call_list.name},
        )
    if outcome == CallOutcome.QUALIFIED:
        _qualify(lead, call_list, changes, by=by)
    if locked.state == EntryState.DONE:
        # A workflow waiting for this list's outcome looks at once.
        engagement.engaged(lead.pk)
    return attempt


def _qualify(lead: Lead, call_list: CallList, changes: dict[str, str], *, by: Actor) -> None:
    """Save the BANT answers, and make the lead sales-ready when its status allows; the
    `lead_became_sales_ready` event routes it after the commit."""
    if changes:
        lead_services.update_lead(lead, changes, by=by)
    status = Lead.objects.only("status").get(pk=lead.pk).status
    if LeadStatus.SALES_READY in lifecycle.ALLOWED_MOVES.get(status, frozenset()):
        lead_services.transition(
            lead,
            to=LeadStatus.SALES_READY,
            by=by,
            note=_("Qualified by phone (call list “%(name)s”).") % {"name": call_list.name},
        )
