"""Bench helper, run inside Django on a sales bench database: logging calls.

    python bench/sales_calls.py pick [--calls 2000] [--reps 20]   leads, reps and their API keys
    python bench/sales_calls.py time < picked.json                log_call in-process, timed

`pick` chooses `--calls` open leads (assigned, contacted or quoted) owned by `--reps` reps of
different teams, as many per rep, in random order, each with an outcome from a rep's day (a third
reach the person, some agree a call-back, the rest reach nobody); it issues each rep an API key.
`time` logs them one after another through the service the API calls: the lead is read through
`leads.selectors.get_lead_for(rep, id)`, then `sales.services.contact.log_call(lead, by=rep, …)`,
and prints p50/p95/p99 of the whole.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from typing import Any

import django

# Twenty calls of a rep's day: who picked up, who did not.
OUTCOMES = (
    ["reached"] * 7 + ["no_answer"] * 6 + ["voicemail"] * 4 + ["wrong_number"] + ["callback"] * 2
)


def pick(calls: int, reps: int, seed: int) -> dict[str, Any]:
    from leadloop.accounts import services as accounts
    from leadloop.accounts.models import Role, User
    from leadloop.leads.models import Lead

    rng = random.Random(seed)
    everyone = list(User.objects.filter(role=Role.SALES_REP, is_active=True).order_by("pk"))
    step = max(1, len(everyone) // reps)
    chosen = everyone[::step][:reps]
    per_rep = -(-calls // len(chosen))
    rows = []
    for rep in chosen:
        ids = list(
            Lead.objects.filter(
                assigned_to=rep,
                status__in=["assigned", "contacted", "quoted"],
                merged_into__isnull=True,
                erased_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        for lead_id in rng.sample(ids, min(per_rep, len(ids))):
            rows.append({"lead": lead_id, "rep": rep.username})
    rng.shuffle(rows)
    rows = rows[:calls]
    for index, row in enumerate(rows):
        row["outcome"] = OUTCOMES[index % len(OUTCOMES)]
        row["duration_seconds"] = 0 if row["outcome"] != "reached" else rng.randint(30, 900)
    keys = {rep.username: accounts.issue_api_key(rep, name="bench calls").raw for rep in chosen}
    return {"calls": rows, "keys": keys}


def callback_at(index: int) -> str:
    """A call-back one to three days ahead, at a quarter hour."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=1 + index % 3)
    return when.replace(minute=15 * (index % 4), second=0, microsecond=0).isoformat()


def time_in_process(picked: dict[str, Any]) -> dict[str, Any]:
    from leadloop.accounts.models import User
    from leadloop.leads.selectors import get_lead_for
    from leadloop.sales.services.contact import log_call

    reps = {u.username: u for u in User.objects.filter(username__in=list(picked["keys"]))}
    samples, by_outcome = [], {}
    for index, call in enumerate(picked["calls"]):
        rep = reps[call["rep"]]
        when = dt.datetime.fromisoformat(callback_at(index))
        began = time.perf_counter()
        lead = get_lead_for(rep, call["lead"])
        log_call(
            lead, by=rep, outcome=call["outcome"],
            duration_seconds=call["duration_seconds"] or None, note="Bench call",
            callback_at=when if call["outcome"] == "callback" else None,
        )  # fmt: skip
        took = (time.perf_counter() - began) * 1000
        samples.append(took)
        by_outcome.setdefault(call["outcome"], []).append(took)
    return {
        "n": len(samples),
        **spread(samples),
        "by_outcome": {k: spread(v) for k, v in sorted(by_outcome.items())},
    }


def spread(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[max(0, -(-int(p * len(ordered)) // 100) - 1)], 1)

    return {"p50_ms": at(50), "p95_ms": at(95), "p99_ms": at(99), "max_ms": round(ordered[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["pick", "time"])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    if args.what == "pick":
        out = pick(args.calls, args.reps, args.seed)
    else:
        out = time_in_process(json.load(sys.stdin))
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main()
