"""What the intake's post limits cost: the counter statement alone, and a whole /in/<key> post.

    .venv/bin/python bench/throttle_cost.py [--database sqlite|postgres] [--posts 1500]

A fresh database under --workdir (SQLite in WAL mode, as served) or a fresh PostgreSQL database
`leadloop_bench_throttle`. Measures, in one process and without a network in between:

1. `ratelimit.hit()` with the intake's two limits (source, address): microseconds per call
   inside an open transaction (as `receive()` runs it) and in a transaction of its own.
2. POST /in/<key> through Django's WSGI handler, a distinct lead per post, in alternating blocks
   with the limits off (0, no counter statement) and on (high enough never to trip):
   milliseconds per post and posts/s for each, and the difference.
3. A post over the limit (stored THROTTLED, not processed): milliseconds per post, to compare
   with a processed one; a flood costs this per post.
Prints the figures and writes them to bench/results/throttle-cost-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


def prepare(args: argparse.Namespace) -> dict[str, str]:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEADLOOP_VAR_DIR": str(workdir), "TASKS_BACKEND": "dummy"}
    env["LEADLOOP_LOG_LEVEL"] = "ERROR"
    if args.database == "sqlite":
        path = workdir / "throttle.sqlite3"
        for suffix in ("", "-wal", "-shm", "-writers"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["LEADLOOP_SQLITE_PATH"] = str(path)
        env["DATABASE_URL"] = ""
    else:
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "leadloop_bench_throttle"')
            conn.execute('CREATE DATABASE "leadloop_bench_throttle"')
        env["DATABASE_URL"] = f"{args.pg_url}/leadloop_bench_throttle"
    subprocess.run([BIN / "leadloop", "migrate", "-v", "0"], env=env, check=True)
    return env


def measure(args: argparse.Namespace) -> dict[str, object]:
    import logging

    import django

    django.setup()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # 500 lines of "429" otherwise
    from django.conf import settings
    from django.db import transaction
    from django.test import Client

    from leadloop.accounts.actors import SYSTEM
    from leadloop.core import ratelimit
    from leadloop.intake.models import RawSubmission, SubmissionState
    from leadloop.intake.throttle import limits_for
    from leadloop.leads import services as leads_services

    settings.ALLOWED_HOSTS = ["testserver"]
    created = leads_services.create_source(
        name="Bench provider", kind="http_post", by=SYSTEM, default_country="NL"
    )
    source, key = created.source, created.raw_key

    # 1. The counter statement alone.
    settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE = 10**9
    settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS = 10**9
    limits = limits_for(source, ip="198.51.100.7")
    for _ in range(200):
        with transaction.atomic():
            ratelimit.hit(*limits)
    calls = []
    for _ in range(args.hits):
        started = time.perf_counter()
        with transaction.atomic():
            ratelimit.hit(*limits)
        calls.append(time.perf_counter() - started)
    hit_us = statistics.median(calls) * 1e6
    # The statement alone, as receive() runs it: inside a transaction that commits anyway.
    inside = []
    with transaction.atomic():
        for _ in range(args.hits):
            started = time.perf_counter()
            ratelimit.hit(*limits)
            inside.append(time.perf_counter() - started)
    statement_us = statistics.median(inside) * 1e6

    # 2. Whole posts, limits off and on, in alternating blocks.
    client = Client(REMOTE_ADDR="198.51.100.7")
    counter = iter(range(10**9))

    def post() -> float:
        n = next(counter)
        body = json.dumps(
            {
                "first_name": f"Anna{n}",
                "last_name": f"Visser{n % 97}",
                "email": f"anna.visser{n}@bench{n % 13}.example.nl",
                "phone": f"+316{10000000 + n:08d}",
            }
        )
        started = time.perf_counter()
        response = client.post(f"/in/{key}", body, content_type="application/json")
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 201), response.content
        return elapsed

    for _ in range(100):
        post()  # warm-up
    timings: dict[str, list[float]] = {"off": [], "on": []}
    block = 50
    for round_ in range(args.posts // block):
        mode = ("off", "on")[round_ % 2]
        limit = 0 if mode == "off" else 10**9
        settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE = limit
        settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS = limit
        timings[mode] += [post() for _ in range(block)]
    off_ms = statistics.median(timings["off"]) * 1000
    on_ms = statistics.median(timings["on"]) * 1000

    # 3. Posts over the limit: stored, not processed.
    settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS = 1
    settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE = 10**9
    flood = Client(REMOTE_ADDR="203.0.113.66")
    refused = []
    for n in range(args.flood + 1):
        body = json.dumps({"email": f"flood{n}@example.com"})
        started = time.perf_counter()
        response = flood.post(f"/in/{key}", body, content_type="application/json")
        if n:
            assert response.status_code == 429, response.status_code
            refused.append(time.perf_counter() - started)
    throttled_ms = statistics.median(refused) * 1000
    stored = RawSubmission.objects.filter(state=SubmissionState.THROTTLED).count()

    from django.db import connection

    result = {
        "database": connection.vendor,
        "hit_two_limits_own_transaction_us": round(hit_us, 1),
        "hit_two_limits_statement_us": round(statement_us, 1),
        "post_limits_off_ms": round(off_ms, 3),
        "post_limits_on_ms": round(on_ms, 3),
        "added_ms": round(on_ms - off_ms, 3),
        "added_pct": round(100 * (on_ms - off_ms) / off_ms, 1),
        "posts_per_s_off": round(1000 / off_ms),
        "posts_per_s_on": round(1000 / on_ms),
        "throttled_post_ms": round(throttled_ms, 3),
        "throttled_stored": stored,
        "posts_each": len(timings["on"]),
    }
    print(
        f"[{result['database']}] hit() with 2 limits: {statement_us:.0f} µs in an open "
        f"transaction, {hit_us:.0f} µs in its own | /in/<key> post: "
        f"{off_ms:.2f} ms limits off, {on_ms:.2f} ms on (+{on_ms - off_ms:.2f} ms, "
        f"{result['added_pct']}%; {result['posts_per_s_off']} → {result['posts_per_s_on']} "
        f"posts/s, one process) | throttled post: {throttled_ms:.2f} ms, "
        f"{stored} of {args.flood} stored"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--posts", type=int, default=1500, help="posts with limits off and on")
    parser.add_argument("--hits", type=int, default=3000)
    parser.add_argument("--flood", type=int, default=500, help="posts over the limit")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/throttle")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(args)
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = RESULTS / f"throttle-cost-{result['database']}-{stamp}.json"
        path.write_text(json.dumps(result, indent=1))
        print(f"results: {path.relative_to(ROOT)}")
        return
    env = prepare(args)
    env["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
    # Measured in a fresh process, so the settings read at start-up are the bench database's.
    subprocess.run([sys.executable, __file__, "--measure", *sys.argv[1:]], env=env, check=True)


if __name__ == "__main__":
    main()
