"""Sales follow-up benchmarks (docs/benchmarks.md, "Sales follow-up"; issue 14).

    .venv/bin/python bench/sales.py [--leads 1000000] [--databases sqlite,postgres] [--reuse]
                                    [--parts floor,pages,sweep,calls,explain]

Per database: a bench database of its own (`<workdir>/sqlite-<N>.sqlite3`, or
`leadloop_bench_sales_<N>` on the PostgreSQL server), loaded with `leadloop demo --leads N`
(timed; --reuse keeps one that has N leads), then made a floor of 200 reps in twelve teams by
`bench/sales_floor.py` (once; about 300,000 open owned leads, 1,500 a rep). Then:

pages    `leadloop serve --no-worker --workers 1` on a free loopback port; My day, the pipeline
         board and the manager's view, page and API, timed from this process one request after
         another on a kept-alive connection (as bench/run_all.py does), rotating over five reps,
         three managers or the admin, after two warm-up requests per user: p50/p95/p99.
sweep    `bench/sales_sweep.py`: the every-minute first-contact sweep with a minute's checks
         due (every reminder and breach of 300,000 open leads on one-business-day clocks,
         spread over a nine-hour day), and with a Monday-morning burst of 5,000: run time, and
         what was due before and after the run.
calls    `POST /api/v1/leads/{id}/calls` over --calls calls on different leads of 20 reps, one
         after another (each with its rep's API key), and the same service in-process
         (`bench/sales_calls.py`): p50/p95/p99.
explain  Each page rendered in-process with its statements timed and the slowest explained.

Targets (issue 14): pages p95 under 300 ms, the sweep under 5 s a run with nothing due left,
a call p99 under 50 ms. Exits 1, after writing bench/results/sales-<db>-<N>-<time>.json, when
one is missed. The task backend is the database's (a queued task is a row), as in production.
Timings wait while a test suite (pytest) runs on this machine, up to --max-wait seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import (
    BIN,
    RESULTS,
    ROOT,
    Server,
    lead_count,
    machine,
    percentile,
    postgres_version,
    prepare_database,
    run,
)

# (name, page, API path, roles that may open it)
PAGES = (
    ("my day", "/sales/my-day/", "/api/v1/sales/my-day", ("rep", "manager", "admin")),
    ("pipeline board", "/sales/pipeline/", "/api/v1/sales/pipeline", ("rep", "manager", "admin")),
    ("manager's view", "/sales/team/", "/api/v1/sales/team", ("manager", "admin")),
    # Not named by the targets, but the board's second tab; held to the same 300 ms.
    (
        "forecast",
        "/sales/pipeline/forecast/",
        "/api/v1/sales/forecast",
        ("rep", "manager", "admin"),
    ),
)
CALLS_API = "/api/v1/leads/{lead_id}/calls"
PAGE_P95_MS, CALL_P99_MS, SWEEP_S = 300.0, 50.0, 5.0
BURST = 5000
BUSINESS_MINUTES_A_DAY = 540


def helper(script: str, args: list[str], env: dict[str, str], stdin: str = "") -> Any:
    out = run([str(BIN / "python"), f"bench/{script}", *args], env, capture=True, stdin=stdin)
    return json.loads(out)


def wait_quiet(max_wait: float) -> dict[str, Any]:
    """Wait while a test suite runs on this machine; say how long, and whether it still ran."""
    began = time.monotonic()
    while True:
        found = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True)
        others = [p for p in found.stdout.split() if p and int(p) != os.getpid()]
        if not others or time.monotonic() - began > max_wait:
            return {
                "waited_s": round(time.monotonic() - began),
                "pytest_running": bool(others),
                "loadavg": os.getloadavg()[0],
            }
        print(f"  a test suite is running (pids {' '.join(others[:4])}); waiting")
        time.sleep(20)


class Http:
    """One kept-alive connection; every request timed from sending to the last byte."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(
        self, method: str, path: str, headers: dict[str, str], body: str | None = None
    ) -> tuple[int, bytes, float]:
        began = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, data, (time.perf_counter() - began) * 1000


def stats(samples: list[float]) -> dict[str, Any]:
    return {
        "n": len(samples),
        "p50_ms": round(percentile(samples, 50), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "p99_ms": round(percentile(samples, 99), 1),
        "max_ms": round(max(samples), 1),
    }


def time_page(
    http: Http, path: str, users: list[dict[str, Any]], *, api: bool, n: int
) -> dict[str, Any]:
    def headers(user: dict[str, Any]) -> dict[str, str]:
        if api:
            return {"X-API-Key": user["key"]}
        return {"Cookie": f"sessionid={user['session']}"}

    sizes = []
    for user in users:  # warm-up: two a user
        for _ in range(2):
            status, body, _took = http.send("GET", path, headers(user))
            if status != 200:
                return {"status": status, "user": user["username"], "error": body[:300].decode()}
            sizes.append(len(body))
    samples = []
    for i in range(n):
        status, body, took = http.send("GET", path, headers(users[i % len(users)]))
        if status != 200:
            return {"status": status, "user": users[i % len(users)]["username"]}
        samples.append(took)
    return {"status": 200, "users": len(users), "bytes": max(sizes), **stats(samples)}


def api_paths(http: Http, key: str) -> set[str]:
    status, body, _ = http.send("GET", "/api/v1/openapi.json", {"X-API-Key": key})
    return set(json.loads(body).get("paths", {})) if status == 200 else set()


def bench_pages(env: dict[str, str], actors: dict[str, Any], args: argparse.Namespace) -> Any:
    server = Server(env)
    admin = actors["admin"][0]
    rows = []
    try:
        server.wait({"X-API-Key": admin["key"]})
        quiet = wait_quiet(args.max_wait)
        # Connected after the wait: the server closes a keep-alive connection left idle.
        http = Http(server.port)
        routes = api_paths(http, admin["key"])
        for name, page, api, roles in PAGES:
            for role in ("rep", "manager", "admin"):
                row: dict[str, Any] = {"page": name, "role": role}
                for kind, path in (("ui", page), ("api", api)):
                    if kind == "api" and api not in routes:
                        row[kind] = {"status": 404, "note": "not built"}
                        continue
                    got = time_page(http, path, actors[role], api=kind == "api", n=args.requests)
                    if got["status"] == 404:
                        got["note"] = "not built"
                    elif got["status"] == 403 and role not in roles:
                        got["note"] = "not for this role"
                    row[kind] = got
                rows.append(row)
                print(f"  {name:<16} {role:<8} ui {cell(row['ui'])}  api {cell(row['api'])}")
        quiet_end = wait_quiet(0)
    finally:
        server.stop()
    return {"quiet": quiet, "loadavg_end": quiet_end["loadavg"], "rows": rows}


def cell(result: dict[str, Any]) -> str:
    if result.get("status") != 200:
        return f"{'HTTP ' + str(result.get('status')) + ' ' + result.get('note', ''):>26}"
    return f"{result['p50_ms']:>7.1f} {result['p95_ms']:>7.1f} {result['p99_ms']:>7.1f} ms"


def bench_sweep(env: dict[str, str], floor: dict[str, Any], args: argparse.Namespace) -> Any:
    rate = helper("sales_sweep.py", ["rate"], env)
    per_minute = math.ceil(2 * floor["owned_open_leads"] / BUSINESS_MINUTES_A_DAY)
    print(
        f"  measured: {rate['per_business_day']:,} clocks start a business day "
        f"({rate['checks_per_business_minute']} checks a minute); the issue's load: every one "
        f"of {floor['owned_open_leads']:,} open leads on a one-day clock: {per_minute:,} a minute"
    )
    runs = []
    cli = subprocess.run(
        [str(BIN / "leadloop"), "help", "sla"], env=env, cwd=ROOT, capture_output=True
    ).returncode == 0  # fmt: skip
    scenarios = [("a minute", per_minute, False), ("Monday burst", args.burst, False)]
    if cli:
        scenarios.append(("a minute, `leadloop sla check`", per_minute, True))
    for label, due, with_cli in scenarios:
        for attempt in range(args.sweep_runs):
            quiet = wait_quiet(args.max_wait)
            got = helper("sales_sweep.py", ["run", "--due", str(due), *(["--cli"] * with_cli)], env)
            got.update(label=label, attempt=attempt + 1, quiet=quiet)
            runs.append(got)
            print(
                f"  {label:<32} due {got['due_before']:>5} → after {got['due_after']:>4}: "
                f"{got['seconds']:>6.2f} s {got.get('per_check_ms_by_batch', '')} {got['result']}"
            )
    return {"rate": rate, "per_minute": per_minute, "runs": runs, "cli": cli}


def bench_calls(env: dict[str, str], args: argparse.Namespace) -> Any:
    out: dict[str, Any] = {}
    picked = helper("sales_calls.py", ["pick", "--calls", str(args.calls)], env)
    quiet = wait_quiet(args.max_wait)
    out["in_process"] = {
        **helper("sales_calls.py", ["time"], env, stdin=json.dumps(picked)),
        "quiet": quiet,
    }
    print(f"  log_call in-process: {fmt(out['in_process'])}")
    picked = helper("sales_calls.py", ["pick", "--calls", str(args.calls)], env)
    server = Server(env)
    try:
        key = next(iter(picked["keys"].values()))
        server.wait({"X-API-Key": key})
        http = Http(server.port)
        path = CALLS_API.replace("{lead_id}", "{id}")
        paths = api_paths(http, key)
        if not any(p.startswith("/api/v1/leads/{") and p.endswith("/calls") for p in paths):
            out["api"] = {"status": 404, "note": "not built"}
            return out
        quiet = wait_quiet(args.max_wait)
        samples, statuses = [], {}
        for index, call in enumerate(picked["calls"]):
            body = {"outcome": call["outcome"], "note": "Bench call"}
            if call["duration_seconds"]:
                body["duration_seconds"] = call["duration_seconds"]
            if call["outcome"] == "callback":
                body["callback_at"] = callback_at(index)
            status, data, took = http.send(
                "POST", path.format(id=call["lead"]),
                {"X-API-Key": picked["keys"][call["rep"]], "Content-Type": "application/json"},
                json.dumps(body),
            )  # fmt: skip
            statuses[status] = statuses.get(status, 0) + 1
            if status in (200, 201):
                samples.append(took)
            elif statuses[status] == 1:
                print(f"  HTTP {status}: {data[:300]!r}")
        out["api"] = {**(stats(samples) if samples else {}), "statuses": statuses, "quiet": quiet}
        print(f"  POST {CALLS_API}: {fmt(out['api'])} {statuses}")
    finally:
        server.stop()
    return out


def callback_at(index: int) -> str:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(days=1 + index % 3)
    return when.replace(minute=15 * (index % 4), second=0, microsecond=0).isoformat()


def fmt(r: dict[str, Any]) -> str:
    if "p50_ms" not in r:
        return str(r.get("note", r))
    return f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms (n={r['n']})"


def misses(report: dict[str, Any]) -> list[str]:
    db, out = report["database"], []
    for row in report.get("pages", {}).get("rows", []):
        for kind in ("ui", "api"):
            r = row[kind]
            if r.get("status") == 200 and r["p95_ms"] > PAGE_P95_MS:
                out.append(f"[{db}] {row['page']} {kind} as {row['role']}: p95 {r['p95_ms']} ms")
            elif r.get("status") not in (200, 404, 403):
                out.append(f"[{db}] {row['page']} {kind} as {row['role']}: HTTP {r['status']}")
    for r in report.get("sweep", {}).get("runs", []):
        if r["seconds"] > SWEEP_S or r["due_after"]:
            out.append(f"[{db}] sweep, {r['label']}: {r['seconds']} s, {r['due_after']} still due")
    for kind, r in report.get("calls", {}).items():
        if "p99_ms" in r and r["p99_ms"] > CALL_P99_MS:
            out.append(f"[{db}] logging a call ({kind}): p99 {r['p99_ms']} ms")
    return out


def prepare(db: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """A loaded database: reused when --reuse finds the demo's N leads (plus the few examples it
    adds) in it, else created and loaded (the load with the in-memory task backend, as
    bench/run_all.py does: the demo's events queue nothing a worker would run here)."""
    if args.reuse and args.leads <= lead_count(env) <= args.leads + 100:
        run([str(BIN / "leadloop"), "migrate", "-v0"], env)
        print(f"[{db}] reusing the loaded database ({args.leads:,} leads), migrated")
        return {"reused": True}
    fresh = argparse.Namespace(**{**vars(args), "reuse": False})
    return prepare_database(db, fresh, {**env, "TASKS_BACKEND": "dummy"})


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
    report["load"] = prepare(db, args, env)
    print(f"[{db}] the sales floor")
    report["floor"] = helper("sales_floor.py", ["floor", "--reps", str(args.reps)], env)
    print(f"[{db}] {json.dumps(report['floor'])}")
    actors = helper("sales_floor.py", ["actors"], env)
    if "pages" in parts:
        print(f"[{db}] pages (p50 p95 p99)")
        report["pages"] = bench_pages(env, actors, args)
    if "sweep" in parts:
        print(f"[{db}] the first-contact sweep")
        report["sweep"] = bench_sweep(env, report["floor"], args)
    if "calls" in parts:
        print(f"[{db}] logging calls")
        report["calls"] = bench_calls(env, args)
    if "explain" in parts:
        wanted = [
            {"path": path, "username": actors[role][0]["username"], "api": api}
            for _name, page, api_path, roles in PAGES
            for role in roles
            for path, api in ((page, False), (api_path, True))
        ]
        report["explain"] = helper("sales_explain.py", [], env, stdin=json.dumps(wanted))
        for row in report["explain"]:
            print(
                f"  {row['path']:<24} {row['username']:<18} HTTP {row['status']} "
                f"{row['total_ms']:>7.1f} ms, {row['statements']} statements "
                f"{row['statements_ms']} ms, slowest {[q['ms'] for q in row['slowest']]}"
            )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--parts", default="pages,sweep,calls,explain")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--requests", type=int, default=60, help="timed requests a page and role")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=BURST, help="checks due at once, Monday")
    parser.add_argument("--sweep-runs", type=int, default=2, help="runs of each sweep scenario")
    parser.add_argument("--max-wait", type=float, default=1200, help="seconds to wait for quiet")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/sales")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
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
        path = RESULTS / f"sales-{db}-{args.leads}-{stamp}.json"
        path.write_text(json.dumps(report, indent=1, default=str))
        print(f"[{db}] results: {path.relative_to(ROOT)}")
        missed += misses(report)
    if missed:
        print(f"\nMISSED: {len(missed)} sales timings missed the issue's targets:", file=sys.stderr)
        for line in missed:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print("OK: every sales timing is within the issue's targets.")


if __name__ == "__main__":
    main()
