"""Returns: a buyer sends a bought lead back with a reason within its return window; marketing
approves or refuses. An approved return credits the buyer, takes the revenue off the sale, and,
once no buyer holds the lead any more, lets routing place (and sell) it again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import actor_label
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.core.retry import enqueue
from leadloop.distribution.selling.models import (
    EntryKind,
    LeadReturn,
    ReturnState,
    Sale,
    SaleState,
)
from leadloop.distribution.selling.services.buyers import add_entry
from leadloop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from leadloop.leads import services as lead_services

ROUTE_TASK = "leadloop.distribution.tasks.route_leads_task"


def _buyer_of(actor: Actor) -> int | None:
    if isinstance(actor, User) and can(actor, Permission.USE_BUYER_PORTAL):
        login = getattr(actor, "buyer_login", None)
        return login.buyer_id if login is not None else None
    return None


def request_return(
    sale_id: int, *, reason: str, by: Actor, at: dt.datetime | None = None
) -> LeadReturn:
    """A buyer's user (its own sales only) or marketing asks to return a sold lead."""
    now = at or timezone.now()
    buyer_id = _buyer_of(by)
    if buyer_id is None:
        require(by, Permission.MANAGE_BUYERS)
    reason = " ".join(str(reason or "").split())[:500]
    if not reason:
        raise ValidationFailed(_("Say why."), errors={"reason": [_("A return needs a reason.")]})
    with transaction.atomic():
        sale = Sale.objects.select_for_update().select_related("buyer").filter(pk=sale_id).first()
        if sale is None or (buyer_id is not None and sale.buyer_id != buyer_id):
            raise NotFound(_("No such sale."))
        if sale.state != SaleState.SOLD or sale.sold_at is None:
            raise Conflict(_("Only a sold lead can be returned."))
        if LeadReturn.objects.filter(sale=sale).exists():
            raise Conflict(_("This lead was returned already."))
        if now > sale.sold_at + dt.timedelta(days=sale.buyer.return_days):
            raise Conflict(
                _("The return window of %(days)d days has passed.")
                % {"days": sale.buyer.return_days}
            )
        return LeadReturn.objects.create(
            sale=sale, reason=reason, requested_at=now, requested_by_label=actor_label(by)
        )


def decide_return(return_id: int, *, approve: bool, by: Actor, note: str = "") -> LeadReturn:
    """Marketing's decision on a return. Approving credits the price back to the buyer."""
    require(by, Permission.MANAGE_BUYERS)
    now = timezone.now()
    free_again = False
    with transaction.atomic():
        found = (
            LeadReturn.objects.select_for_update()
            .select_related("sale", "sale__buyer")
            .filter(pk=return_id)
            .first()
        )
        if found is None:
            raise NotFound(_("No such return."))
        if found.state != ReturnState.REQUESTED:
            raise Conflict(_("This return was decided already."))
        found.state = ReturnState.APPROVED if approve else ReturnState.REFUSED
        found.decided_at, found.decided_by_label = now, actor_label(by)
        found.note = " ".join(str(note or "").split())[:500]
        found.save(update_fields=["state", "decided_at", "decided_by_label", "note"])
        if approve:
            sale = found.sale
            Sale.objects.filter(pk=sale.pk).update(state=SaleState.RETURNED)
            add_entry(
                sale.buyer_id,
                kind=EntryKind.RETURN,
                amount=sale.price,
                by=by,
                sale_id=sale.pk,
                note=found.reason[:300],
                at=now,
            )
            if not Sale.objects.filter(lead_id=sale.lead_id, state=SaleState.SOLD).exists():
                free_again = True
                lead_services.mark_unsold(
                    sale.lead_id,
                    by=by,
                    at=now,
                    message=_("Returned by %(buyer)s: %(reason)s")
                    % {"buyer": sale.buyer.name, "reason": found.reason},
                    data={"buyer_id": sale.buyer_id, "sale_id": sale.pk},
                )
        if free_again:
            lead_id = found.sale.lead_id
            transaction.on_commit(lambda: enqueue(ROUTE_TASK, lead_ids=[lead_id]))
    return found


def check_portal(actor: Actor) -> int:
    """The buyer whose portal `actor` uses; NotAllowed for anyone else."""
    buyer_id = _buyer_of(actor)
    if buyer_id is None:
        raise NotAllowed(_("Only a lead buyer's users see the buyer portal."))
    return buyer_id
