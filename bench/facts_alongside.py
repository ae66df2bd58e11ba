"""Build the analytics facts of a database while `leadloop demo` is still loading it
(docs/scaling.md, "Ten million leads"): the same rows `leadloop analytics rebuild` writes,
without waiting for the load to end and then for a rebuild in one transaction (at ten million
leads, about an hour on this machine), on the core the loader leaves idle.

    DATABASE_URL=postgres://…/leadloop_bench_10000000 TASKS_BACKEND=dummy \\
        .venv/bin/python bench/facts_alongside.py --loader-pid PID

1. Sets the facts' mark to now (minus its overlap), so that afterwards `leadloop analytics
   refresh` reads only the leads changed since, through the services, by the demo's last steps.
2. Computes and writes the rows of every committed lead, by id, a chunk at a time
   (`facts.compute` and `facts.write`, as a rebuild does), waiting for more while the loader
   process lives.
3. When the loader is gone: `facts.refresh` until caught up, every day total counted again
   (`totals.rebuild_totals`), ANALYZE. Prints JSON: the leads written and the seconds taken.

Stop the demo before its own last step (`facts.rebuild`, which deletes every row first): it logs
"demo: lead market" just before; `sweep.check` and `tally.fold`, the steps in between, are then
`leadloop sla check` and `leadloop pipeline fold`, run by hand (docs/scaling.md).

Once the load is over, one process computes on one core. To use both, stop it at an id it has
passed (its log names them), compute the rest in two processes, then the last step alone:

    .venv/bin/python bench/facts_alongside.py --ids 4300000:4650000 &
    .venv/bin/python bench/facts_alongside.py --ids 4650000: &
    wait; .venv/bin/python bench/facts_alongside.py --finish

`--ids` sets the mark (1.) only where none is set, so after a load without this script running
beside it, two `--ids` processes and `--finish` build every fact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import django


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for this purpose.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[-1][:1] != "Z"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loader-pid", type=int, default=0, help="wait for leads while it runs")
    parser.add_argument("--poll", type=float, default=10.0, help="seconds between looks (10)")
    parser.add_argument(
        "--ids",
        default="",
        help="FIRST:LAST: only the facts of the leads with FIRST < id <= LAST (LAST may be left "
        "out), for a second process beside the first; then --finish",
    )
    parser.add_argument("--finish", action="store_true", help="only the last step (3.)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    from django.utils import timezone

    from leadloop.analytics.models import FactMark, LeadFact
    from leadloop.analytics.services import facts

    began = time.perf_counter()
    start = timezone.now()
    mark = {"upto": start - facts.OVERLAP, "upto_id": 0, "refreshed_at": start}
    if args.finish:
        json.dump(_finish(began), sys.stdout)
    elif args.ids:
        # (the mark only where none is set: the first process's mark holds for both)
        FactMark.objects.get_or_create(name=facts.MARK, defaults=mark)
        first, _, last = args.ids.partition(":")
        written = _compute(int(first or 0), int(last) if last else None, 0, began, start, args)
        json.dump({"leads_written": written, "seconds": _since(began)}, sys.stdout)
    else:
        FactMark.objects.update_or_create(name=facts.MARK, defaults=mark)
        # Started again (after the loader was): the last chunks again too, in case a run was
        # stopped between a chunk's facts and its attribution credits.
        last = LeadFact.objects.order_by("-lead_id").values_list("lead_id", flat=True).first()
        after = max((last or 0) - 2 * facts.CHUNK, 0)
        written = _compute(after, None, args.loader_pid, began, start, args)
        computing = _since(began)
        json.dump(
            {"leads_written": written, "seconds_computing": computing, **_finish(began)},
            sys.stdout,
        )
    print()


def _since(began: float) -> float:
    return round(time.perf_counter() - began, 1)


def _compute(after: int, last: int | None, loader: int, began: float, start: Any, args: Any) -> int:
    """The facts of every committed lead after id `after` (up to `last`), a chunk at a time,
    waiting for more while `loader` lives; returns how many were written."""
    from leadloop.analytics.services import facts
    from leadloop.leads.selectors import history

    written = 0
    while True:
        ids = [
            i for i in history.all_lead_ids(after=after, limit=facts.CHUNK) if not last or i <= last
        ]
        if ids:
            written += facts.write(facts.compute(ids, at=start))
            after = ids[-1]
            if written % 100_000 < facts.CHUNK:
                rate = written / (time.perf_counter() - began)
                print(f"facts: {written} leads, up to id {after}, {rate:.0f}/s", file=sys.stderr)
            continue
        if not _alive(loader):
            return written
        time.sleep(args.poll)


def _finish(began: float) -> dict[str, Any]:
    """`facts.refresh` until caught up, every day total counted again, ANALYZE."""
    from django.db import connection

    from leadloop.analytics.services import facts, totals

    refreshed = 0
    while True:
        result = facts.refresh()
        refreshed += result.leads
        if result.caught_up:
            break
    counted = time.perf_counter()
    day_rows = totals.rebuild_totals()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_leadfact")
    return {
        "refreshed_after": refreshed,
        "day_total_rows": day_rows,
        "seconds_day_totals": round(time.perf_counter() - counted, 1),
        "seconds": _since(began),
    }


if __name__ == "__main__":
    main()
