"""Bench helper, run inside Django on a sales bench database: the first-contact sweep.

    python bench/sales_sweep.py rate                  the measured rate of clocks started a day
    python bench/sales_sweep.py run --due N [--cli]   one timed sweep with N checks due

`run` first lets the sweep catch up with whatever fell due since the last run (untimed, counted),
then makes N running clocks of assigned, not yet contacted leads due within the last minute, as
they are when the sweep runs every minute: half a reminder (75% of the time used), half a breach
(the deadline passed; the reminder went earlier), spread over the reps. Twenty more fall due two
minutes earlier and are handled by an untimed run first, so the timed run finds a warm process
(imports, rules, translations), as the worker's every-minute run does. Then it times
`sales.services.sweep.check(now=T)` (or, with --cli, `leadloop sla check` in a new process)
and counts what was due before and after, and the reminders and breaches written at T.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

import django

# The every-minute run's window: a check fell due at most this long before the run.
WINDOW_SECONDS = 60
WARM = 20


def _candidates() -> list[int]:
    """Running clocks of leads a rep owns and has not contacted: each can be made due."""
    from leadloop.sales.models import FirstContactClock

    return list(
        FirstContactClock.objects.filter(
            state="running",
            lead__status="assigned",
            lead__assigned_to__isnull=False,
            lead__last_contacted_at__isnull=True,
            lead__merged_into__isnull=True,
        ).values_list("pk", flat=True)
    )


def _make_due(ids: list[int], at: dt.datetime, rng: random.Random) -> dict[str, int]:
    """Half of `ids` due for their reminder, half for their breach, at `at` minus up to a
    minute; the lead's deadline column follows its clock, as the services keep it."""
    from django.db import transaction

    from leadloop.leads.models import Lead
    from leadloop.sales.models import FirstContactClock

    clocks = list(FirstContactClock.objects.filter(pk__in=ids))
    for index, clock in enumerate(clocks):
        when = at - dt.timedelta(seconds=rng.uniform(0, WINDOW_SECONDS))
        clock.breached_at = None
        if index % 2 == 0:  # the reminder: 75% of one business day used, 2¼ hours left
            clock.remind_at = clock.next_check_at = when
            clock.reminded_at = None
            clock.due_at = when + dt.timedelta(hours=2, minutes=15)
        else:  # the breach: reminded earlier, the deadline passed in the last minute
            clock.remind_at = clock.reminded_at = when - dt.timedelta(hours=2, minutes=15)
            clock.due_at = clock.next_check_at = when
    with transaction.atomic():
        FirstContactClock.objects.bulk_update(
            clocks,
            ["breached_at", "remind_at", "reminded_at", "due_at", "next_check_at"],
            batch_size=500,
        )
        leads = [Lead(pk=clock.pk, first_contact_due_at=clock.due_at) for clock in clocks]
        Lead.objects.bulk_update(leads, ["first_contact_due_at"], batch_size=500)
    return {"reminders": (len(clocks) + 1) // 2, "breaches": len(clocks) // 2}


def _due(at: dt.datetime) -> int:
    from leadloop.sales.models import FirstContactClock

    return FirstContactClock.objects.filter(next_check_at__lte=at).count()


def _written(at: dt.datetime) -> dict[str, int]:
    from leadloop.notifications.models import Notification
    from leadloop.sales.models import SlaEvent

    return {
        "reminded_events": SlaEvent.objects.filter(kind="reminded", at=at).count(),
        "breached_events": SlaEvent.objects.filter(kind="breached", at=at).count(),
        "returned_to_pool": SlaEvent.objects.filter(kind="returned", at=at).count(),
        "notifications": Notification.objects.filter(
            kind__in=["sla_reminder", "sla_breached"], created_at__gte=at
        ).count(),
    }


def catch_up() -> dict[str, Any]:
    """Run the sweep until nothing is due now (what the every-minute job would have done)."""
    from leadloop.sales.services import sweep

    began = time.perf_counter()
    runs, total = 0, {"started": 0, "reminded": 0, "breached": 0}
    while True:
        now = dt.datetime.now(dt.UTC)
        got = sweep.check(now=now)
        runs += 1
        for key, value in got.items():
            total[key] = total.get(key, 0) + value
        if _due(now) == 0 or runs >= 20:
            break
    return {"runs": runs, **total, "seconds": round(time.perf_counter() - began, 1)}


def run(due: int, *, cli: bool, seed: int) -> dict[str, Any]:
    from leadloop.sales.services import sweep

    rng = random.Random(seed)
    caught = catch_up()
    pool = _candidates()
    if len(pool) < due + WARM:
        sys.exit(f"only {len(pool)} running clocks can be made due, {due + WARM} wanted")
    picked = rng.sample(pool, due + WARM)
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    warm_at = at - dt.timedelta(minutes=2)
    _make_due(picked[:WARM], warm_at, rng)
    expected = _make_due(picked[WARM:], at, rng)
    sweep.check(now=warm_at)  # the previous minute's run: warms the process
    due_before = _due(at)
    oldest = (at - min(_next_checks(picked[WARM:]))).total_seconds()
    each: list[float] = []
    if cli:
        began = time.perf_counter()
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "leadloop"), "sla", "check"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - began
        counts: dict[str, Any] = {"exit": proc.returncode, "output": proc.stdout[-500:]}
        written_at = _last_event_time(picked[WARM:])
    else:
        inner = sweep._check_batch

        def timed(lead_ids: Any, now: dt.datetime, managers: Any) -> list[str]:
            t0 = time.perf_counter()
            try:
                return inner(lead_ids, now, managers)
            finally:
                each.append((time.perf_counter() - t0) * 1000 / max(1, len(lead_ids)))

        sweep._check_batch = timed  # type: ignore[assignment]
        try:
            began = time.perf_counter()
            counts = sweep.check(now=at)
            seconds = time.perf_counter() - began
        finally:
            sweep._check_batch = inner  # type: ignore[assignment]
        written_at = at
    after_at = written_at or at
    result = {
        "due_set": due,
        "expected": expected,
        "catch_up_before": caught,
        "due_before": due_before,
        "oldest_wait_at_start_s": round(oldest, 1),
        "seconds": round(seconds, 2),
        "result": counts,
        "due_after": _due(at),
        "written": _written(after_at) if after_at else {},
        "worst_lateness_s": round(oldest + seconds, 1),
    }
    if each:
        each.sort()
        result["per_check_ms_by_batch"] = {
            "p50": round(statistics.median(each), 2),
            "p99": round(each[min(len(each) - 1, int(0.99 * len(each)))], 2),
            "max": round(each[-1], 2),
        }
    return result


def _next_checks(ids: list[int]) -> list[dt.datetime]:
    from leadloop.sales.models import FirstContactClock

    rows = FirstContactClock.objects.filter(pk__in=ids[:2000])
    return [row.remind_at if row.reminded_at is None else row.due_at for row in rows]


def _last_event_time(ids: list[int]) -> dt.datetime | None:
    from leadloop.sales.models import SlaEvent

    row = (
        SlaEvent.objects.filter(lead_id__in=ids[:500], kind__in=["reminded", "breached"])
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return row


def rate() -> dict[str, Any]:
    """Clocks started a business day over the last four weeks of the data, and what the sweep
    meets a business minute: a reminder and, when nobody calls in time, a breach per clock."""
    from leadloop.sales.models import FirstContactClock

    now = dt.datetime.now(dt.UTC)
    started = FirstContactClock.objects.filter(started_at__gte=now - dt.timedelta(days=28)).count()
    per_day = started / 20
    return {
        "clocks_started_last_28_days": started,
        "per_business_day": round(per_day),
        "checks_per_business_minute": round(2 * per_day / 540, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["rate", "run"])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    out = rate() if args.what == "rate" else run(args.due, cli=args.cli, seed=args.seed)
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
