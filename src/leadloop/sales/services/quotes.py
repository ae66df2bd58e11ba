"""Quotes and outcomes: offers with amount, currency, expected close and probability; won with
the order value; lost with a reason and, if known, the competitor who won.

A lead may carry several quotes; one is current, and the lead's potential revenue, probability
and currency follow it (the pipeline's weighted value is amount × probability). Amounts are
never converted: a quote in dollars stays in dollars and is summed only with dollars.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import CLOSED_STATUSES, ActivityKind, Lead, LeadStatus, LostReason
from leadloop.sales.models import Quote, QuoteState, TaskKind
from leadloop.sales.services import steps

# The chance of an order at each stage, the default of a new quote's probability.
STAGE_PROBABILITY: dict[str, int] = {
    LeadStatus.ASSIGNED: 10,
    LeadStatus.CONTACTED: 25,
    LeadStatus.QUOTED: 50,
}
# Anything above this is a typing error rather than a deal.
MAX_AMOUNT = Decimal("1000000000")
QUOTE_REMINDER_DAYS = 3
MAX_NOTE = 5000


def check_amount(raw: Any, *, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, up to a billion."""
    try:
        amount = Decimal(str(raw).strip().replace(",", ".")) if raw not in (None, "") else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationFailed(
            _("Give the amount as a number."), errors={field: [_("Not a number.")]}
        )
    if amount <= 0:
        raise ValidationFailed(
            _("The amount must be more than zero."), errors={field: [_("Not above zero.")]}
        )
    if amount > MAX_AMOUNT:
        raise ValidationFailed(
            _("That amount is too large to be a real order."),
            errors={field: [_("At most 1,000,000,000.")]},
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(
            _("Give the amount in cents at most."), errors={field: [_("Two decimals at most.")]}
        )
    return amount.quantize(Decimal("0.01"))


def check_currency(raw: Any) -> str:
    code = str(raw or "").strip().upper() or get_defaults().currency
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValidationFailed(
            _("Not a currency code."), errors={"currency": [_("Use ISO 4217, like EUR or USD.")]}
        )
    return code


def check_probability(raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if not 0 <= value <= 100:
        raise ValidationFailed(
            _("The probability is a percentage."), errors={"probability": [_("From 0 to 100.")]}
        )
    return value


def _open(lead: Lead) -> Lead:
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.status in CLOSED_STATUSES:
        raise Conflict(_("This lead is closed."))
    return locked


def _mirror(lead_id: int, *, at: dt.datetime) -> None:
    current = Quote.objects.filter(lead_id=lead_id, is_current=True).first()
    lead_services.set_deal_values(
        lead_id,
        potential_revenue=current.amount if current else None,
        probability=current.probability if current else None,
        currency=current.currency if current else get_defaults().currency,
        at=at,
    )


@transaction.atomic
def add_quote(
    lead: Lead,
    *,
    by: Actor,
    amount: Any,
    currency: str = "",
    expected_close_on: dt.date | None = None,
    probability: Any = None,
    title: str = "",
    note: str = "",
    send: bool = False,
) -> Quote:
    """A new quote, which becomes the current one. Probability defaults to the stage's."""
    locked = _open(lead)
    stage = LeadStatus.QUOTED if send else locked.status
    now = timezone.now()
    quote = Quote(
        lead=locked,
        title=lead_services.clean_text(title)[:200],
        amount=check_amount(amount),
        currency=check_currency(currency),
        expected_close_on=expected_close_on,
        probability=(
            check_probability(probability)
            if probability not in (None, "")
            else STAGE_PROBABILITY.get(stage, 25)
        ),
        note=lead_services.clean_text(note)[:MAX_NOTE],
        created_by=steps.label_of(by),
        created_at=now,
        updated_at=now,
    )
    Quote.objects.filter(lead=locked, is_current=True).update(is_current=False, updated_at=now)
    quote.save()
    lead_services.record_activity(
        locked, kind=ActivityKind.QUOTE, by=by, message=quote.title, data=_described(quote), at=now
    )
    _mirror(locked.pk, at=now)
    if send:
        send_quote(quote, by=by)
    return quote


def _described(quote: Quote) -> dict[str, Any]:
    return {
        "quote_id": quote.pk,
        "amount": str(quote.amount),
        "currency": quote.currency,
        "probability": quote.probability,
        "state": quote.state,
        "expected_close_on": quote.expected_close_on.isoformat()
        if quote.expected_close_on
        else None,
    }


@transaction.atomic
def update_quote(quote: Quote, *, by: Actor, **changes: Any) -> Quote:
    """Change a quote's amount, currency, expected close, probability, title or note."""
    _open(quote.lead)
    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    if "amount" in changes:
        locked.amount = check_amount(changes["amount"])
    if "currency" in changes:
        locked.currency = check_currency(changes["currency"])
    if "probability" in changes:
        locked.probability = check_probability(changes["probability"])
    if "expected_close_on" in changes:
        locked.expected_close_on = changes["expected_close_on"]
    if "title" in changes:
        locked.title = lead_services.clean_text(changes["title"])[:200]
    if "note" in changes:
        locked.note = lead_services.clean_text(changes["note"])[:MAX_NOTE]
    now = timezone.now()
    locked.updated_at = now
    locked.save()
    lead_services.record_activity(
        locked.lead, kind=ActivityKind.QUOTE, by=by, data=_described(locked), at=now
    )
    if locked.is_current:
        _mirror(locked.lead_id, at=now)
    return locked


@transaction.atomic
def make_current(quote: Quote, *, by: Actor) -> Quote:
    _open(quote.lead)
    now = timezone.now()
    Quote.objects.filter(lead_id=quote.lead_id, is_current=True).exclude(pk=quote.pk).update(
        is_current=False, updated_at=now
    )
    Quote.objects.filter(pk=quote.pk).update(is_current=True, updated_at=now)
    quote.is_current = True
    _mirror(quote.lead_id, at=now)
    return quote


@transaction.atomic
def send_quote(quote: Quote, *, by: Actor) -> Quote:
    """The quote went to the customer: the lead moves to `quoted` (through `contacted` when it
    was only assigned), and a reminder to chase the answer repeats every few days."""
    lead = _open(quote.lead)
    now = timezone.now()
    Quote.objects.filter(pk=quote.pk).update(state=QuoteState.SENT, sent_at=now, updated_at=now)
    quote.state, quote.sent_at = QuoteState.SENT, now
    if lead.status == LeadStatus.ASSIGNED:
        lead = lead_services.transition(lead, to=LeadStatus.CONTACTED, by=by, row_locked=True)
    if lead.status == LeadStatus.CONTACTED:
        lead_services.transition(lead, to=LeadStatus.QUOTED, by=by, row_locked=True)
    lead_services.record_activity(
        lead, kind=ActivityKind.QUOTE, by=by, message=_("Quote sent"), data=_described(quote)
    )
    if lead.assigned_to_id is not None or isinstance(by, User):
        steps.add_task(
            lead,
            by=by,
            kind=TaskKind.CALL,
            due_at=now + dt.timedelta(days=QUOTE_REMINDER_DAYS),
            title=_("Ask for an answer to the quote"),
            repeat_days=QUOTE_REMINDER_DAYS,
            quote=quote,
        )
    return quote


@transaction.atomic
def win(
    lead: Lead,
    *,
    by: Actor,
    order_value: Any = None,
    won_on: dt.date | None = None,
    note: str = "",
) -> Lead:
    """Won: the order value (the current quote's amount unless given) and date are recorded."""
    current = Quote.objects.filter(lead_id=lead.pk, is_current=True).first()
    value = (
        check_amount(order_value, field="order_value")
        if order_value not in (None, "")
        else (current.amount if current else None)
    )
    text = lead_services.clean_text(note)
    if won_on is not None:
        text = (f"{text} " if text else "") + _("Won on %(date)s.") % {"date": won_on.isoformat()}
    locked = lead_services.transition(lead, to=LeadStatus.WON, by=by, order_value=value, note=text)
    if current is not None:
        Quote.objects.filter(pk=current.pk).update(
            state=QuoteState.ACCEPTED, updated_at=timezone.now()
        )
    steps.tidy([locked.pk])
    return locked


@transaction.atomic
def lose(
    lead: Lead,
    *,
    by: Actor,
    lost_reason: LostReason | None,
    competitor: str = "",
    note: str = "",
) -> Lead:
    """Lost: a reason from the list is required, the competitor who won is kept if known."""
    locked = lead_services.transition(
        lead,
        to=LeadStatus.LOST,
        by=by,
        lost_reason=lost_reason,
        competitor=competitor,
        note=lead_services.clean_text(note),
    )
    Quote.objects.filter(lead_id=locked.pk, is_current=True).update(
        state=QuoteState.DECLINED, updated_at=timezone.now()
    )
    steps.tidy([locked.pk])
    return locked


def settle_closed(lead_ids: list[int]) -> int:
    """The current quote of a lead that was won or lost by any path (the lead page's status
    buttons, the API's transition, a bulk move) is accepted or declined with it."""
    now = timezone.now()
    open_states = [QuoteState.DRAFT, QuoteState.SENT]
    current = Quote.objects.filter(lead_id__in=lead_ids, is_current=True, state__in=open_states)
    accepted = current.filter(lead__status=LeadStatus.WON).update(
        state=QuoteState.ACCEPTED, updated_at=now
    )
    declined = current.filter(lead__status=LeadStatus.LOST).update(
        state=QuoteState.DECLINED, updated_at=now
    )
    return accepted + declined
