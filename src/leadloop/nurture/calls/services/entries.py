"""Putting leads on a call list: one by one (the workflow engine, a person, the API) or from a
lead-list filter, and taking them off.

`add_to_call_list` is idempotent: a lead already waiting on the list keeps its entry, which is
returned. A lead that cannot be called is refused with `Conflict` (its message says why: no
phone number, the number is on the do-not-call list, the list is not active, the lead was merged
into another); the workflow engine catches it and carries on with its next step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services
from leadloop.leads.forms.lists import LeadFilterForm
from leadloop.leads.models import ActivityKind, Lead
from leadloop.nurture.calls.models import CallEntry, CallList, CallOutcome, DoNotCall, EntryState
from leadloop.nurture.calls.services.dnc import is_on_dnc

# One fill adds at most this many leads; fill again for more (leads already on the list are
# skipped, so a second fill continues where the first stopped).
MAX_FILL = 5_000


def origin_of(by: Actor) -> str:
    pk = getattr(by, "pk", None)
    return f"user:{pk}" if pk else "system"


def _note(lead: Lead, call_list: CallList, entry: CallEntry, *, by: Actor, at: dt.datetime) -> None:
    lead_services.record_activity(
        lead,
        kind=ActivityKind.NOTE,
        by=by,
        message=_("Put on the call list “%(name)s”.") % {"name": call_list.name},
        data={"call_list": call_list.name, "call_entry_id": entry.pk, "origin": entry.origin},
        at=at,
    )


def add_to_call_list(
    lead: Lead,
    call_list: CallList,
    *,
    by: Actor,
    due_at: dt.datetime | None = None,
    origin: str = "",
    at: dt.datetime | None = None,
) -> CallEntry:
    """Put `lead` on `call_list`, due at `due_at` (now by default); the open entry when it is
    already waiting there. Raises Conflict when the lead cannot be called (see the module)."""
    require(by, Permission.MANAGE_CALL_LISTS)
    now = at or timezone.now()
    with transaction.atomic():
        current = CallList.objects.get(pk=call_list.pk)
        waiting = CallEntry.objects.filter(
            call_list=current, lead_id=lead.pk, state=EntryState.WAITING
        ).first()
        if waiting is not None:
            return waiting
        if not current.is_active:
            raise Conflict(_("The call list “%(name)s” is not active.") % {"name": current.name})
        row = Lead.objects.get(pk=lead.pk)
        if row.merged_into_id:
            raise Conflict(_("Lead #%(id)d was merged into another lead.") % {"id": row.pk})
        if not row.phone_e164:
            raise Conflict(_("Lead #%(id)d has no phone number to call.") % {"id": row.pk})
        if is_on_dnc(row.phone_e164):
            raise Conflict(
                _("The phone number of lead #%(id)d is on the do-not-call list.") % {"id": row.pk}
            )
        try:
            with transaction.atomic():
                entry = CallEntry.objects.create(
                    call_list=current,
                    lead=row,
                    due_at=due_at or now,
                    origin=(origin or origin_of(by))[:100],
                    created_at=now,
                )
        except IntegrityError:  # put there at the same moment by another caller
            return CallEntry.objects.get(
                call_list=current, lead_id=lead.pk, state=EntryState.WAITING
            )
        _note(row, current, entry, by=by, at=now)
    return entry


@dataclass(frozen=True)
class FillResult:
    matched: int
    added: int
    already: int
    no_phone: int
    do_not_call: int


def fill_from_filter(
    call_list: CallList, *, by: Actor, query: str = "", limit: int = MAX_FILL
) -> FillResult:
    """Put the leads of a lead-list filter on the list: `query` is the leads page's query string
    (`status=nurturing&source=3&q=…`, as saved views keep it), the list's own `fill_query` when
    empty. Only leads `by` may see; leads that were ever on the list, have no phone or a number
    on the do-not-call list are skipped (and counted)."""
    require(by, Permission.MANAGE_CALL_LISTS)
    current = CallList.objects.get(pk=call_list.pk)
    text = (query or current.fill_query).strip().lstrip("?")
    if not text:
        raise ValidationFailed(
            _("Give a lead filter to fill the list from."),
            errors={"query": [_("Required (or save one on the list).")]},
        )
    if not current.is_active:
        raise Conflict(_("The call list “%(name)s” is not active.") % {"name": current.name})
    filters = LeadFilterForm(QueryDict(text[:2000]), actor=by).to_filters()
    leads = list(
        lead_selectors.iter_leads_for_export(by, filters, limit=max(1, min(limit, MAX_FILL)))
    )
    ids = [lead.pk for lead in leads]
    known = set(
        CallEntry.objects.filter(call_list=current, lead_id__in=ids).values_list(
            "lead_id", flat=True
        )
    )
    phones = {lead.phone_e164 for lead in leads if lead.phone_e164}
    blocked = set(
        DoNotCall.objects.filter(phone_e164__in=phones).values_list("phone_e164", flat=True)
    )
    now = timezone.now()
    added = already = no_phone = dnc = 0
    for lead in leads:
        if lead.pk in known:
            already += 1
            continue
        if not lead.phone_e164:
            no_phone += 1
            continue
        if lead.phone_e164 in blocked:
            dnc += 1
            continue
        with transaction.atomic():
            try:
                with transaction.atomic():
                    entry = CallEntry.objects.create(
                        call_list=current, lead=lead, due_at=now, origin="filter", created_at=now
                    )
            except IntegrityError:
                already += 1
                continue
            _note(lead, current, entry, by=by, at=now)
        added += 1
    return FillResult(len(leads), added, already, no_phone, dnc)


@transaction.atomic
def cancel_entry(entry: CallEntry, *, by: Actor) -> CallEntry:
    """Take a waiting lead off its list (marketing and admins)."""
    require(by, Permission.MANAGE_CALL_LISTS)
    locked = CallEntry.objects.select_for_update().get(pk=entry.pk)
    if locked.state != EntryState.WAITING:
        raise Conflict(_("This lead is no longer waiting on the list."))
    now = timezone.now()
    locked.state = EntryState.CANCELLED
    locked.outcome = CallOutcome.CANCELLED
    locked.closed_at = now
    locked.claimed_by = None
    locked.claimed_at = None
    locked.save()
    return locked
