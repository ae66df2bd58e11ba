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

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.defaults import get_defaults
from leadloop.core import prepared
from leadloop.distribution import conditions
from leadloop.distribution.selling.models import Buyer, Sale, SaleState

ACTIVE = (SaleState.DELIVERING, SaleState.SOLD)
CENT = Decimal("0.01")
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


def _in(values: list[int]) -> str:
    return ", ".join(["%s"] * len(values))


def _usage(buyers: list[Buyer], now: dt.datetime) -> dict[int, tuple[dict[str, int], Decimal]]:
    """Per buyer: its sales (being delivered or sold) in each of its caps' windows, and the price
    of the leads on their way to it (being delivered). Two statements for any number of buyers,
    written out rather than built by the ORM: an auction counts this twice, and compiling the
    two queries cost more than running them. Only the windows some buyer has a cap for are
    counted, and without a total cap only the sales since the widest window began."""
    if not buyers:
        return {}
    ids = [b.pk for b in buyers]
    ops = connection.ops
    table = ops.quote_name(Sale._meta.db_table)
    caps: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    used = [f for f in CAPS if any(getattr(b, f) is not None for b in buyers)]
    if used:
        starts = window_starts(now)
        counts = ", ".join(
            "COUNT(CASE WHEN created_at >= %s THEN 1 END)" if starts[f] else "COUNT(*)"
            for f in used
        )
        params: list[Any] = [ops.adapt_datetimefield_value(starts[f]) for f in used if starts[f]]
        sql = (
            f"SELECT buyer_id, {counts} FROM {table} "  # noqa: S608 - our table, fixed columns
            f"WHERE buyer_id IN ({_in(ids)}) AND state IN (%s, %s)"
        )
        params += [*ids, *ACTIVE]
        if "cap_total" not in used:
            sql += " AND created_at >= %s"
            since = min(start for f in used if (start := starts[f]) is not None)
            params.append(ops.adapt_datetimefield_value(since))
        with connection.cursor() as cursor:
            cursor.execute(sql + " GROUP BY buyer_id", params)
            for buyer_id, *row in cursor.fetchall():
                caps[buyer_id] = {f: int(n) for f, n in zip(used, row, strict=True)}
    pending = dict.fromkeys(ids, Decimal("0"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT buyer_id, SUM(price) FROM {table} "  # noqa: S608 - our table
            f"WHERE state = %s AND buyer_id IN ({_in(ids)}) GROUP BY buyer_id",
            [SaleState.DELIVERING, *ids],
        )
        for buyer_id, total in cursor.fetchall():
            pending[buyer_id] = Decimal(str(total or 0)).quantize(CENT)
    return {pk: (caps[pk], pending[pk]) for pk in ids}


def _reached(buyer: Buyer, counts: dict[str, int]) -> str:
    for field in CAPS:
        limit = getattr(buyer, field)
        if limit is not None and counts.get(field, 0) >= limit:
            return str(CAP_LABELS[field])
    return ""


def _spendable(buyer: Buyer, pending: Decimal) -> Decimal:
    limit = buyer.credit_limit if buyer.funding == "credit" else Decimal("0")
    return buyer.balance + limit - pending


def candidates(
    lead: Any, *, now: dt.datetime, buyers: list[Buyer] | None = None
) -> tuple[list[Candidate], list[Skipped]]:
    """Buyers that may buy `lead` now, with their price; and those passed over, with why. A
    fixed number of queries however many buyers there are."""
    if buyers is None:
        # Compiled once (the ORM's query cost a tenth of an auction's CPU); by name, as listed.
        active: list[Any] = prepared.all_by(Buyer, "is_active", True)
        buyers = sorted(active, key=lambda b: b.name)
    pool = buyers
    offered = list(
        Sale.objects.filter(lead_id=lead.pk).values_list("buyer_id", "state", "buyer__max_shares")
    )
    had = {buyer_id for buyer_id, _state, _shares in offered}
    sold = [shares for _buyer, state, shares in offered if state == SaleState.SOLD]
    open_now = [b for b in pool if b.is_active and b.pk not in had and is_open(b, now)]
    usage = _usage(open_now, now)
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    for buyer in pool:
        why = _why_not(buyer, lead, now=now, had=had, sold=sold)
        price = price_for(buyer, lead)
        if not why:
            caps, pending = usage.get(buyer.pk, ({}, Decimal("0")))
            reached = _reached(buyer, caps)
            if reached:
                why = _("reached %(cap)s") % {"cap": reached}
            elif _spendable(buyer, pending) < price:
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
    try:
        with transaction.atomic():
            # The columns the checks read; not the filters, mapping and rules (JSON to parse).
            # FOR NO KEY UPDATE on PostgreSQL: it orders the sales to this buyer, and does not
            # hold up rows that only refer to it (bids, logs, ledger entries of other auctions).
            locked = (
                Buyer.objects.select_for_update(no_key=True)
                .only("is_active", "balance", "funding", "credit_limit", "currency", *CAPS)
                .get(pk=buyer_id)
            )
            if not locked.is_active:
                return _("paused")
            caps, pending = _usage([locked], now).get(buyer_id, ({}, Decimal("0")))
            reached = _reached(locked, caps)
            if reached:
                return _("reached %(cap)s") % {"cap": reached}
            if _spendable(locked, pending) < price:
                return _("out of funds")
            sale = Sale(
                lead_id=lead_id,
                buyer_id=buyer_id,
                auction_id=auction_id,
                state=SaleState.DELIVERING,
                price=price,
                currency=locked.currency,
                created_at=now,
            )
            # A lead goes to a buyer once while the sale stands: the unique constraint on
            # standing sales refuses a second one (the last statement of this transaction).
            prepared.insert(sale)
    except IntegrityError:
        return _("has this lead already")
    sale.buyer = buyer if isinstance(buyer, Buyer) else Buyer.objects.get(pk=buyer_id)
    return sale
