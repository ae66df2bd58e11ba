"""Fixed-window counters in the database, shared by every web process.

    exceeded = hit(Limit("in:source:12", allowed=600, window=60), Limit("in:ip:…", 60, 60))
    if exceeded: answer 429 with Retry-After: exceeded.retry_after

A process-local cache would give each granian worker its own count, so the counters live in the
database (`core.RateCounter`, one row per key). `hit` counts against all its limits in one
INSERT … ON CONFLICT DO UPDATE … RETURNING statement (SQLite 3.35+ and PostgreSQL), so two
processes cannot both read 59 and both write 60. A fixed window lets up to twice the limit through
around a window's edge; that is the price of one row and one statement per key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import F
from django.utils import timezone

from leadloop.core.models import RateCounter


@dataclass(frozen=True)
class Limit:
    """At most `allowed` hits on `key` per `window` seconds (`allowed` 0: no limit)."""

    key: str
    allowed: int
    window: int


@dataclass(frozen=True)
class Exceeded:
    """A limit that a hit went over, and how long until its window ends."""

    limit: Limit
    hits: int
    retry_after: int


def _epoch(now: dt.datetime | None) -> int:
    return int((now or timezone.now()).timestamp())


def _window_ends(limit: Limit, epoch: int) -> int:
    return (epoch // limit.window + 1) * limit.window


_TABLE = RateCounter._meta.db_table
_UPSERT = (
    f'INSERT INTO {_TABLE} ("key", window_ends, hits) VALUES {{values}}'  # noqa: S608
    f' ON CONFLICT ("key") DO UPDATE SET'
    f" hits = CASE WHEN {_TABLE}.window_ends = excluded.window_ends"
    f" THEN {_TABLE}.hits + 1 ELSE 1 END,"
    f" window_ends = excluded.window_ends"
    f" RETURNING key, hits"
)


def hit(*limits: Limit, now: dt.datetime | None = None) -> Exceeded | None:
    """Count one hit against each limit; the innermost of them that is now over, or None.

    Limits are given outermost first (a source, then one address posting to it). One statement
    for all limits in the usual case. A hit over a limit is counted against that limit, so a
    sender that keeps going stays refused until the window ends; but it is taken back from the
    limits outside it, so one address over its own limit cannot use up the whole source's
    budget and lock every other sender out (a second statement, only then).
    """
    active = [limit for limit in limits if limit.allowed > 0]
    if not active:
        return None
    epoch = _epoch(now)
    params: list[str | int] = []
    for limit in active:
        params += [limit.key, _window_ends(limit, epoch)]
    sql = _UPSERT.format(values=", ".join(["(%s, %s, 1)"] * len(active)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
    over = [i for i, limit in enumerate(active) if counts[limit.key] > limit.allowed]
    if not over:
        return None
    innermost = active[over[-1]]
    outer = [limit.key for limit in active[: over[-1]]]
    if outer:
        RateCounter.objects.filter(key__in=outer, hits__gt=0).update(hits=F("hits") - 1)
    return Exceeded(innermost, counts[innermost.key], _window_ends(innermost, epoch) - epoch)


def clear(*keys: str) -> int:
    """Forget the counts of these keys (an admin lifting a block); returns how many there were."""
    deleted, _ = RateCounter.objects.filter(key__in=keys).delete()
    return deleted


def prune(*, now: dt.datetime | None = None) -> int:
    """Delete the counters whose window has ended; returns how many."""
    deleted, _ = RateCounter.objects.filter(window_ends__lte=_epoch(now)).delete()
    return deleted
