"""Leads written without an assessment (bulk imports, older data), assessed in the background.

The `assess_pending` periodic job (every minute) calls `assess_pending`. One run at a time holds
a lease, so two workers never assess the same leads side by side (seen on two RQ workers: the
minute's next run started on the other worker while the first was still going). A run works for
at most `BUDGET_SECONDS`, then queues the next run and stops: a 5,000-row import held the only
embedded worker for 143 s (bench/whole_loop.py), and RQ stops a job after its time-out, in the
middle of a database query.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import reassess_leads
from leadloop.core.retry import enqueue, is_queued
from leadloop.core.services import acquire_lease, release_lease
from leadloop.leads.models import Lead

LEASE = "assess_pending"
TASK = "leadloop.assessment.tasks.assess_pending_task"
BUDGET_SECONDS = 30.0
CHUNK = 100
# Renewed after every chunk. Every holder uses the same TTL: a lease that ends further ahead
# than a holder could have set it counts as stamped before the clock was set back.
LEASE_TTL = timedelta(seconds=BUDGET_SECONDS + 120)


def assess_pending(*, limit: int = 5000, budget_seconds: float = BUDGET_SECONDS) -> int:
    """Assess up to `limit` unassessed leads, oldest first, one short transaction each, for at
    most `budget_seconds`; returns how many. 0 when another run holds the lease. A run that stops
    with leads left queues the next run, so an import is assessed without waiting a minute per
    `limit`, while other tasks get the worker between runs; a crash loses nothing (the lease
    lapses, the periodic job starts again)."""
    holder = uuid.uuid4().hex
    if not acquire_lease(LEASE, holder=holder, ttl=LEASE_TTL):
        return 0
    began = time.monotonic()
    done = 0
    after = 0  # a lead its assessment skips (merged away meanwhile) is not taken again
    try:
        while done < limit:
            ids = list(
                Lead.objects.filter(assessed_at__isnull=True, pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[: min(CHUNK, limit - done)]
            )
            if not ids:
                return done
            done += reassess_leads(ids, by=SYSTEM)
            after = ids[-1]
            if time.monotonic() - began > budget_seconds:
                break
            acquire_lease(LEASE, holder=holder, ttl=LEASE_TTL)
    finally:
        release_lease(LEASE, holder=holder)
    if Lead.objects.filter(assessed_at__isnull=True).exists() and not is_queued(TASK):
        enqueue(TASK)
    return done
