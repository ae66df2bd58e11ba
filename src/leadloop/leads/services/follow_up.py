"""The lead columns sales follow-up keeps in step, and contact logged on a lead.

`sales` owns the clocks, tasks and quotes; the lead row carries what every list sorts and
filters by, written here because `leads` owns the row: the first-contact deadline, the earliest
open task, the current quote's value and probability, and the last time someone reached the
person (which moves an assigned lead to `contacted`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.errors import ValidationFailed
from leadloop.leads import entry, events
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.leads.services.leads import (
    _audit_change,
    _refuse_erased,
    move_status,
    status_events,
)
from leadloop.leads.services.timeline import Entry, record_activities, record_activity
from leadloop.leads.services.validation import clean_text

CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)


LOGGABLE_KINDS = (ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)


@transaction.atomic
def log_activity(lead: Lead, *, kind: str, message: str, by: Actor) -> Activity:
    """Log a note, call, e-mail or meeting on a lead's timeline. A call, e-mail or meeting
    counts as reaching the person (`follow_up.log_contact`): an assigned lead becomes
    contacted."""
    if kind not in LOGGABLE_KINDS:
        raise ValidationFailed(
            _("Choose note, call, e-mail or meeting."), errors={"kind": [_("Not a loggable kind.")]}
        )
    _refuse_erased(lead)
    text = clean_text(message)
    if not text:
        raise ValidationFailed(_("Write something."), errors={"message": [_("Required.")]})
    if kind != ActivityKind.NOTE:
        return log_contact(lead, kind=kind, by=by, reached=True, message=text)
    activity = record_activity(lead, kind=kind, by=by, message=text)
    Lead.objects.filter(pk=lead.pk).update(updated_at=activity.created_at)
    _audit_change(lead, by=by, fields=["timeline"], logged=kind)
    return activity


@transaction.atomic
def log_contact(
    lead: Lead,
    *,
    kind: str,
    by: Actor,
    reached: bool,
    message: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """Put a call, e-mail or meeting (or a call that reached nobody) on the timeline.

    When the person was `reached`, the lead's last contact is now and an assigned lead moves to
    `contacted` in the same transaction (the first-contact clock hears it from the status
    event). A call that reached nobody is logged and changes neither."""
    if kind not in CONTACT_KINDS:
        raise ValueError(f"not a contact kind: {kind}")
    now = at or timezone.now()
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    _refuse_erased(locked)
    entries = [Entry(kind, message, dict(data or {}))]
    moved = None
    if reached:
        locked.last_contacted_at = now
        if locked.status == LeadStatus.ASSIGNED:
            moved = move_status(locked, to=LeadStatus.CONTACTED, by=by, at=now)
            entries.append(Entry(ActivityKind.STATUS_CHANGED, "", moved))
    locked.updated_at = now
    locked.save()
    written = record_activities(locked, entries, by=by, at=now)
    _audit_change(locked, by=by, fields=["timeline"], logged=kind)
    if moved is not None:
        _audit_change(locked, by=by, fields=["status"], to=LeadStatus.CONTACTED)
        events.publish(status_events(locked.pk, moved, by=by, at=now))
    return written[0]


def set_next_follow_up(lead_id: int, at: dt.datetime | None) -> None:
    """The lead's next follow-up is its earliest open task (None: no next step)."""
    Lead.objects.filter(pk=lead_id).update(next_follow_up_at=at)


@transaction.atomic
def set_contact_due(lead_id: int, due: dt.datetime | None, *, at: dt.datetime) -> None:
    """Mirror the first-contact deadline on the lead, and the priority that reads it."""
    locked = Lead.objects.select_for_update().get(pk=lead_id)
    if locked.first_contact_due_at == due:
        return
    locked.first_contact_due_at = due
    entry.rescore_after_status_change(locked, at=at)
    locked.save(update_fields=["first_contact_due_at", "priority", "assessment"])


@transaction.atomic
def set_deal_values(
    lead_id: int,
    *,
    potential_revenue: Decimal | None,
    probability: int | None,
    currency: str,
    at: dt.datetime,
) -> None:
    """Mirror the current quote on the lead: its amount, probability and currency (the
    pipeline's weighted value, and the priority, which values a bigger deal higher)."""
    locked = Lead.objects.select_for_update().get(pk=lead_id)
    locked.potential_revenue = potential_revenue
    locked.probability = probability
    locked.currency = currency
    locked.updated_at = at
    entry.rescore_after_status_change(locked, at=at)
    locked.save(
        update_fields=[
            "potential_revenue",
            "probability",
            "currency",
            "updated_at",
            "priority",
            "assessment",
        ]
    )
