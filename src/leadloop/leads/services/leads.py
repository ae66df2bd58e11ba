"""Leads: create, change, move through the lifecycle, assign, log activities."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import (
    AuditAction,
    AuditTarget,
    Role,
    User,
)
from leadloop.accounts.permissions import writable_lead_fields
from leadloop.core import prepared
from leadloop.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from leadloop.leads import entry, events, lifecycle
from leadloop.leads.events import EventName
from leadloop.leads.models import (
    ActivityKind,
    Campaign,
    Lead,
    LeadStatus,
    LostReason,
    Source,
)
from leadloop.leads.normalize import build_search_text
from leadloop.leads.services.changes import created_events, derive, event
from leadloop.leads.services.timeline import record_activity
from leadloop.leads.services.validation import INPUT_FIELDS, clean_lead_input, clean_text


def refresh_search_text(lead: Lead) -> None:
    """Rebuild the lead's search tokens from its current values (`derive` adds the name key)."""
    lead.search_text = build_search_text(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        company_name=lead.company_name,
        phone_e164=lead.phone_e164,
        phone_raw=lead.phone_raw,
    )


def _display(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _refuse_erased(lead: Lead) -> None:
    # An erased lead stays a tombstone: typing a person's details into it would bring them back.
    if lead.erased_at is not None:
        raise Conflict(_("This lead's personal data was erased; it cannot be changed."))


def _audit_change(lead: Lead, *, by: Actor, fields: list[str], **data: Any) -> None:
    """Put a person's change to a lead in the audit log: field names only, never the values.

    Leadloop's own changes (intake, assessment, routing) are on the lead's timeline only.
    """
    if isinstance(by, SystemActor):
        return
    record_audit(
        actor=by,
        action=AuditAction.LEAD_CHANGED,
        target_type=AuditTarget.LEAD,
        target_id=lead.pk,
        data={"fields": fields, **data},
    )


def _check_source_actor(by: Actor, source: Source) -> None:
    if isinstance(by, SourceActor) and by.source_id != source.pk:
        raise NotAllowed(_("This key may only submit leads to its own source."))


def check_writable_fields(data: Mapping[str, Any], *, by: Actor) -> None:
    """Refuse input naming a lead field `by`'s role may not change (accounts.permissions).

    The refusal does not depend on the value sent, so it says nothing about other records.
    """
    allowed = writable_lead_fields(by)
    if allowed is None:
        return
    refused = sorted((set(data) & INPUT_FIELDS) - allowed)
    if refused:
        raise NotAllowed(
            _("Your role cannot change these fields: %(fields)s.") % {"fields": ", ".join(refused)},
            errors={name: [_("Your role cannot change this field.")] for name in refused},
        )


def prepare_lead(
    data: Mapping[str, Any],
    *,
    source: Source,
    by: Actor,
    at: dt.datetime | None = None,
) -> Lead:
    """Check and clean input into an unsaved lead, writing nothing (raises ValidationFailed);
    a rep's new lead is theirs, a manager's their team's, a partner's their organisation's.

    The intake prepares a lead before it takes the write lock, and saves it inside.
    """
    _check_source_actor(by, source)
    if isinstance(by, User) and not by.is_active:
        raise NotAllowed(_("Inactive users cannot create leads."))
    check_writable_fields(data, by=by)
    values = clean_lead_input(data, default_region=source.default_country, by=by)
    _check_origin(values, source=source)
    now = at or timezone.now()
    lead = Lead(source=source, created_at=now, updated_at=now, **values)
    if not lead.language and source.default_language:
        lead.language = source.default_language
    if isinstance(by, User):
        lead.created_by = by
        if by.role == Role.SALES_REP:
            lead.assigned_to = by
            lead.team_id = by.team_id
        elif by.role == Role.SALES_MANAGER:
            # A manager's new lead lands in their team's pool, so it stays visible to them.
            lead.team_id = by.team_id or by.managed_teams.values_list("pk", flat=True).first()
            if lead.team_id is None:
                lead.assigned_to = by
        elif by.role == Role.PARTNER:
            lead.owner_partner_id = by.partner_id
    derive(lead)
    return lead


# No savepoint of its own: both callers hold a transaction that an error here rolls back whole,
# and the SAVEPOINT/RELEASE pair was two of the intake's thirteen statements per lead.
@transaction.atomic(savepoint=False)
def save_new_lead(lead: Lead, *, by: Actor, note: Mapping[str, Any] | None = None) -> Lead:
    """Insert a lead from `prepare_lead` and its "created" timeline entry.

    `note` adds to the entry's data (the assessment's verdict: status, grade, why). Publishes
    `lead_created` (and `lead_became_sales_ready`) after the commit.
    """
    if lead.status not in (LeadStatus.NEW, LeadStatus.NURTURING, LeadStatus.SALES_READY):
        raise InvalidTransition(_("A new lead starts as new, nurturing or sales-ready."))
    _save_checked(lead)
    record_activity(
        lead,
        kind=ActivityKind.CREATED,
        by=by,
        data={"source": lead.source.name, **(note or {})},
        at=lead.created_at,
    )
    events.publish(
        created_events(
            lead.pk, status=lead.status, source_id=lead.source_id, by=by, at=lead.created_at
        )
    )
    return lead


def _check_origin(values: Mapping[str, Any], *, source: Source, lead_id: int | None = None) -> None:
    """A lead's campaign belongs to its source, and an external reference is unique per source."""
    if (
        values.get("campaign_id")
        and not Campaign.objects.filter(pk=values["campaign_id"], source=source).exists()
    ):
        raise ValidationFailed(
            _("The campaign belongs to another source."),
            errors={"campaign_id": [_("This campaign belongs to another source.")]},
        )
    if values.get("external_ref"):
        others = Lead.objects.filter(source=source, external_ref=values["external_ref"])
        if lead_id is not None:
            others = others.exclude(pk=lead_id)
        if others.exists():
            raise _duplicate_reference()


def _duplicate_reference() -> ValidationFailed:
    return ValidationFailed(
        _("A lead with this external reference exists for this source."),
        errors={"external_ref": [_("Already used for this source.")]},
    )


def _save_checked(lead: Lead) -> None:
    """Save, turning a lost race on the (source, external_ref) unique key into a field error."""
    save = prepared.insert if lead._state.adding else Lead.save
    if not lead.external_ref:
        save(lead)  # nothing unique to race on: skip the savepoint
        return
    try:
        with transaction.atomic():
            save(lead)
    except IntegrityError as exc:
        if "external_ref" in str(exc) or "lead_external_ref_unique_per_source" in str(exc):
            raise _duplicate_reference() from exc
        raise


@transaction.atomic
def update_lead(lead: Lead, data: Mapping[str, Any], *, by: Actor) -> Lead:
    """Change a lead's fields; every changed field goes on the timeline as old → new.

    Status and ownership are not fields here: they change through `transition` and `assign_lead`.
    Each role changes only its own fields (`check_writable_fields`), and an organisation or
    campaign only to one it may see.
    """
    check_writable_fields(data, by=by)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    _refuse_erased(locked)
    region = (data.get("country") if isinstance(data.get("country"), str) else "") or (
        locked.country or locked.source.default_country
    )
    values = clean_lead_input(data, default_region=region, by=by)
    _check_origin(values, source=locked.source, lead_id=locked.pk)
    changes = []
    for name, new in values.items():
        old = getattr(locked, name)
        if old != new:
            changes.append({"field": name, "old": _display(old), "new": _display(new)})
            setattr(locked, name, new)
    if not changes:
        return locked
    derive(locked)
    locked.updated_at = timezone.now()
    _save_checked(locked)
    record_activity(
        locked,
        kind=ActivityKind.FIELD_CHANGED,
        by=by,
        message=", ".join(c["field"] for c in changes),
        data={"changes": changes},
    )
    _audit_change(locked, by=by, fields=[c["field"] for c in changes])
    return locked


@transaction.atomic
def transition(
    lead: Lead,
    *,
    to: str,
    by: Actor,
    lost_reason: LostReason | None = None,
    order_value: Decimal | None = None,
    note: str = "",
    competitor: str = "",
    row_locked: bool = False,
) -> Lead:
    """Move a lead to another status, if the lifecycle allows it, and write the timeline.

    Locks the lead row, so two people pressing "won" and "lost" at once cannot both succeed.
    With `row_locked` the caller already holds that lock and read `lead` under it in this
    transaction (routing), so it is not read again.
    """
    locked = lead if row_locked else _lock(lead, to)
    now = timezone.now()
    data = move_status(
        locked,
        to=to,
        by=by,
        at=now,
        lost_reason=lost_reason,
        order_value=order_value,
        competitor=competitor,
    )
    locked.save()
    record_activity(
        locked, kind=ActivityKind.STATUS_CHANGED, by=by, message=note, data=data, at=now
    )
    _audit_change(locked, by=by, fields=["status"], to=to)
    events.publish(status_events(locked.pk, data, by=by, at=now))
    return locked


def _lock(lead: Lead, to: str) -> Lead:
    if to not in LeadStatus.values:
        raise InvalidTransition(_("Unknown status %(status)r.") % {"status": to})
    return Lead.objects.select_for_update().get(pk=lead.pk)


def move_status(
    locked: Lead,
    *,
    to: str,
    by: Actor,
    at: dt.datetime,
    lost_reason: LostReason | None = None,
    order_value: Decimal | None = None,
    competitor: str = "",
) -> dict[str, Any]:
    """Check that `locked` may move to `to` and set its status columns in memory (not saved);
    the timeline entry's data. For `transition` and `assign_lead`, which hold the row lock and
    save the row once."""
    if to not in LeadStatus.values:
        raise InvalidTransition(_("Unknown status %(status)r.") % {"status": to})
    old = locked.status
    if to not in lifecycle.ALLOWED_MOVES[old]:
        raise InvalidTransition(
            _("A lead cannot move from %(old)s to %(new)s.")
            % {"old": LeadStatus(old).label, "new": LeadStatus(to).label},
            errors={
                "to": [
                    _("Allowed from %(old)s: %(moves)s.")
                    % {
                        "old": LeadStatus(old).label,
                        "moves": ", ".join(
                            str(LeadStatus(m).label) for m in lifecycle.allowed_moves(old)
                        )
                        or _("none"),
                    }
                ]
            },
        )
    if isinstance(by, User) and by.role == Role.PARTNER and to not in lifecycle.PARTNER_MOVES:
        raise NotAllowed(_("Partner users can record contact, quotes, won and lost only."))
    if to == LeadStatus.ASSIGNED and not (locked.assigned_to_id or locked.owner_partner_id):
        raise InvalidTransition(
            _("Assign the lead to a person or a partner first."),
            errors={"to": [_("An assigned lead needs an owner.")]},
        )
    if to == LeadStatus.LOST and lost_reason is None:
        raise ValidationFailed(
            _("Say why the lead was lost."),
            errors={"lost_reason": [_("Required when a lead is lost.")]},
        )
    data: dict[str, Any] = {"from": old, "to": to}
    locked.status = to
    locked.status_changed_at = at
    locked.updated_at = at
    if to == LeadStatus.LOST:
        locked.lost_reason = lost_reason
        data["lost_reason"] = lost_reason.name if lost_reason else ""
        locked.competitor = clean_text(competitor)[:200] or None
        if locked.competitor:
            data["competitor"] = locked.competitor
    if to == LeadStatus.WON and order_value is not None:
        locked.order_value = order_value
        data["order_value"] = str(order_value)
    if to == LeadStatus.CONTACTED:
        locked.last_contacted_at = at
    if to in lifecycle.CLOSED:
        locked.closed_at = at
    elif old in lifecycle.CLOSED:
        locked.closed_at = None
    # The priority reads the status (a closed lead has no contact urgency): derive it again now,
    # so lists sorted by it are right at once and the caller's one save writes it.
    entry.rescore_after_status_change(locked, at=at)
    return data


def status_events(
    lead_id: int, data: Mapping[str, Any], *, by: Actor, at: dt.datetime
) -> list[events.LeadEvent]:
    """`status_changed`, and `lead_became_sales_ready` when the lead became sales-ready."""
    published = [event(EventName.STATUS_CHANGED, lead_id, by=by, at=at, **data)]
    if data["to"] == LeadStatus.SALES_READY:
        published.append(event(EventName.LEAD_BECAME_SALES_READY, lead_id, by=by, at=at))
    return published
