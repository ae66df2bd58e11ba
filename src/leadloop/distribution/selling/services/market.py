"""Which buyers may buy a lead, and at what price: filters, schedule, caps, funds, sharing.

`candidates` reads without locks (an auction asks them first); `reserve` checks caps and funds
again under the buyer's row lock and writes the sale in the same transaction, so two leads sold
at the same instant cannot both take a buyer's last place or last euro.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from leadloop.accounts.defaults import get_defaults
from leadloop.distribution import conditions
from leadloop.distribution.selling.models import Buyer, Sale, SaleState

ACTIVE = (SaleState.DELIVERING, SaleState.SOLD)
CAPS = ("cap_hour", "cap_day", "cap_week", "cap_month", "cap_total")


@dataclass
class Candidate:
    buyer: Buyer
    price: Decimal


@dataclass(frozen=True)
class Skipped:
    buyer: Buyer
    why: str


def price_for(buyer: Buyer, lead: Any) -> Decimal:
    """The buyer's price for this lead: its first price rule that holds, else its price."""
    for rule in buyer.price_rules or []:
        if all(conditions.holds(c, lead) for c in rule["conditions"]):
            return Decimal(rule["price"])
    return buyer.price


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(get_defaults().time_zone)


def window_starts(now: dt.datetime) -> dict[str, dt.datetime | None]:
    """Where each cap's window began: this hour, day, week (from Monday) and month in the
    deployment's time zone; the total has none."""
    local = now.astimezone(_zone())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "cap_hour": local.replace(minute=0, second=0, microsecond=0),
        "cap_day": day,
        "cap_week": day - dt.timedelta(days=local.weekday()),
        "cap_month": day.replace(day=1),
        "cap_total": None,
    }


def is_open(buyer: Buyer, now: dt.datetime) -> bool:
    """Whether the buyer takes leads now (its days and hours, in the deployment's zone)."""
    local = now.astimezone(_zone())
    if str(local.isoweekday()) not in buyer.work_days:
        return False
    if buyer.hours_from is None or buyer.hours_until is None:
        return True
    clock = local.time()
    if buyer.hours_from <= buyer.hours_until:
        return buyer.hours_from <= clock < buyer.hours_until
    return clock >= buyer.hours_from or clock < buyer.hours_until


def cap_reached(buyer: Buyer, now: dt.datetime) -> str:
    """The first cap the buyer has reached (its label), or ""."""
    used = {field: getattr(buyer, field) for field in CAPS if getattr(buyer, field) is not None}
    if not used:
        return ""
    starts = window_starts(now)
    counts = Sale.objects.filter(buyer=buyer, state__in=ACTIVE).aggregate(
        **{
            field: Count("pk", filter=Q(created_at__gte=starts[field]))
            if starts[field] is not None
            else Count("pk")
            for field in used
        }
    )
    for field, limit in used.items():
        if counts[field] >= limit:
            return {
                "cap_hour": _("its cap for this hour"),
                "cap_day": _("its cap for today"),
                "cap_week": _("its cap for this week"),
                "cap_month": _("its cap for this month"),
                "cap_total": _("its total cap"),
            }[field]
    return ""


def funds_for(buyer: Buyer) -> Decimal:
    """What the buyer can still spend: its balance (plus its credit limit on credit), less the
    price of the leads on their way to it."""
    pending = Sale.objects.filter(buyer=buyer, state=SaleState.DELIVERING).aggregate(
        total=Sum("price")
    )["total"] or Decimal("0")
    limit = buyer.credit_limit if buyer.funding == "credit" else Decimal("0")
    return buyer.balance + limit - pending


def candidates(
    lead: Any, *, now: dt.datetime, buyers: list[Buyer] | None = None
) -> tuple[list[Candidate], list[Skipped]]:
    """Buyers that may buy `lead` now, with their price; and those passed over, with why."""
    pool = buyers if buyers is not None else list(Buyer.objects.filter(is_active=True))
    had = set(Sale.objects.filter(lead_id=lead.pk).values_list("buyer_id", flat=True))
    sold = list(
        Sale.objects.filter(lead_id=lead.pk, state=SaleState.SOLD).values_list(
            "buyer__max_shares", flat=True
        )
    )
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    for buyer in pool:
        why = _why_not(buyer, lead, now=now, had=had, sold=sold)
        if why:
            skipped.append(Skipped(buyer, why))
            continue
        found.append(Candidate(buyer, price_for(buyer, lead)))
    return found, skipped


def _why_not(buyer: Buyer, lead: Any, *, now: dt.datetime, had: set[int], sold: list[int]) -> str:
    if not buyer.is_active:
        return _("paused")
    if buyer.pk in had:
        return _("was offered this lead before")
    if sold and (buyer.max_shares <= len(sold) or min(sold) <= len(sold)):
        return _("the lead is sold to as many buyers as may share it")
    for condition in buyer.filters or []:
        if not conditions.holds(condition, lead):
            return _("its filter “%(c)s” does not hold") % {"c": conditions.as_text(condition)}
    if not is_open(buyer, now):
        return _("outside its buying hours")
    reached = cap_reached(buyer, now)
    if reached:
        return _("reached %(cap)s") % {"cap": reached}
    if funds_for(buyer) < price_for(buyer, lead):
        return _("out of funds")
    return ""


def reserve(
    buyer_id: int, lead_id: int, price: Decimal, *, auction_id: int | None, now: dt.datetime
) -> Sale | str:
    """Write the sale (being delivered) if the buyer still has room under its caps and money
    for `price`, under the buyer's row lock; else why not."""
    with transaction.atomic():
        buyer = Buyer.objects.select_for_update().get(pk=buyer_id)
        reached = cap_reached(buyer, now)
        if reached:
            return _("reached %(cap)s") % {"cap": reached}
        if not buyer.is_active:
            return _("paused")
        if funds_for(buyer) < price:
            return _("out of funds")
        if Sale.objects.filter(lead_id=lead_id, buyer=buyer, state__in=ACTIVE).exists():
            return _("has this lead already")
        return Sale.objects.create(
            lead_id=lead_id,
            buyer=buyer,
            auction_id=auction_id,
            state=SaleState.DELIVERING,
            price=price,
            currency=buyer.currency,
            created_at=now,
        )
