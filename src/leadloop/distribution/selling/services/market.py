"""Which buyers may buy a lead, and at what price: filters, schedule, caps, funds, sharing.

`candidates` reads without locks (an auction asks them first); `reserve` checks caps and funds
again under the buyer's lock and writes the sale in the same statement, so two leads sold at the
same instant cannot both take a buyer's last place or last euro.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
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
from leadloop.distribution.selling.models import Buyer, Funding, Sale, SaleState

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


def _spendable(buyer: Buyer, pending: Decimal, balance: Decimal | None = None) -> Decimal:
    limit = buyer.credit_limit if buyer.funding == "credit" else Decimal("0")
    return (buyer.balance if balance is None else balance) + limit - pending


# The buyers' definitions (filters, prices, mappings, caps), read once every few seconds per
# process: an auction asks for them every time, and turning ten rows with their JSON into
# models cost a tenth of an auction's CPU (bench/selling.py, profiled). Whether each buyer is
# active and its balance are read fresh for every auction; `reserve` checks them again, with
# the caps, under the buyer's lock. A change saved here is seen at once in this process
# (`forget_buyers`), and within DEFINITIONS_SECONDS in the others, as the routing rules are.
DEFINITIONS_SECONDS = 3.0
_DEFINITIONS: dict[int, Buyer] = {}
_READ_AT = [-DEFINITIONS_SECONDS]
_DEFINITIONS_LOCK = threading.Lock()


def forget_buyers() -> None:
    """Read the buyers' definitions afresh at the next auction in this process."""
    with _DEFINITIONS_LOCK:
        _DEFINITIONS.clear()
        _READ_AT[0] = -DEFINITIONS_SECONDS


def _active_buyers() -> tuple[list[Buyer], dict[int, Decimal]]:
    """The active buyers by name, and each one's balance now."""
    table = connection.ops.quote_name(Buyer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, balance FROM {table} WHERE is_active = %s",  # noqa: S608 - our table
            [True],
        )
        balances = {pk: Decimal(str(balance)).quantize(CENT) for pk, balance in cursor.fetchall()}
    now = time.monotonic()
    with _DEFINITIONS_LOCK:
        known = _DEFINITIONS.copy()
        fresh = now - _READ_AT[0] < DEFINITIONS_SECONDS
    if not fresh or any(pk not in known for pk in balances):
        read: list[Any] = prepared.all_by(Buyer, "is_active", True)
        known = {b.pk: b for b in read}
        with _DEFINITIONS_LOCK:
            _DEFINITIONS.clear()
            _DEFINITIONS.update(known)
            _READ_AT[0] = now
    active = [known[pk] for pk in balances if pk in known]
    return sorted(active, key=lambda b: (b.name, b.pk)), balances


def _offered(lead_id: int) -> list[tuple[int, str, int]]:
    """The lead's sales so far: buyer, state and how many buyers that buyer shares with."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.buyer_id, s.state, b.max_shares FROM {quote(Sale._meta.db_table)} s "  # noqa: S608 - our tables
            f"JOIN {quote(Buyer._meta.db_table)} b ON b.id = s.buyer_id WHERE s.lead_id = %s",
            [lead_id],
        )
        return [(int(b), str(state), int(shares)) for b, state, shares in cursor.fetchall()]


def candidates(
    lead: Any, *, now: dt.datetime, buyers: list[Buyer] | None = None
) -> tuple[list[Candidate], list[Skipped]]:
    """Buyers that may buy `lead` now, with their price; and those passed over, with why. A
    fixed number of queries however many buyers there are."""
    balances: dict[int, Decimal] = {}
    if buyers is None:
        buyers, balances = _active_buyers()
    pool = buyers
    offered = _offered(lead.pk)
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
            elif _spendable(buyer, pending, balances.get(buyer.pk)) < price:
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
    for `price`; else why not. The sale carries `buyer` as given (the whole row the delivery
    reads), or the buyer loaded once for an id.

    The check and the write are one statement (`_insert_if_room`) under the buyer's lock, so
    two leads sold at the same instant cannot both take its last place or last euro. On SQLite
    the lock is the database's one writer. On PostgreSQL it is the buyer's row, and every sale
    to a buyer waits for it: outside a transaction the lock, the statement and the commit go in
    one round trip, so the lock is held for the server's work only, not while this thread waits
    for the network or for Python's interpreter lock (the auction benchmark's p50 was 1.7 s
    when the lock was held across four round trips)."""
    buyer_id = buyer.pk if isinstance(buyer, Buyer) else buyer
    sale = Sale(
        lead_id=lead_id,
        buyer_id=buyer_id,
        auction_id=auction_id,
        state=SaleState.DELIVERING,
        price=price,
        created_at=now,
    )
    try:
        written = _insert_if_room(sale)
    except IntegrityError:
        # A lead goes to a buyer once while the sale stands: the unique constraint on standing
        # sales refuses a second one.
        return _("has this lead already")
    if written is None:
        return _why_no_room(buyer_id, price, now)
    sale.pk, sale.currency = written
    sale.buyer = buyer if isinstance(buyer, Buyer) else Buyer.objects.get(pk=buyer_id)
    return sale


def _insert_if_room(sale: Sale) -> tuple[int, str] | None:
    """Insert the sale if its buyer is active and has room; its id and currency, or None."""
    ops = connection.ops
    quote = ops.quote_name
    sales, buyers = quote(Sale._meta.db_table), quote(Buyer._meta.db_table)
    starts = window_starts(sale.created_at)
    params: list[Any] = [
        sale.lead_id,
        sale.auction_id,
        Sale._meta.get_field("key").get_db_prep_value(sale.key, connection),
        SaleState.DELIVERING,
        ops.adapt_decimalfield_value(sale.price),
        ops.adapt_datetimefield_value(sale.created_at),
        sale.buyer_id,
    ]
    checks = []
    for cap in CAPS:
        since = starts[cap]
        window = " AND s.created_at >= %s" if since else ""
        checks.append(
            f"(b.{cap} IS NULL OR (SELECT COUNT(*) FROM {sales} s WHERE s.buyer_id = b.id "  # noqa: S608 - our table, fixed columns
            f"AND s.state IN (%s, %s){window}) < b.{cap})"
        )
        params += [*ACTIVE, *([ops.adapt_datetimefield_value(since)] if since else [])]
    params += [Funding.CREDIT, SaleState.DELIVERING, ops.adapt_decimalfield_value(sale.price)]
    room = " AND ".join(checks)
    insert = (
        f"INSERT INTO {sales} (lead_id, buyer_id, auction_id, {quote('key')}, state, price, "  # noqa: S608 - our tables, fixed columns
        "currency, created_at, attempts, reason, their_ref) "
        f"SELECT %s, b.id, %s, %s, %s, %s, b.currency, %s, 0, '', '' FROM {buyers} b "
        f"WHERE b.id = %s AND b.is_active AND {room} AND ROUND(b.balance "
        "+ CASE WHEN b.funding = %s THEN b.credit_limit ELSE 0 END - COALESCE((SELECT "
        f"SUM(s.price) FROM {sales} s WHERE s.buyer_id = b.id AND s.state = %s), 0), 2) "
        ">= CAST(%s AS NUMERIC) RETURNING id, currency"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            row = _in_one_trip(cursor, _LOCK.format(buyers=buyers), insert, params, sale.buyer_id)
        else:
            # SQLite: BEGIN IMMEDIATE takes the one writer's lock. Inside a caller's transaction:
            # a savepoint, so a refused insert leaves the caller's transaction usable.
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    cursor.execute(_LOCK.format(buyers=buyers), [sale.buyer_id])
                cursor.execute(insert, params)
                row = cursor.fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


# FOR NO KEY UPDATE: it orders the sales to a buyer without holding up the rows that only refer
# to it (bids, delivery logs and ledger entries of other auctions take KEY SHARE on it). The
# statement after it sees every sale committed before the lock was granted (READ COMMITTED
# takes a snapshot per statement); one statement that locked and counted would count from a
# snapshot taken before it waited.
_LOCK = "SELECT 1 FROM {buyers} WHERE id = %s FOR NO KEY UPDATE"


def _in_one_trip(cursor: Any, lock: str, insert: str, params: list[Any], buyer_id: int) -> Any:
    """PostgreSQL, in autocommit: BEGIN, the lock, the insert and COMMIT as one query string
    (Django's psycopg cursors bind parameters on the client, which allows several statements
    in one); the insert's row, if any."""
    try:
        cursor.execute(f"BEGIN; {lock}; {insert}; COMMIT", [buyer_id, *params])
    except BaseException:
        cursor.execute("ROLLBACK")  # the failed statement left the transaction open
        raise
    cursor.nextset()  # the lock's row
    cursor.nextset()  # the insert's
    return cursor.fetchone()


def _why_no_room(buyer_id: int, price: Decimal, now: dt.datetime) -> str:
    """Why the buyer had no room for the sale: counted again without a lock, for the message."""
    found = (
        Buyer.objects.only("is_active", "balance", "funding", "credit_limit", "currency", *CAPS)
        .filter(pk=buyer_id)
        .first()
    )
    if found is None or not found.is_active:
        return _("paused")
    caps, pending = _usage([found], now).get(buyer_id, ({}, Decimal("0")))
    reached = _reached(found, caps)
    if reached:
        return _("reached %(cap)s") % {"cap": reached}
    if _spendable(found, pending) < price:
        return _("out of funds")
    # Counted again a moment later, there was room: a sale at the same moment held it then.
    return _("no room under its caps or funds at that moment")
