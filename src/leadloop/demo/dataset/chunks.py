"""The demo's leads, a chunk at a time, each chunk in a transaction of its own: in this process,
or on PostgreSQL spread over `jobs` forked processes (`leadloop demo --jobs N`).

One process writes about 1,400 leads a second on a 2-core AMD EPYC VM, its Python side (making
the rows) and PostgreSQL's (taking them) each waiting for the other, so a core is mostly idle and
ten million leads take two hours. Chunks are independent (each is seeded by its position and gets
its ids from it), so two processes keep both cores busy and write the same rows in another
order (docs/benchmarks.md, "Ten million leads"). SQLite has one writer at a time: there the
chunks stay in this process.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction

from leadloop.accounts.actors import SYSTEM
from leadloop.demo.dataset.leads import _LeadMaker
from leadloop.demo.dataset.sales import SalesMaker
from leadloop.leads import services

logger = logging.getLogger("leadloop.demo")


@dataclass(frozen=True)
class Plan:
    """What every chunk needs: the maker (its reference data), the day, the seed, and where the
    run starts (leads already in the database, the first new id)."""

    maker: _LeadMaker
    now: Any
    seed: int
    existing: int
    first_id: int


def spans(total: int, size: int) -> Iterator[tuple[int, int]]:
    """(start, count) of each chunk of `total` leads."""
    for start in range(0, total, size):
        yield start, min(size, total - start)


# The plan and this process's sales maker, for forked workers: set before the fork, inherited.
_plan: Plan | None = None
_sales: SalesMaker | None = None


def load(plan: Plan, total: int, size: int, *, jobs: int = 1) -> int:
    """Insert `total` leads in chunks of `size`; returns the timeline entries written. The first
    chunk is written here, and its statistics taken, before any other (`_replan_foreign_keys`)."""
    global _plan, _sales
    chunks = list(spans(total, size))
    if not chunks:
        return 0
    began = time.perf_counter()
    sales = SalesMaker(plan.now)
    written = _insert(plan, sales, *chunks[0])
    if connection.vendor == "postgresql":
        _replan_foreign_keys()
    done = chunks[0][1]
    _progress(done, total, written, began)
    rest = chunks[1:]
    if jobs <= 1 or connection.vendor != "postgresql" or not rest:
        for start, count in rest:
            written += _insert(plan, sales, start, count)
            done += count
            _progress(done, total, written, began)
        return written
    _plan, _sales = plan, None
    connections.close_all()  # every child opens its own; none may share this socket
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for count, entries in pool.imap_unordered(_insert_in_child, rest):
                written += entries
                done += count
                _progress(done, total, written, began)
    finally:
        _plan = None
    return written


def _insert_in_child(chunk: tuple[int, int]) -> tuple[int, int]:
    global _sales
    assert _plan is not None
    if _sales is None:
        _sales = SalesMaker(_plan.now)
    return chunk[1], _insert(_plan, _sales, *chunk)


def _insert(plan: Plan, sales: SalesMaker, start: int, count: int) -> int:
    # A generator per chunk, seeded by the chunk's global position: chunks are independent,
    # and a second run on a non-empty database continues the sequence instead of repeating it.
    position = plan.existing + start
    rng = random.Random(f"{plan.seed}:{position}")  # noqa: S311
    sales_rng = random.Random(f"{plan.seed}:{position}:sales")  # noqa: S311
    maker = plan.maker
    lead_rows, activity_rows = maker.chunk(
        rng, plan.first_id + start, start, count, (sales, sales_rng)
    )
    pk, status, source = (maker.leads.attnames.index(n) for n in ("id", "status", "source_id"))
    with transaction.atomic():
        maker.leads.insert(lead_rows)
        maker.activities.insert(activity_rows)
        sales.insert()
        services.publish_created(
            [(row[pk], row[status], row[source]) for row in lead_rows], by=SYSTEM, at=plan.now
        )
    return len(activity_rows)


def _progress(done: int, total: int, written: int, began: float) -> None:
    rate = done / max(time.perf_counter() - began, 1e-9)
    logger.info("demo: %d/%d leads, %d activities, %.0f leads/s", done, total, written, rate)


def _replan_foreign_keys() -> None:
    """PostgreSQL plans a connection's foreign-key checks once, at their first commit; on a
    fresh database the lead table is empty then, every index looks as cheap as the primary key,
    and the plan it kept walked the whole `(status, last_name, id)` index for each timeline
    entry's check: a million-lead load slowed down chunk by chunk (150 leads/s after 60,000).
    Statistics taken after the first chunk invalidate those plans, and the next commit plans
    them on the primary key."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
