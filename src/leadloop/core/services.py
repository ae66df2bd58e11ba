"""The one scheduler per deployment: a lease in the database, and periodic jobs it enqueues."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leadloop.core.models import Lease, PeriodicJob
from leadloop.core.schedule import SCHEDULE

logger = logging.getLogger(__name__)

SCHEDULER_LEASE = "scheduler"
# How far a stamp may lie in the future before it is taken for a clock that was set back rather
# than for two machines' clocks disagreeing a little.
CLOCK_SLACK = timedelta(minutes=2)


def acquire_lease(name: str, *, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew the lease `name` for `holder`; True when `holder` holds it afterwards.

    One conditional UPDATE decides it, so two processes racing for a lapsed lease cannot both win.
    A lease that ends further ahead than any holder could have renewed it to was stamped before
    the clock was set back: it counts as lapsed, or a dead holder's lease would block the others
    for as long as the clock jumped.
    """
    now = now or timezone.now()
    expires = now + ttl
    lapsed = Q(expires_at__lte=now) | Q(expires_at__gt=expires + CLOCK_SLACK)
    taken = Lease.objects.filter(Q(holder=holder) | lapsed, name=name).update(
        holder=holder, expires_at=expires
    )
    if taken:
        return True
    with transaction.atomic():
        _, created = Lease.objects.get_or_create(
            name=name, defaults={"holder": holder, "expires_at": expires}
        )
    return created


def release_lease(name: str, *, holder: str) -> None:
    """Give the lease back at shutdown so another process can take over at once."""
    Lease.objects.filter(name=name, holder=holder).delete()


def enqueue_due_jobs(*, now: datetime | None = None) -> list[str]:
    """Enqueue every periodic job whose interval has passed; returns the names enqueued.

    Only the lease holder calls this. The row is locked while it is checked and stamped, so a
    lapsed holder that still runs one last round cannot enqueue the same job twice. A job last
    enqueued "in the future" was stamped before the clock was set back: it is due now, or it
    would not run again until the clock caught up (an hour's jump back, an hour of no sweeps).
    """
    now = now or timezone.now()
    enqueued = []
    for job in SCHEDULE:
        with transaction.atomic():
            row, _ = PeriodicJob.objects.select_for_update().get_or_create(name=job.name)
            last = row.last_enqueued_at
            if last and now < last + job.every and last <= now + CLOCK_SLACK:
                continue
            row.last_enqueued_at = now
            row.runs += 1
            row.save(update_fields=["last_enqueued_at", "runs"])
            transaction.on_commit(job.task.enqueue)
        enqueued.append(job.name)
    if enqueued:
        logger.info("scheduler enqueued jobs=%s", ",".join(enqueued))
    return enqueued
