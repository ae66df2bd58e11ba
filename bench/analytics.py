"""Analytics benchmarks (docs/benchmarks.md, "Analytics"; issue 16).

    .venv/bin/python bench/analytics.py [--leads 1000000] [--databases sqlite,postgres] [--reuse]
                                        [--parts rebuild,pages,refresh,alerts]
                                        [--into postgres://…/leadloop_bench_5000000]

Uses the sales bench's databases (bench/sales.py: `leadloop demo --leads N` and a floor of 200
reps; --reuse keeps a loaded one, in the same work directory), so a machine loads a million
leads once for both. --into names an already loaded PostgreSQL database instead (bench/run_all.py's
`leadloop_bench_<N>`, docs/scaling.md), reused as it is: no reload and no floor, so the KPIs are
those of the demo's own reps. Then:

rebuild  `leadloop analytics rebuild`: every lead's funnel facts and the day totals computed
         again (timed), since the floor moved leads with set-based UPDATEs that the minute's
         refresh does not see.
pages    `leadloop serve --no-worker --workers 1`: the source report over the last 12 months
         (per source and per campaign), the attribution report, the sales KPIs with the
         follow-up impact and won/lost tables (per rep for a rep, per team for a manager and
         the admin), page and API, timed one request after another on a kept-alive connection
         after two warm-ups: p50/p95/p99.
refresh  The minute's refresh after --changes leads changed status (through the service):
         its run time (the day totals of every day those leads touch counted again included),
         and the lag it leaves (the issue: a figure at most 5 minutes behind).
alerts   `leadloop analytics alerts`: one run of every alert rule (the demo's four), timed.

Targets (issue 16): the source report over 12 months, the KPI dashboard and an attribution
report p95 under 500 ms (warm); figures at most 5 minutes behind; alerts under 5 s a run.
Exits 1, after writing bench/results/analytics-<db>-<N>-<time>.json, when one is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import BIN, RESULTS, ROOT, Server, machine, postgres_version, run
from sales import Http, api_paths, cell, helper, prepare, time_page, wait_quiet

PERIOD = "period=last-12-months"
# (name, page, API path, roles)
PAGES = (
    ("sources", f"/analytics/sources/?{PERIOD}", f"/api/v1/analytics/sources?{PERIOD}", ("admin",)),
    (
        "campaigns",
        f"/analytics/sources/?{PERIOD}&by=campaign",
        f"/api/v1/analytics/sources?{PERIOD}&by=campaign",
        ("admin",),
    ),
    (
        "attribution",
        f"/analytics/attribution/?{PERIOD}",
        f"/api/v1/analytics/attribution?{PERIOD}",
        ("admin",),
    ),
    (
        "kpis per rep",
        f"/analytics/kpis/?{PERIOD}",
        f"/api/v1/analytics/kpis?{PERIOD}",
        ("rep", "manager", "admin"),
    ),
    (
        "kpis per team",
        f"/analytics/kpis/?{PERIOD}&by=team",
        f"/api/v1/analytics/kpis?{PERIOD}&by=team",
        ("manager", "admin"),
    ),
    (
        "kpis per source",
        f"/analytics/kpis/?{PERIOD}&by=source",
        f"/api/v1/analytics/kpis?{PERIOD}&by=source",
        ("rep", "manager", "admin"),
    ),
)
P95_MS = 500.0
LAG_S = 300.0
ALERTS_S = 5.0


def bench_pages(env: dict[str, str], actors: dict[str, Any], args: argparse.Namespace) -> Any:
    server = Server(env)
    admin = actors["admin"][0]
    rows = []
    try:
        server.wait({"X-API-Key": admin["key"]})
        quiet = wait_quiet(args.max_wait)
        http = Http(server.port)
        routes = api_paths(http, admin["key"])
        for name, page, api, roles in PAGES:
            for role in roles:
                row: dict[str, Any] = {"page": name, "role": role}
                for kind, path in (("ui", page), ("api", api)):
                    if kind == "api" and api.split("?")[0] not in routes:
                        row[kind] = {"status": 404, "note": "not built"}
                        continue
                    row[kind] = time_page(
                        http, path, actors[role], api=kind == "api", n=args.requests
                    )
                rows.append(row)
                print(f"  {name:<14} {role:<8} ui {cell(row['ui'])}  api {cell(row['api'])}")
    finally:
        server.stop()
    return {"quiet": quiet, "rows": rows}


def timed(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    began = time.perf_counter()
    out = run([str(BIN / "leadloop"), *command, "--json"], env, capture=True)
    return {"seconds": round(time.perf_counter() - began, 2), **json.loads(out)}


def misses(report: dict[str, Any]) -> list[str]:
    db, out = report["database"], []
    for row in report.get("pages", {}).get("rows", []):
        for kind in ("ui", "api"):
            r = row[kind]
            if r.get("status") == 200 and r["p95_ms"] > P95_MS:
                out.append(f"[{db}] {row['page']} {kind} as {row['role']}: p95 {r['p95_ms']} ms")
            elif r.get("status") not in (200, 404):
                out.append(f"[{db}] {row['page']} {kind} as {row['role']}: HTTP {r['status']}")
    refresh = report.get("refresh")
    if refresh and refresh["lag_after_s"] > LAG_S:
        out.append(f"[{db}] facts {refresh['lag_after_s']} s behind after a refresh")
    checked = report.get("alerts")
    if checked and checked["seconds"] > ALERTS_S:
        out.append(f"[{db}] alerts took {checked['seconds']} s")
    return out


def bench_database(db: str, args: argparse.Namespace, parts: list[str]) -> dict[str, Any]:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(LEADLOOP_VAR_DIR=str(workdir / "var"), TASKS_BACKEND="db")
    env["LEADLOOP_LOG_LEVEL"] = "WARNING"
    if db == "sqlite":
        env["LEADLOOP_SQLITE_PATH"] = str(workdir / f"sqlite-{args.leads}.sqlite3")
    else:
        env["DATABASE_URL"] = f"{args.pg_url.rstrip('/')}/leadloop_bench_sales_{args.leads}"
    report: dict[str, Any] = {"database": db, "leads": args.leads}
    if args.into:  # reused as it is: prepare() would reload a database whose count is off
        env["DATABASE_URL"] = args.into
        report["load"], report["floor"] = {"reused": True, "into": args.into}, None
    else:
        report["load"] = prepare(db, args, env)
        report["floor"] = helper("sales_floor.py", ["floor", "--reps", str(args.reps)], env)
    actors = helper("sales_floor.py", ["actors"], env)
    if "rebuild" in parts:
        wait_quiet(args.max_wait)
        report["rebuild"] = timed(["analytics", "rebuild"], env)
        print(f"[{db}] analytics rebuild: {report['rebuild']}")
    if "pages" in parts:
        print(f"[{db}] pages (p50 p95 p99)")
        report["pages"] = bench_pages(env, actors, args)
    if "refresh" in parts:
        wait_quiet(args.max_wait)
        changed = helper("analytics_changes.py", ["--changes", str(args.changes)], env)
        refreshed = timed(["analytics", "refresh"], env)
        lag = timed(["analytics", "lag"], env)
        report["refresh"] = {
            "changed": changed,
            "run": refreshed,
            # `analytics lag --json` answers {"seconds": …}, which replaces the command's run time.
            "lag_after_s": lag["seconds"],
        }
        print(f"[{db}] refresh after {args.changes} changes: {report['refresh']}")
    if "alerts" in parts:
        wait_quiet(args.max_wait)
        report["alerts"] = timed(["analytics", "alerts"], env)
        print(f"[{db}] alerts: {report['alerts']}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--parts", default="rebuild,pages,refresh,alerts")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=30, help="timed requests a page and role")
    parser.add_argument("--changes", type=int, default=2000, help="leads changed before a refresh")
    parser.add_argument("--max-wait", type=float, default=1200, help="seconds to wait for quiet")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/sales")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--into", default="", help="an already loaded PostgreSQL database URL")
    args = parser.parse_args()
    if args.into:
        args.databases, args.pg_url = "postgres", args.into.rsplit("/", 1)[0]
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    info = machine()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if "postgres" in databases:
        try:
            info["postgresql"] = postgres_version(args.pg_url)
        except Exception as exc:  # any failure to connect means: skip it
            print(f"PostgreSQL at {args.pg_url} is not reachable ({exc}); skipping it.")
            databases.remove("postgres")
    print(json.dumps(info))
    RESULTS.mkdir(parents=True, exist_ok=True)
    missed: list[str] = []
    for db in databases:
        report = {"machine": info, **bench_database(db, args, parts)}
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = RESULTS / f"analytics-{db}-{args.leads}-{stamp}.json"
        path.write_text(json.dumps(report, indent=1, default=str))
        print(f"[{db}] results: {path.relative_to(ROOT)}")
        missed += misses(report)
    if missed:
        print(f"\nMISSED: {len(missed)} analytics timings missed the targets:", file=sys.stderr)
        for line in missed:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print("OK: every analytics timing is within the issue's targets.")


if __name__ == "__main__":
    main()
