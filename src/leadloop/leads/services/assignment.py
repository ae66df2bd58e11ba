"""Who works a lead: a person (and their team), a team's pool or a partner; one or many at once.

Every move writes the timeline and the audit trail in the same transaction and publishes
`assigned` after it commits (leads.events); a bulk move publishes its moves as one batch.
The event says who moved the lead (`by_user_id`, None for the system), why (`reason`) and how
(`via`: "manual" for a person's or operator's choice, or what the caller names, such as
"routing", whose own messages already tell the receivers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts import selectors as accounts_selectors
from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import PartnerOrganization, Role, Team, User
from leadloop.errors import InvalidTransition, NotAllowed, ValidationFailed
from leadloop.leads import events
from leadloop.leads.events import EventName
from leadloop.leads.models import OPEN_STATUSES, ActivityKind, Lead, LeadStatus
from leadloop.leads.selectors import can_move_leads_of
from leadloop.leads.services.changes import event
from leadloop.leads.services.leads import _audit_change, move_status, status_events, transition
from leadloop.leads.services.timeline import Entry, record_activities, record_activity
from leadloop.leads.services.validation import clean_text

MAX_REASON = 500
VIA_MANUAL = "manual"


@transaction.atomic
def assign_lead(
    lead: Lead,
    *,
    by: Actor,
    to: User | None = None,
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
    reason: str = "",
    via: str = VIA_MANUAL,
    row_locked: bool = False,
) -> Lead:
    """Give a lead to a person (and their team), to a team's pool, or to a partner.

    A lead that was not yet being worked moves to `assigned` when it gets an owner. `reason`
    (why it moves: "Daan left the team") goes on the timeline, so whoever gets it sees why.
    `via` names the path in the `assigned` event (see the module docstring). With `row_locked`
    the caller already holds the lead's row lock and read `lead` under it in this transaction
    (routing), so it is not read again. The move and its status change are one UPDATE and one
    INSERT of both timeline entries.
    """
    if to is None and team is None and partner is None:
        raise ValidationFailed(
            _("Choose a person, a team or a partner."), errors={"to": [_("Required.")]}
        )
    if partner is not None and (to is not None or team is not None):
        raise ValidationFailed(
            _("A lead goes to a person or a team, or to a partner, not both."),
            errors={"partner": [_("Choose either a partner or a person or team.")]},
        )
    _check_assignment_scope(by, to=to, team=team, partner=partner)
    locked = lead if row_locked else Lead.objects.select_for_update().get(pk=lead.pk)
    before = _owners(locked)
    locked.assigned_to = to
    locked.team = team or (to.team if to is not None else None)
    locked.owner_partner = partner
    now = timezone.now()
    locked.updated_at = now
    has_owner = to is not None or partner is not None
    status_to = None
    if has_owner and locked.status in (
        LeadStatus.NEW,
        LeadStatus.NURTURING,
        LeadStatus.SALES_READY,
    ):
        status_to = LeadStatus.ASSIGNED
    elif not has_owner and locked.status == LeadStatus.ASSIGNED:
        # An assigned lead needs an owner: back in a pool it waits as sales-ready. A contacted or
        # quoted lead keeps its status, so the next rep sees how far the conversation got.
        status_to = LeadStatus.SALES_READY
    moved = move_status(locked, to=status_to, by=by, at=now) if status_to else None
    locked.save()
    message = clean_text(reason)[:MAX_REASON]
    entries = [Entry(ActivityKind.ASSIGNED, message, {"before": before, "after": _owners(locked)})]
    if moved is not None:
        entries.append(Entry(ActivityKind.STATUS_CHANGED, "", moved))
    record_activities(locked, entries, by=by, at=now)
    _audit_change(locked, by=by, fields=["assigned_to", "team", "owner_partner"])
    published = [
        event(
            EventName.ASSIGNED,
            locked.pk,
            by=by,
            at=now,
            user_id=to.pk if to else None,
            team_id=locked.team_id,
            partner_id=partner.pk if partner else None,
            by_user_id=by.pk if isinstance(by, User) else None,
            via=via,
            reason=message,
        )
    ]
    if moved is not None:
        _audit_change(locked, by=by, fields=["status"], to=status_to)
        published += status_events(locked.pk, moved, by=by, at=now)
    events.publish(published)
    return locked


@transaction.atomic(savepoint=False)  # inside a sale's recording: no savepoint of its own
def mark_sold(
    lead: Lead | int, *, by: Actor, at: dt.datetime, message: str, data: dict[str, Any]
) -> None:
    """A buyer bought the lead: it leaves routing (`sold_at`) and its timeline says to whom."""
    if not isinstance(lead, Lead):
        lead = Lead.objects.get(pk=lead)
    Lead.objects.filter(pk=lead.pk, sold_at__isnull=True).update(sold_at=at, updated_at=at)
    record_activity(lead, kind=ActivityKind.SOLD, by=by, message=message, data=data, at=at)


def mark_unsold(
    lead_id: int, *, by: Actor, at: dt.datetime, message: str, data: dict[str, Any]
) -> None:
    """Every sale of the lead was returned: routing may place it (and sell it) again."""
    lead = Lead.objects.get(pk=lead_id)
    Lead.objects.filter(pk=lead_id).update(sold_at=None, updated_at=at)
    record_activity(lead, kind=ActivityKind.SALE_RETURNED, by=by, message=message, data=data, at=at)


def release_lead(lead: Lead, *, by: Actor, reason: str) -> Lead:
    """Take a lead back from whoever has it (person, pool or partner) so it is routed again:
    an assigned lead becomes sales-ready once more, which publishes `lead_became_sales_ready`.
    For a partner that rejected the lead or let its response time run out."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    before = _owners(locked)
    now = timezone.now()
    locked.assigned_to, locked.team, locked.owner_partner = None, None, None
    locked.updated_at = now
    locked.save()
    message = clean_text(reason)[:MAX_REASON]
    record_activity(
        locked,
        kind=ActivityKind.ASSIGNED,
        by=by,
        message=message,
        data={"before": before, "after": _owners(locked)},
        at=now,
    )
    _audit_change(locked, by=by, fields=["assigned_to", "team", "owner_partner"])
    events.publish(
        [
            event(
                EventName.ASSIGNED,
                locked.pk,
                by=by,
                at=now,
                user_id=None,
                team_id=None,
                partner_id=None,
                by_user_id=by.pk if isinstance(by, User) else None,
                via=VIA_MANUAL,
                reason=message,
            )
        ]
    )
    if locked.status == LeadStatus.ASSIGNED:
        locked = transition(locked, to=LeadStatus.SALES_READY, by=by)
    return locked


def _owners(lead: Lead) -> dict[str, str | None]:
    """Who has the lead, by name, as the timeline's before/after of a move shows it."""
    return {
        "assigned_to": lead.assigned_to.display_name if lead.assigned_to else None,
        "team": lead.team.name if lead.team else None,
        "partner": lead.owner_partner.name if lead.owner_partner else None,
    }


def _check_assignment_scope(
    by: Actor, *, to: User | None, team: Team | None, partner: PartnerOrganization | None
) -> None:
    if isinstance(by, User) and by.role == Role.PARTNER:
        raise NotAllowed(_("Partner users cannot reassign leads."))
    if to is not None and (not to.is_active or to.role not in (Role.SALES_REP, Role.SALES_MANAGER)):
        raise ValidationFailed(
            _("Leads go to active sales reps and managers."),
            errors={"to": [_("Not a sales user.")]},
        )
    if isinstance(by, SystemActor):
        # Leadloop itself may give a lead to any active sales user (checked above) and any team:
        # routing places thousands of leads an hour, and these two reads would be a fifth of
        # its statements.
        return
    if (
        to is not None
        and not accounts_selectors.list_assignable_users(by).filter(pk=to.pk).exists()
    ):
        raise NotAllowed(_("You cannot assign leads to this person."))
    if (
        team is not None
        and not accounts_selectors.list_assignable_teams(by).filter(pk=team.pk).exists()
    ):
        raise NotAllowed(_("You cannot put leads in this team's pool."))
    if partner is not None and not accounts_selectors.can_route_to_partners(by):
        raise NotAllowed(_("You cannot route leads to partners."))


def resolve_assignee(
    *, by: Actor, user_id: int | None, team_id: int | None, partner_id: int | None
) -> dict[str, Any]:
    """Turn ids into the person, team pool or partner `by` may hand a lead to."""
    if isinstance(by, User) and by.role == Role.PARTNER:
        raise NotAllowed(_("Partner users cannot reassign leads."))
    errors: dict[str, list[str]] = {}
    target: dict[str, Any] = {}
    if user_id is not None:
        target["to"] = accounts_selectors.list_assignable_users(by).filter(pk=user_id).first()
        if target["to"] is None:
            errors["user_id"] = [_("You cannot assign leads to this user.")]
    if team_id is not None:
        target["team"] = accounts_selectors.list_assignable_teams(by).filter(pk=team_id).first()
        if target["team"] is None:
            errors["team_id"] = [_("You cannot put leads in this team's pool.")]
    if partner_id is not None:
        if not accounts_selectors.can_route_to_partners(by):
            raise NotAllowed(_("You cannot route leads to partners."))
        target["partner"] = (
            accounts_selectors.list_assignable_partners(by).filter(pk=partner_id).first()
        )
        if target["partner"] is None:
            errors["partner_id"] = [_("No such partner.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return target


@dataclass(frozen=True)
class BulkResult:
    changed: int
    failed: dict[int, str]


def bulk_transition(leads: Iterable[Lead], *, to: str, by: Actor, **kwargs: Any) -> BulkResult:
    """Move many leads; each one is its own transaction, and refusals are reported per lead."""
    changed, failed = 0, {}
    for lead in leads:
        try:
            transition(lead, to=to, by=by, **kwargs)
            changed += 1
        except (InvalidTransition, NotAllowed, ValidationFailed) as exc:
            failed[lead.pk] = exc.detail
    return BulkResult(changed=changed, failed=failed)


def bulk_assign(leads: Iterable[Lead], *, by: Actor, **kwargs: Any) -> BulkResult:
    """Assign many leads, each in its own transaction; refusals are reported per lead. The
    moves are published as one batch, so a receiver hears once about all their new leads."""
    changed, failed = 0, {}
    with events.gathered():
        for lead in leads:
            try:
                assign_lead(lead, by=by, **kwargs)
                changed += 1
            except (InvalidTransition, NotAllowed, ValidationFailed) as exc:
                failed[lead.pk] = exc.detail
    return BulkResult(changed=changed, failed=failed)


def reassign_open_leads(
    owner: User,
    *,
    by: Actor,
    to: User | None = None,
    team: Team | None = None,
    reason: str = "",
) -> BulkResult:
    """Hand every open lead `owner` works (not won, lost or disqualified) to another person or a
    team's pool, one lead at a time, each with `reason` on its timeline: a rep who leaves or
    changes teams. `by` needs to be allowed to assign each of them; refusals are reported."""
    if to is not None and to.pk == owner.pk:
        raise ValidationFailed(
            _("Choose someone other than the person whose leads move."),
            errors={"to": [_("The same person.")]},
        )
    if to is None and team is None:
        raise ValidationFailed(
            _("Choose a person or a team pool."), errors={"to": [_("Required.")]}
        )
    _check_assignment_scope(by, to=to, team=team, partner=None)
    if not can_move_leads_of(by, owner):
        raise NotAllowed(_("You cannot move this person's leads."))
    # The ids first: each move rewrites the very rows a still-open read would be walking.
    ids = list(
        Lead.objects.filter(
            assigned_to=owner, status__in=OPEN_STATUSES, merged_into__isnull=True
        ).values_list("pk", flat=True)
    )
    return bulk_assign(_in_chunks(ids), by=by, to=to, team=team, reason=reason)


def _in_chunks(ids: list[int], size: int = 500) -> Iterator[Lead]:
    for start in range(0, len(ids), size):
        yield from Lead.objects.filter(pk__in=ids[start : start + size]).order_by("pk")
