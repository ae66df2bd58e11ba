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
from django.utils.translation import gettext_lazy

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


CAP_LABELS = {
    "cap_hour": gettext_lazy("its cap for this hour"),
    "cap_day": gettext_lazy("its cap for today"),
    "cap_week": gettext_lazy("its cap for this week"),
    "cap_month": gettext_lazy("its cap for this month"),
    "cap_total": gettext_lazy("its total cap"),
}


def _caps_used(buyers: list[Buyer], now: dt.datetime) -> dict[int, dict[str, int]]:
    """Per buyer with caps: its sales (being delivered or sold) in each cap's window, counted in
    one query. Only the windows a buyer has a cap for are read, and without a total cap only
    sales since the start of the widest window."""
    capped = [b for b in buyers if any(getattr(b, f) is not None for f in CAPS)]
    if not capped:
        return {}
    starts = window_starts(now)
    used = [f for f in CAPS if any(getattr(b, f) is not None for b in capped)]
    sales = Sale.objects.filter(buyer__in=capped, state__in=ACTIVE)
    if "cap_total" not in used:
        sales = sales.filter(created_at__gte=min(s for f in used if (s := starts[f]) is not None))
    rows = sales.values("buyer_id").annotate(
        **{
            f: Count("pk", filter=Q(created_at__gte=starts[f])) if starts[f] else Count("pk")
            for f in used
        }
    )
    found: dict[int, dict[str, Any]] = {row["buyer_id"]: dict(row) for row in rows}
    return {b.pk: {f: int(found.get(b.pk, {}).get(f, 0)) for f in used} for b in capped}


def _reached(buyer: Buyer, counts: dict[str, int]) -> str:
    for field in CAPS:
        limit = getattr(buyer, field)
        if limit is not None and counts.get(field, 0) >= limit:
            return str(CAP_LABELS[field])
    return ""


def cap_reached(buyer: Buyer, now: dt.datetime) -> str:
    """The first cap the buyer has reached (its label), or ""."""
    return _reached(buyer, _caps_used([buyer], now).get(buyer.pk, {}))


def _pending(buyers: list[Buyer]) -> dict[int, Decimal]:
    """The price of the leads on their way to each buyer (sales being delivered), one query."""
    rows = (
        Sale.objects.filter(state=SaleState.DELIVERING, buyer__in=buyers)
        .values("buyer_id")
        .annotate(total=Sum("price"))
    )
    return {row["buyer_id"]: row["total"] or Decimal("0") for row in rows}


def _spendable(buyer: Buyer, pending: Decimal) -> Decimal:
    limit = buyer.credit_limit if buyer.funding == "credit" else Decimal("0")
    return buyer.balance + limit - pending


def funds_for(buyer: Buyer) -> Decimal:
    """What the buyer can still spend: its balance (plus its credit limit on credit), less the
    price of the leads on their way to it."""
    return _spendable(buyer, _pending([buyer]).get(buyer.pk, Decimal("0")))


def candidates(
    lead: Any, *, now: dt.datetime, buyers: list[Buyer] | None = None
) -> tuple[list[Candidate], list[Skipped]]:
    """Buyers that may buy `lead` now, with their price; and those passed over, with why. A
    fixed number of queries however many buyers there are."""
    pool = buyers if buyers is not None else list(Buyer.objects.filter(is_active=True))
    offered = list(
        Sale.objects.filter(lead_id=lead.pk).values_list("buyer_id", "state", "buyer__max_shares")
    )
    had = {buyer_id for buyer_id, _state, _shares in offered}
    sold = [shares for _buyer, state, shares in offered if state == SaleState.SOLD]
    open_now = [b for b in pool if b.is_active and b.pk not in had and is_open(b, now)]
    caps = _caps_used(open_now, now)
    pending = _pending(open_now)
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    for buyer in pool:
        why = _why_not(buyer, lead, now=now, had=had, sold=sold)
        price = price_for(buyer, lead)
        if not why:
            reached = _reached(buyer, caps.get(buyer.pk, {}))
            if reached:
                why = _("reached %(cap)s") % {"cap": reached}
            elif _spendable(buyer, pending.get(buyer.pk, Decimal("0"))) < price:
                why = _("out of funds")
        if why:
            skipped.append(Skipped(buyer, why))
            continue
        found.append(Candidate(buyer, price))
    return found, skipped


def _why_not(buyer: Buyer, lead: Any, *, now: dt.datetime, had: set[int], sold: list[int]) -> str:
    """Why the buyer may not buy the lead, before its caps and money are counted; "" if none."""
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
    return ""


def reserve(
    buyer: Buyer | int,
    lead_id: int,
    price: Decimal,
    *,
    auction_id: int | None,
    now: dt.datetime,
) -> Sale | str:
    """Write the sale (being delivered) if the buyer still has room under its caps and money
    for `price`, under the buyer's row lock; else why not. The sale carries `buyer` as given
    (the whole row the delivery reads), or the buyer loaded once for an id."""
    buyer_id = buyer.pk if isinstance(buyer, Buyer) else buyer
    with transaction.atomic():
        # The columns the checks read; not the filters, mapping and rules (JSON to parse).
        locked = (
            Buyer.objects.select_for_update()
            .only("is_active", "balance", "funding", "credit_limit", "currency", *CAPS)
            .get(pk=buyer_id)
        )
        reached = cap_reached(locked, now)
        if reached:
            return _("reached %(cap)s") % {"cap": reached}
        if not locked.is_active:
            return _("paused")
        if funds_for(locked) < price:
            return _("out of funds")
        if Sale.objects.filter(lead_id=lead_id, buyer_id=buyer_id, state__in=ACTIVE).exists():
            return _("has this lead already")
        sale = Sale.objects.create(
            lead_id=lead_id,
            buyer_id=buyer_id,
            auction_id=auction_id,
            state=SaleState.DELIVERING,
            price=price,
            currency=locked.currency,
            created_at=now,
        )
    sale.buyer = buyer if isinstance(buyer, Buyer) else Buyer.objects.get(pk=buyer_id)
    return sale
