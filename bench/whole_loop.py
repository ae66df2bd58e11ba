"""The whole lead loop under load at once, the embedded default beside the production shape.

    .venv/bin/python bench/whole_loop.py [--shapes embedded,production] [--duration 600]
        [--rate 20] [--reps 6] [--leads 20000]

Shapes, on this machine: `embedded` is SQLite (a fresh file under --workdir), TASKS_BACKEND=db and
`leadloop serve` (granian and its one task worker); `production` is PostgreSQL (a fresh
`leadloop_bench_wholeloop`, with AutovacuumStandIn where autovacuum is off), TASKS_BACKEND=rq on
a flushed Redis database (--redis-url), `leadloop serve --no-worker` and two `leadloop worker`.
Both mail through a local SMTP sink, so nurture and notification mails are really sent.

Setup per shape (timed): migrate, `leadloop demo --leads N`, `leadloop reassess --all` (the demo
leaves its leads for the worker to assess; assess_pending would do the same in the background),
VACUUM (ANALYZE) on PostgreSQL, an HTTP source without post limits and an import source, API keys
and sessions for the admin, the managers and the reps; then the processes start, and the tasks
the setup queued are worked off before anything is measured.

Then, for --duration seconds, all at once:
- HTTP intake: --rate JSON leads a second on a fixed schedule (open loop: each post's time counts
  from when it was due, so queueing shows), 32 connections, an Idempotency-Key on each;
- a batch import of --import-rows rows through POST /api/v1/intake/imports at --import-at s:
  time until the batch is done, and until every lead from it is assessed;
- --reps threads as reps and managers: their list (API and page), My day or the team page, a lead
  (API and page) and a call logged through the API, with --think seconds between requests;
- the analytics dashboards (pages and API) every --analytics-every seconds, and their lag;
- routing, SLA sweeps, nurture steps and the analytics refresh run in the workers as they would:
  measured from the task results (django-tasks-db's table, RQ's finished and failed registries).
Every 10 s: each queue's depth (tasks due and waiting) and lag (the oldest one's wait), and the
database's load (PostgreSQL: pg_stat_activity; SQLite: file sizes and a writers'-lock probe).
After the load, the queues get --drain seconds to empty. Checked at the end: every post answered
201 has its lead in the database, and no task failed. Prints a table of both shapes and writes
the JSON to --workdir.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import whole_loop_parts as wl
from routing_common import python
from run_all import BIN, ROOT, AutovacuumStandIn, _pg, free_port, machine, postgres_version, run

USERS = ("rep.noor", "rep.julia", "manager.north", "rep.emma", "rep.sem", "manager.south",
         "rep.liam", "rep.olivia", "rep.lucas", "rep.daan")  # fmt: skip

CREDENTIALS = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from leadloop.accounts import services as accounts_services
from leadloop.accounts.models import User
users = {}
for user in User.objects.filter(username__in=NAMES):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    users[user.username] = {"id": user.pk, "role": user.role, "team": user.team_id,
        "key": accounts_services.issue_api_key(user, name="whole loop").raw,
        "session": store.session_key}
print(json.dumps(users))
"""

SMTP_SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[1], "a") as handle:
            handle.write(".")
        return "250 OK"
Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[2])).start()
print("ready", flush=True)
while True:
    time.sleep(60)
"""


def leadloop(env: dict[str, str], *args: str) -> Any:
    return json.loads(run([str(BIN / "leadloop"), *args, "--json"], env, capture=True))


class Stopwatch(dict[str, float]):
    """Seconds each named step took: `with watch("demo_s"): ...`."""

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        yield
        self[name] = round(time.monotonic() - began, 1)


def prepare(shape: str, args: argparse.Namespace, smtp_port: int, watch: Stopwatch) -> tuple:
    """A fresh database for the shape, migrated and loaded; sources, keys and sessions."""
    workdir, name = Path(args.workdir), "leadloop_bench_wholeloop"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "LEADLOOP_VAR_DIR": str(workdir),
           "LEADLOOP_LOG_LEVEL": "WARNING", "LEADLOOP_SMTP_HOST": "127.0.0.1",
           "LEADLOOP_SMTP_PORT": str(smtp_port), "LEADLOOP_SMTP_SECURITY": "none"}  # fmt: skip
    if shape == "embedded":
        path = workdir / "embedded.sqlite3"
        for suffix in ("", "-wal", "-shm", "-writers"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env.update(TASKS_BACKEND="db", LEADLOOP_SQLITE_PATH=str(path))
    else:
        with psycopg.connect(_pg(args.pg_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        redis.Redis.from_url(args.redis_url).flushdb()
        env.update(TASKS_BACKEND="rq", REDIS_URL=args.redis_url,
                   DATABASE_URL=f"{args.pg_url.rstrip('/')}/{name}")  # fmt: skip
    with watch("migrate_s"):
        run([str(BIN / "leadloop"), "migrate", "-v0"], env)
    with watch("demo_s"):
        leadloop(env, "demo", "--leads", str(args.leads))
    with watch("assess_s"):  # what the worker's assess_pending does with the demo, in one go
        leadloop(env, "reassess", "--all")
    if shape == "production":
        with watch("vacuum_s"), psycopg.connect(_pg(args.pg_url, name), autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")  # docs/operations.md: at once after a bulk load
    print(f"[{shape}] {dict(watch)}", flush=True)
    with watch("sources_and_keys_s"):
        source = ["sources", "create", "Whole loop HTTP", "--kind", "http_post", "--country", "NL"]
        http = leadloop(env, *source)
        leadloop(env, "sources", "limits", source[2], "--per-source", "0", "--per-address", "0")
        imports = leadloop(env, "sources", "create", "Whole loop import", "--kind", "import")
        code = CREDENTIALS.replace("NAMES", repr(["admin", *USERS]))
        users = json.loads(python(code, env).splitlines()[-1])
    return env, {"http": http, "import": imports, "users": users}


def start(shape: str, env: dict[str, str], port: int, args: argparse.Namespace) -> dict:
    """The shape's processes, each logging to a file under --workdir."""
    serve = [str(BIN / "leadloop"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    serve += ["--workers", str(args.web_workers)] if args.web_workers else []
    commands = {"serve": serve}
    if shape == "production":
        serve.append("--no-worker")
        commands.update({f"worker-{n}": [str(BIN / "leadloop"), "worker"] for n in (1, 2)})
    procs = {}
    for name, command in commands.items():
        log = (Path(args.workdir) / f"{shape}-{name}.log").open("w")
        procs[name] = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    return procs


def stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM; a task worker first finishes the task in hand."""
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def wait_ready(port: int, seconds: float = 120) -> None:
    client, deadline = wl.Http(port), time.monotonic() + seconds
    while client.call("GET", "/readyz", {})[0] != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer /readyz within {seconds:.0f} s")
        time.sleep(0.5)
    client.close()


def queue_probe(env: dict[str, str]) -> wl.DbQueue | wl.RqQueue:
    return wl.RqQueue(env["REDIS_URL"]) if env["TASKS_BACKEND"] == "rq" else wl.DbQueue(env)


def idle(queues: dict[str, dict[str, float]]) -> bool:
    return all(q["depth"] == 0 and q["running"] == 0 for q in queues.values())


def settle(env: dict[str, str], args: argparse.Namespace) -> None:
    """Work off the demo's backlog (its tasks, and assessing every demo lead) before measuring:
    until the queues and the unassessed leads were empty twice in a row, 5 s apart."""
    probe, sql, began, quiet = queue_probe(env), wl.Sql(env), time.monotonic(), 0
    pending = "SELECT COUNT(*) FROM leads_lead WHERE assessed_at IS NULL"
    while quiet < 2 and time.monotonic() - began < args.settle_max:
        time.sleep(5)
        quiet = quiet + 1 if idle(probe.sample()) and not sql.rows(pending)[0][0] else 0
    sql.close()


def drive(shape: str, env: dict[str, str], port: int, setup: dict[str, Any],
          args: argparse.Namespace, roots: dict[str, list[int]]) -> dict[str, Any]:  # fmt: skip
    """The load, the samples every 10 s, the drain and the checks."""
    users, parts, answered, freshness, imported = setup["users"], wl.Parts(), [], [], {}
    probe = queue_probe(env)
    load = wl.SqliteLoad(env) if shape == "embedded" else wl.PgLoad(env)
    csv_path = Path(args.workdir) / f"import-{args.import_rows}.csv"
    wl.write_csv(csv_path, args.import_rows)
    halt, wall0, t0 = threading.Event(), dt.datetime.now(dt.UTC), time.monotonic() + 1
    t_end = t0 + args.duration
    servers, mark = shape == "production", 0
    totals = load.totals if isinstance(load, wl.PgLoad) else dict
    cpu0, db0, own0 = wl.cpu_groups(roots, servers), totals(), time.process_time()
    key = setup["http"]["key"]
    intake = wl.start_intake(port, key, args.rate, t0, t_end, parts, answered)
    threads = []
    for n, name in enumerate((USERS * 4)[: args.reps]):
        rep = (port, users[name], halt, parts, args.think, n)
        threads.append(threading.Thread(target=wl.rep_loop, args=rep))
    dashboards = (port, users, halt, parts, args.analytics_every, freshness)
    threads.append(threading.Thread(target=wl.analytics_loop, args=dashboards))
    batch = (port, users["admin"]["key"], setup["import"]["id"], csv_path, t0 + args.import_at,
             t_end + args.drain, wl.Sql(env), imported)  # fmt: skip
    importer = threading.Thread(target=wl.import_part, args=batch)
    for thread in [*threads, importer]:
        thread.start()
    samples: list[dict[str, Any]] = []
    rss: dict[str, float] = {}
    while (now := time.monotonic()) < t_end:
        time.sleep(min(10.0, t_end - now))
        sample = {"t": round(time.monotonic() - t0), "queues": probe.sample(), "db": load.sample()}
        posts = parts.ms["intake: POST /in/<key>"]
        sample["intake_ms"], mark = wl.spread(posts[mark:]), len(posts)
        samples.append(sample)
        for group, (_cpu, mb) in wl.cpu_groups(roots, servers).items():
            rss[group] = round(max(rss.get(group, 0.0), mb)) if mb else rss.get(group, 0)
        print(f"[{shape}] {sample['t']:>4} s: {len(answered)} posts answered 201, the last "
              f"10 s' ms {sample['intake_ms']}; queues {sample['queues']}; database "
              f"{sample['db']}", flush=True)  # fmt: skip
    halt.set()
    for thread in intake + threads:
        thread.join(timeout=130)
    seconds = time.monotonic() - t0
    cpu1, db1, own1 = wl.cpu_groups(roots, servers), totals(), time.process_time()
    drained, drain_began = None, time.monotonic()
    while drained is None and time.monotonic() - drain_began < args.drain:
        if idle(probe.sample()) and not importer.is_alive():
            drained = round(time.monotonic() - drain_began, 1)
        time.sleep(2)
    importer.join(timeout=5)
    runs = probe.runs(wall0)
    load.close()
    cpu = {g: round(cpu1[g][0] - cpu0.get(g, (0.0, 0.0))[0], 1) for g in cpu1}
    cpu["bench (the load itself)"] = round(own1 - own0, 1)
    return {
        "shape": shape, "duration_s": round(seconds, 1), "parts": parts.summary(seconds),
        "import": imported, "freshness_s": wl.spread(freshness), "tasks": task_table(runs),
        "tasks_done": sum(not r["failed"] for r in runs),
        "tasks_failed": sum(r["failed"] for r in runs), "queues": queue_summary(samples),
        "queues_left": probe.sample(), "drained_after_s": drained, "cpu_s": cpu,
        "rss_peak_mb": rss, "database": database_summary(load, samples, db0, db1, seconds),
        "samples": samples, **checks(env, answered, setup["http"]["id"], wall0),
    }  # fmt: skip


def task_table(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per task: runs, failed, the wait in the queue and the run itself (p50, p99 seconds)."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in runs:
        by[item["task"]].append(item)
    out = {}
    for name, items in sorted(by.items()):
        waits = [r["wait_s"] for r in items if r["wait_s"] is not None]
        took = [r["run_s"] for r in items if r["run_s"] is not None]
        errors = Counter(r["error"] for r in items if r["failed"])
        out[name] = {"runs": len(items), "failed": sum(r["failed"] for r in items),
                     "wait_s": wl.spread(waits), "run_s": wl.spread(took)}  # fmt: skip
        if errors:
            out[name]["errors"] = dict(errors)
    return out


def queue_summary(samples: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for name in sorted({name for s in samples for name in s["queues"]}):
        seen = [s["queues"][name] for s in samples if name in s["queues"]]
        out[name] = {"depth": wl.spread([q["depth"] for q in seen]),
                     "lag_s": wl.spread([q["lag_s"] for q in seen])}  # fmt: skip
    return out


def database_summary(load: wl.PgLoad | wl.SqliteLoad, samples: list[dict[str, Any]],
                     before: dict[str, int], after: dict[str, int], seconds: float
                     ) -> dict[str, Any]:  # fmt: skip
    keys = [k for k in ("db_mb", "wal_mb") if samples and k in samples[0]["db"]]
    out = {k: max(s["db"][k] for s in samples) for k in keys}
    if isinstance(load, wl.SqliteLoad):
        return {**out, "write_lock_wait_ms": wl.spread(load.waits_ms)}
    delta = {k: after[k] - before[k] for k in after}
    blocks = delta["blks_hit"] + delta["blks_read"]
    out["commits_per_s"] = round(delta["xact_commit"] / seconds, 1)
    out["hit_ratio"] = round(delta["blks_hit"] / blocks, 4) if blocks else None
    for key in ("active", "connections", "lock_waits"):
        out[key] = wl.spread([s["db"][key] for s in samples])
    return {**out, **delta}


SPEED = """SELECT d.at, l.created_at FROM distribution_routedecision d
JOIN leads_lead l ON l.id = d.lead_id WHERE l.source_id = %s AND l.created_at >= %s"""


def checks(env: dict[str, str], answered: list[int], source: int, since: dt.datetime) -> dict:
    """Every lead answered 201 is in the database; how soon the posted leads were routed."""
    sql, ids, found = wl.Sql(env), sorted(set(answered)), 0
    for n in range(0, len(ids), 500):
        chunk = tuple(ids[n : n + 500])
        marks = ", ".join(["%s"] * len(chunk))
        found += sql.rows(f"SELECT COUNT(*) FROM leads_lead WHERE id IN ({marks})", chunk)[0][0]
    routed = [(wl.when(at) - wl.when(made)).total_seconds()  # type: ignore[operator]
              for at, made in sql.rows(SPEED, (source, since))]  # fmt: skip
    made = sql.rows("SELECT COUNT(*) FROM leads_lead WHERE source_id = %s", (source,))[0][0]
    sql.close()
    return {"answered_201": len(answered), "distinct_leads": len(ids), "found": found,
            "http_leads": made, "routed": len(routed),
            "speed_to_lead_s": wl.spread(routed)}  # fmt: skip


def run_shape(shape: str, args: argparse.Namespace, smtp_port: int, mails: Path) -> dict:
    watch, began = Stopwatch(), time.monotonic()
    env, setup = prepare(shape, args, smtp_port, watch)
    port = free_port()
    procs = start(shape, env, port, args)
    stand_in = AutovacuumStandIn(env)
    try:
        stand_in.start()
        with watch("start_s"):
            wait_ready(port)
        with watch("settle_s"):
            settle(env, args)
        watch["total_s"] = round(time.monotonic() - began, 1)
        print(f"[{shape}] setup {dict(watch)}; {args.duration} s of load", flush=True)
        sent = mails.stat().st_size if mails.exists() else 0
        roots = {"serve": [procs["serve"].pid],
                 "workers": [p.pid for name, p in procs.items() if name != "serve"]}  # fmt: skip
        result = drive(shape, env, port, setup, args, roots)
    finally:
        stand_in.finish()
        stop(procs)
    result["mails_sent"] = (mails.stat().st_size if mails.exists() else 0) - sent
    return {**result, "setup_s": dict(watch), "stand_in_analyzes": stand_in.analyzed}


KEY_TASKS = ("route_leads", "tell_assigned", "follow_clocks", "check_clocks", "enroll",
             "run_workflow_steps", "send_marketing_email", "refresh_facts", "assess_pending",
             "import_file", "fold_pipeline")  # fmt: skip


def two(d: dict[str, Any] | None, unit: str = "") -> str:
    return f"{d['p50']} / {d['max']}{unit}" if d and d["max"] is not None else "-"


def cells(r: dict[str, Any]) -> dict[str, str]:
    """One shape's column of the table: label → cell."""
    setup, i, d = r["setup_s"], r["import"], r["database"]
    steps = ("migrate_s", "demo_s", "assess_s", "settle_s", "total_s")
    c = {
        "setup s: migrate · demo · assess · settle · all": " · ".join(
            str(setup.get(k)) for k in steps
        )
    }
    c["intake: answered 201 / their leads found"] = f"{r['answered_201']} / {r['found']}"
    for name, p in r["parts"].items():
        errors = ", ".join(f"{'no answer' if s == '0' else s}: {n}" for s, n in p["errors"].items())
        c[f"{name}: n · p50 / p99 ms"] = f"{p['requests']} · {p['p50_ms']:.0f} / {p['p99_ms']:.0f}"
        c[f"{name}: n · p50 / p99 ms"] += f" · errors {errors}" if errors else ""
    c["import: created of rows · state at s · assessed at s"] = (
        f"{i.get('rows_created')} of {i.get('rows_read')} · {i.get('state')} at "
        f"{i.get('imported_s')} · {i.get('assessed_s', 'not assessed')}")  # fmt: skip
    c["posted lead created → routed p50 / max s"] = (
        f"{two(r['speed_to_lead_s'])} ({r['routed']} of {r['http_leads']} routed)")  # fmt: skip
    c["tasks done / failed"] = f"{r['tasks_done']} / {r['tasks_failed']}"
    for name in KEY_TASKS:
        t = r["tasks"].get(name)
        failed = f" · **{t['failed']} failed**" if t and t["failed"] else ""
        c[f"task {name}: runs · wait p50 / p99 s · run p50 / p99 s"] = (
            f"{t['runs']} · {t['wait_s']['p50']} / {t['wait_s']['p99']} · {t['run_s']['p50']} / "
            f"{t['run_s']['p99']}{failed}" if t else "-")  # fmt: skip
    for name, q in r["queues"].items():
        c[f"queue {name}: depth p50 / max"] = two(q["depth"])
        c[f"queue {name}: lag p50 / max s"] = two(q["lag_s"])
    c["queues empty after the load"] = (
        f"after {r['drained_after_s']} s" if r["drained_after_s"] is not None
        else f"**not within the drain**: {json.dumps(r['queues_left'])}")  # fmt: skip
    c["analytics behind p50 / max s"] = two(r["freshness_s"])
    c["mails sent (SMTP sink)"] = str(r["mails_sent"])
    if "write_lock_wait_ms" in d:
        c["SQLite writers' lock wait p50 / p99 / max ms"] = "{p50} / {p99} / {max}".format(
            **d["write_lock_wait_ms"])  # fmt: skip
    for key in ("active", "connections", "lock_waits"):
        if key in d:
            c[f"PostgreSQL backends {key} p50 / max"] = two(d[key])
    for key in ("db_mb", "wal_mb", "commits_per_s", "hit_ratio", "tup_inserted", "tup_updated"):
        if d.get(key) is not None:
            c[f"database: {key}"] = str(d[key])
    for group, seconds in sorted(r["cpu_s"].items()):
        c[f"CPU s: {group}"] = f"{seconds} ({seconds / r['duration_s']:.0%} of a core)"
    for group, mb in sorted(r["rss_peak_mb"].items()):
        if mb:  # the sum over the group's processes: shared memory is counted in each
            c[f"RSS MB, peak of the sum: {group}"] = str(mb)
    return c


def table(results: list[dict[str, Any]]) -> str:
    """The shapes side by side, in markdown."""
    columns = [cells(r) for r in results]
    labels = list(dict.fromkeys(label for column in columns for label in column))
    lines = [
        "| | " + " | ".join(r["shape"] for r in results) + " |",
        "|---" * (len(results) + 1) + "|",
    ]
    lines += [
        f"| {label} | " + " | ".join(c.get(label, "-") for c in columns) + " |" for label in labels
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--shapes", default="embedded,production")
    add("--duration", type=int, default=600, help="seconds of load")
    add("--rate", type=float, default=20, help="HTTP intake posts a second")
    add("--reps", type=int, default=6, help="threads working their lists (reps and managers)")
    add("--think", type=float, default=2.0, help="mean seconds before each of a rep's requests")
    add("--analytics-every", type=float, default=5.0, help="seconds between dashboard requests")
    add("--leads", type=int, default=20_000, help="demo size")
    add("--import-rows", type=int, default=5000)
    add("--import-at", type=float, default=60, help="seconds into the load")
    add("--web-workers", type=int, default=0, help="granian processes; 0: one per core")
    add("--settle-max", type=float, default=1800, help="seconds for the demo's backlog")
    add("--drain", type=float, default=300, help="seconds for the queues after the load")
    add("--workdir", default="/tmp/leadloop-bench/whole_loop")
    add("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    add("--redis-url", default="redis://127.0.0.1:6379/7", help="a database the bench flushes")
    add("--report", nargs="+", metavar="JSON", help="only print the table of earlier runs")
    args = parser.parse_args()
    if args.report:
        print(table([r for f in args.report for r in json.loads(Path(f).read_text())["results"]]))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the shape's processes first
    if args.redis_url.rstrip("/").endswith(":6379") or args.redis_url.endswith("/0"):
        sys.exit("--redis-url: name a database other than 0; the bench flushes it")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    info = machine()
    if "production" in shapes:
        info["postgresql"] = postgres_version(args.pg_url)
    print(json.dumps(info), flush=True)
    mails, smtp_port = workdir / "smtp-sink.count", free_port()
    mails.unlink(missing_ok=True)
    sink = subprocess.Popen([str(BIN / "python"), "-c", SMTP_SINK, str(mails), str(smtp_port)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert sink.stdout is not None
    sink.stdout.readline()
    path = workdir / f"whole-loop-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    results: list[dict[str, Any]] = []
    try:
        for shape in shapes:  # each shape's figures are kept as soon as it is done
            results.append(run_shape(shape, args, smtp_port, mails))
            report = {"machine": info, "args": vars(args), "results": results}
            path.write_text(json.dumps(report, indent=1, default=str))
            print(f"\n{table(results)}\n\nresults: {path}", flush=True)
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    for r in results:
        lost = r["distinct_leads"] - r["found"]
        missing = f" ({lost} MISSING)" if lost else ""
        print(f"[{r['shape']}] answered 201: {r['answered_201']}, found: {r['found']}{missing}; "
              f"tasks failed: {r['tasks_failed']}")  # fmt: skip


if __name__ == "__main__":
    main()
