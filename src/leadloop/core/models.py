"""Deployment-wide bookkeeping: the scheduler lease and the periodic job clock."""

from __future__ import annotations

from django.db import models


class Lease(models.Model):
    """A named lock with an expiry, held by one process at a time (e.g. the one scheduler).

    A holder renews it well before `expires_at`; when a holder dies, the lease lapses and
    another process takes it over.
    """

    name = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} → {self.holder}"


class PeriodicJob(models.Model):
    """When a periodic job (declared in code, core.schedule) was last enqueued."""

    name = models.CharField(max_length=100, primary_key=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class RateCounter(models.Model):
    """How often one thing (a source, an address, a failed key) was seen in its current window.

    One row per counted thing: a hit in a later window starts the count again, so the table holds
    at most one row per key, and the periodic prune drops the keys no longer seen.
    """

    key = models.CharField(max_length=200, primary_key=True)
    # When the current window ends, in whole seconds since the epoch (an integer compares and
    # subtracts the same way on SQLite and PostgreSQL).
    window_ends = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
