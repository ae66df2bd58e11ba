"""Day totals: the funnel facts counted per calendar day (in the deployment's zone), so the
reports that count the whole floor read a few thousand rows instead of every lead's.

Three cohorts, as the reports count them (docs/analytics.md, "Day totals"):

received  the leads received on the day, per source, campaign and currency (the source report);
ready     the valid leads handed to sales on the day, per rep, team, source and partner (the
          sales KPIs and the follow-up impact table); per source and partner again per rep;
closed    the valid leads won or lost on the day, per team, won ones by whole days from
          receipt (won and lost per month, the sales cycle); the same again per team and rep,
          for a rep's and a manager's own figures;
credited  the attribution credits of the orders won on the day, per touchpoint source and
          campaign (the attribution report).

The totals are counted from `LeadFact` only, never updated by increments: when `facts.write`
changes a lead's row it marks the days of its old and new row dirty (in the same transaction),
and `settle` counts those days again. A crash between the two leaves the days marked, and the
next settle counts them; `verify_totals` compares every day with a fresh count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from leadloop.accounts.defaults import get_defaults
from leadloop.analytics.models import (
    ClosedTotal,
    Credit,
    CreditTotal,
    DirtyDay,
    FactMark,
    LeadFact,
    ReadyTotal,
    ReceivedTotal,
)
from leadloop.analytics.selectors import counts

COHORTS = ("received", "ready", "closed", "credited")
LOCK = "totals"
# A model's credited revenue: order value × share, summed, kept to the share's six places.
SHARE = DecimalField(max_digits=20, decimal_places=6)
DAY_SECONDS = 86400
Key = tuple[Any, ...]


def zone() -> ZoneInfo:
    """The zone whose calendar days the totals count: the deployment's."""
    return ZoneInfo(get_defaults().time_zone or settings.LEADLOOP_DEFAULT_TIME_ZONE)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(zone()).date()


def days_of(fact: LeadFact) -> set[tuple[str, dt.date]]:
    """The (cohort, day) totals a lead's row counts in (its credits mark theirs themselves:
    they can change while the row does not, when a lead is merged into a won one)."""
    found = {("received", local_day(fact.received_at))}
    if fact.sales_ready_at is not None:
        found.add(("ready", local_day(fact.sales_ready_at)))
    for closed in (fact.won_at, fact.lost_at):
        if closed is not None:
            found.add(("closed", local_day(closed)))
    return found


def mark_dirty(days: Iterable[tuple[str, dt.date]]) -> None:
    DirtyDay.objects.bulk_create([DirtyDay(cohort=c, day=d) for c, d in sorted(set(days))])


def lead_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Before a lead is deleted: mark the days its facts row counts in."""
    fact = LeadFact.objects.filter(lead_id=instance.pk).first()
    if fact is not None:
        credited = {("credited", local_day(fact.won_at))} if fact.won_at else set()
        mark_dirty(days_of(fact) | credited)


def _span(column: str, days: set[dt.date] | None) -> Q:
    if days is None:
        return Q()
    first = dt.datetime.combine(min(days), dt.time.min, tzinfo=zone())
    end = dt.datetime.combine(max(days) + dt.timedelta(days=1), dt.time.min, tzinfo=zone())
    return Q(**{f"{column}__gte": first, f"{column}__lt": end})


def count_received(days: set[dt.date] | None) -> list[ReceivedTotal]:
    """The received totals of these days (None: every day), counted from the facts."""
    facts = LeadFact.objects.filter(_span("received_at", days))
    found = (
        facts.annotate(day=TruncDate("received_at", tzinfo=zone()))
        .order_by()
        .values("day", "source_id", "campaign_id", "currency")
        .annotate(**counts.received_aggregates())
    )
    return [ReceivedTotal(**row) for row in found if days is None or row["day"] in days]


def count_ready(days: set[dt.date] | None) -> list[ReadyTotal]:
    """The ready totals of these days (None: every day), one set per grouping; the sets per
    source and per partner again per rep (`counts.PER_REP`)."""
    facts = LeadFact.objects.filter(
        counts.VALID, _span("sales_ready_at", days), sales_ready_at__isnull=False
    )
    rows: list[ReadyTotal] = []
    for grouping, column in counts.GROUPINGS.items():
        keys = ["day", "key", "team_id", "currency"]
        per_rep = [False, True] if grouping in counts.PER_REP else [False]
        for by_rep in per_rep:
            these = facts.filter(assigned_to__isnull=False) if by_rep else facts
            found = (
                these.annotate(
                    day=TruncDate("sales_ready_at", tzinfo=zone()),
                    key=F(column),
                    **({"rep_id": F("assigned_to_id")} if by_rep else {}),
                )
                .order_by()
                .values(*keys, *(["rep_id"] if by_rep else []))
                .annotate(**counts.ready_aggregates())
            )
            rows += [
                ReadyTotal(grouping=grouping, **row)
                for row in found
                if days is None or row["day"] in days
            ]
    return rows


def count_closed(days: set[dt.date] | None) -> list[ClosedTotal]:
    """The closed totals of these days (None: every day): won leads by whole days from receipt
    to the win (worked out here, the same on every database), lost leads apart; each lead in
    its team's row and, when it has a rep, in its team's row of that rep."""
    totals: dict[Key, ClosedTotal] = {}

    def rows(
        day: dt.date, team: int | None, rep: int | None, currency: str, to_win: int | None
    ) -> list[ClosedTotal]:
        found = []
        for whose in (None, rep) if rep is not None else (None,):
            key = (day, team, whose, currency, to_win)
            if key not in totals:
                totals[key] = ClosedTotal(
                    day=day, team_id=team, rep_id=whose, currency=currency, days=to_win
                )
            found.append(totals[key])
        return found

    won = LeadFact.objects.filter(counts.VALID, _span("won_at", days), won_at__isnull=False)
    for received, won_at, team, rep, currency, value in won.values_list(
        "received_at", "won_at", "team_id", "assigned_to_id", "currency", "order_value"
    ).iterator(chunk_size=5000):
        if won_at is None:  # the filter above rules it out
            continue
        day = local_day(won_at)
        if days is None or day in days:
            to_win = int((won_at - received).total_seconds() // DAY_SECONDS)
            for into in rows(day, team, rep, currency, to_win):
                into.won += 1
                into.revenue += value or Decimal("0")
    lost = LeadFact.objects.filter(counts.VALID, _span("lost_at", days), lost_at__isnull=False)
    for row in (
        lost.annotate(day=TruncDate("lost_at", tzinfo=zone()))
        .order_by()
        .values("day", "team_id", "assigned_to_id", "currency")
        .annotate(n=Count("pk"))
    ):
        if days is None or row["day"] in days:
            for into in rows(
                row["day"], row["team_id"], row["assigned_to_id"], row["currency"], None
            ):
                into.lost += row["n"]
    return list(totals.values())


def count_credited(days: set[dt.date] | None) -> list[CreditTotal]:
    """The credited totals of these days (None: every day), from the credit rows."""
    credits = Credit.objects.filter(_span("won_at", days))
    found = (
        credits.annotate(day=TruncDate("won_at", tzinfo=zone()))
        .order_by()
        .values("day", "source_id", "campaign_id", "currency")
        .annotate(**{m: Sum(F("order_value") * F(m), output_field=SHARE) for m in counts.MODELS})
    )
    return [CreditTotal(**row) for row in found if days is None or row["day"] in days]


COUNTERS: dict[str, tuple[Any, Callable[[set[dt.date] | None], list[Any]]]] = {
    "received": (ReceivedTotal, count_received),
    "ready": (ReadyTotal, count_ready),
    "closed": (ClosedTotal, count_closed),
    "credited": (CreditTotal, count_credited),
}


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1)


def _replace(cohort: str, days: set[dt.date] | None) -> int:
    """Count these days (None: all) again from the facts, and sum their months again."""
    model, counter = COUNTERS[cohort]
    rows = counter(days)
    stored = model.objects.filter(whole_month=False)
    stored = stored if days is None else stored.filter(day__in=days)
    stored.delete()
    model.objects.bulk_create(rows, batch_size=1000)
    if days is None:
        model.objects.filter(whole_month=True).delete()
        days = set(model.objects.filter(whole_month=False).values_list("day", flat=True))
    for month in sorted({_month(day) for day in days}):
        _sum_month(cohort, month)
    return len(rows)


def _values(cohort: str) -> list[str]:
    """The counted columns of a cohort's totals (not its keys)."""
    model = COUNTERS[cohort][0]
    skip = {"id", "day", "whole_month", *KEYS[cohort]}
    return [f.attname for f in model._meta.concrete_fields if f.attname not in skip]


def _sum_month(cohort: str, month: dt.date) -> None:
    """A month's rows: its day rows summed per key."""
    model = COUNTERS[cohort][0]
    keys = [k for k in KEYS[cohort] if k != "day"]
    model.objects.filter(whole_month=True, day=month).delete()
    days = model.objects.filter(whole_month=False, day__gte=month, day__lt=_next_month(month))
    found = days.order_by().values(*keys).annotate(**counts.summed(_values(cohort)))
    model.objects.bulk_create(
        [model(day=month, whole_month=True, **row) for row in found], batch_size=1000
    )


def _lock() -> FactMark:
    """The totals' row, held until the transaction ends (one settle at a time)."""
    now = timezone.now()
    FactMark.objects.get_or_create(name=LOCK, defaults={"upto": now, "refreshed_at": now})
    return FactMark.objects.select_for_update().get(name=LOCK)


@transaction.atomic
def settle() -> int:
    """Count the dirty days again; returns how many (cohort, day) were counted. After the
    deployment's zone changed, every day is counted again in the new zone."""
    lock = _lock()
    if lock.zone != zone().key:
        rebuild_totals()
        return -1
    dirty = list(DirtyDay.objects.values_list("pk", "cohort", "day"))
    if not dirty:
        return 0
    days: dict[str, set[dt.date]] = defaultdict(set)
    for _pk, cohort, day in dirty:
        days[cohort].add(day)
    for cohort, these in days.items():
        if cohort in COUNTERS:
            _replace(cohort, these)
    DirtyDay.objects.filter(pk__in=[pk for pk, _c, _d in dirty]).delete()
    return sum(len(these) for these in days.values())


@transaction.atomic
def rebuild_totals() -> int:
    """Every day of every cohort counted again; returns the rows written."""
    lock = _lock()
    DirtyDay.objects.all().delete()
    written = sum(_replace(cohort, None) for cohort in COHORTS)
    FactMark.objects.filter(pk=lock.pk).update(zone=zone().key, refreshed_at=timezone.now())
    return written


KEYS = {
    "received": ("day", "source_id", "campaign_id", "currency"),
    "ready": ("day", "grouping", "key", "team_id", "rep_id", "currency"),
    "closed": ("day", "team_id", "rep_id", "currency", "days"),
    "credited": ("day", "source_id", "campaign_id", "currency"),
}


def _keyed(cohort: str, rows: Iterable[Any]) -> dict[Key, dict[str, Any]]:
    keys, names = KEYS[cohort], _values(cohort)
    return {
        (row.whole_month, *(getattr(row, k) for k in keys)): {n: getattr(row, n) for n in names}
        for row in rows
    }


def _with_months(cohort: str, keyed: dict[Key, dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Day rows (keyed as `_keyed` does) and the month rows they sum to."""
    months: dict[Key, dict[str, Any]] = {}
    for (_whole, day, *rest), values in keyed.items():
        into = months.setdefault((True, _month(day), *rest), dict.fromkeys(values, 0))
        for name, value in values.items():
            into[name] += value
    return {**keyed, **months}


def _as_stored(cohort: str, keyed: dict[Key, dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Counted values as the database gives them back. A sum of order value x share has more
    decimal places than its column: PostgreSQL rounds each day as it is written (ties away from
    zero), and a month sums the rounded days; SQLite keeps what it was given, a month sums the
    unrounded days, and Django rounds both as it reads them (ties to even)."""
    model = COUNTERS[cohort][0]
    rounding = ROUND_HALF_UP if connection.vendor == "postgresql" else ROUND_HALF_EVEN
    places = {
        f.attname: Decimal(1).scaleb(-f.decimal_places)
        for f in model._meta.concrete_fields
        if isinstance(f, DecimalField) and f.decimal_places is not None
    }
    return {
        key: {
            n: v.quantize(places[n], rounding=rounding)
            if n in places and isinstance(v, Decimal)
            else v
            for n, v in values.items()
        }
        for key, values in keyed.items()
    }


def verify_totals(*, limit: int = 1000) -> list[str]:
    """Every stored day and month total against a fresh count from the facts (days still marked
    dirty, and their months, left out: the next settle counts them); a line per differing
    total, at most `limit`."""
    dirty = set(DirtyDay.objects.values_list("cohort", "day"))
    dirty |= {(cohort, _month(day)) for cohort, day in dirty}
    differences: list[str] = []
    for cohort, (model, counter) in COUNTERS.items():
        counted = _keyed(cohort, counter(None))
        if connection.vendor == "postgresql":
            should = _with_months(cohort, _as_stored(cohort, counted))
        else:
            should = _as_stored(cohort, _with_months(cohort, counted))
        stored = _keyed(cohort, model.objects.all())
        for key in sorted(set(should) | set(stored), key=str):
            whole, day = key[0], key[1]
            if (cohort, day) in dirty or should.get(key) == stored.get(key):
                continue
            named = " ".join(f"{k}={v}" for k, v in zip(KEYS[cohort], key[1:], strict=True))
            what = f"{cohort} {'month' if whole else 'day'} total {named}"
            if key not in stored:
                differences.append(f"{what}: missing")
            elif key not in should:
                differences.append(f"{what}: stored, but no fact counts in it")
            else:
                wrong = ", ".join(
                    f"{n} {stored[key][n]} (counted {v})"
                    for n, v in should[key].items()
                    if stored[key][n] != v
                )
                differences.append(f"{what}: {wrong}")
            if len(differences) >= limit:
                return differences
    return differences
