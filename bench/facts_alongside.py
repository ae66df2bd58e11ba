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
`leadloop sla check` and a refresh of the pipeline totals, run by hand (docs/scaling.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

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
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    from django.db import connection
    from django.utils import timezone

    from leadloop.analytics.models import FactMark, LeadFact
    from leadloop.analytics.services import facts, totals
    from leadloop.leads.selectors import history

    began = time.perf_counter()
    start = timezone.now()
    FactMark.objects.update_or_create(
        name=facts.MARK,
        defaults={"upto": start - facts.OVERLAP, "upto_id": 0, "refreshed_at": start},
    )
    # Started again (after the loader was): the last chunks again too, in case a run was
    # stopped between a chunk's facts and its attribution credits.
    last = LeadFact.objects.order_by("-lead_id").values_list("lead_id", flat=True).first() or 0
    after = max(last - 2 * facts.CHUNK, 0)
    written = 0
    while True:
        ids = history.all_lead_ids(after=after, limit=facts.CHUNK)
        if ids:
            written += facts.write(facts.compute(ids, at=start))
            after = ids[-1]
            if written % 100_000 < facts.CHUNK:
                rate = written / (time.perf_counter() - began)
                print(f"facts: {written} leads, up to id {after}, {rate:.0f}/s", file=sys.stderr)
            continue
        if not _alive(args.loader_pid):
            break
        time.sleep(args.poll)
    computing = time.perf_counter() - began
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
    json.dump(
        {
            "leads_written": written,
            "refreshed_after": refreshed,
            "day_total_rows": day_rows,
            "seconds_computing": round(computing, 1),
            "seconds_day_totals": round(time.perf_counter() - counted, 1),
            "seconds": round(time.perf_counter() - began, 1),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
