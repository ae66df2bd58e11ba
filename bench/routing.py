"""Routing benchmarks (docs/benchmarks.md, "Distribution").

    .venv/bin/python bench/routing.py [--parts decide,claims,speed] [--databases sqlite,postgres]

decide  One process on a fresh SQLite file: 20 teams of 10 reps, 50 rules (postal-code ranges,
        grades, sources, extra fields) and a default. Times `engine.decide` (which rule a lead
        matches, pure Python) over 5,000 leads, and the whole `route_lead` (decide, choose a rep
        under the team lock, assign, timeline, decision row) over 500 sales-ready leads.
claims  Per database: one team's pool of 10,000 leads and 32 reps, each a client thread that
        takes "the next lead" through the API (POST /api/v1/distribution/pool/claim, its own
        API key) until the pool is empty, against `leadloop serve --no-worker` (granian, 2
        workers). Prints claims/s and latency, and checks that no lead was given twice.
speed   Per database: `leadloop serve --no-worker` (granian, 2 workers) and one `leadloop
        worker` (database task backend). First the HTTP intake's throughput with wrk (32
        connections, --seconds each) without routing and with routing on, back to back. Then
        speed to lead: leads posted at --rate a second for --duration seconds, and for each the
        time from its creation (the intake stamps it just before answering 201) to its routing
        decision being committed (assigned to a rep, or put in the pool): p50, p99, max.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake_http import LUA
from routing_common import fresh_env, python, wait_for
from routing_speed import bench_speed
from run_all import BIN, RESULTS, ROOT, free_port, machine, postgres_version

TEAMS, REPS_PER_TEAM, RULES = 20, 10, 50

SETUP_TEAMS = f"""
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts import services as accounts
from leadloop.accounts.models import Role
from leadloop.distribution import services

teams = []
for t in range({TEAMS}):
    team = accounts.get_or_create_team(name=f"Team {{t:02d}}", manager=None)
    teams.append(team)
    for r in range({REPS_PER_TEAM}):
        accounts.create_user(username=f"rep{{t:02d}}{{r:02d}}", role=Role.SALES_REP, team=team,
                             password=None, first_name="Rep", last_name=f"{{t}}-{{r}}")
rules = []
width = 9000 // ({RULES} - 1)
for i in range({RULES} - 1):
    low = 1000 + i * width
    conditions = [f"country = NL", f"postal_code between {{low}} and {{low + width - 1}}"]
    if i % 3 == 0:
        conditions.append("grade in A, B")
    if i % 5 == 0:
        conditions.append("extra.product = heat pump")
    if i % 7 == 0:
        conditions.append("source in Web, Partner feed")
    rules.append({{"name": f"Rule {{i}}", "conditions": "\\n".join(conditions),
                  "action": {{"kind": "team", "team_id": teams[i % {TEAMS}].pk, "mode": "push"}}}})
services.publish(by=SYSTEM, document={{"rules": rules,
    "default": {{"kind": "team", "team_id": teams[0].pk, "mode": "pool"}}}})
"""

DECIDE = """
import random, statistics
from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.services import create_lead
from leadloop.distribution import engine, selectors, services
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import Lead, LeadStatus

rng = random.Random(1)
source = leads.create_source(name="Web", kind="http_post", by=SYSTEM).source
rule_set = selectors.active_rule_set()

def fields():
    return {
        "country": rng.choice(["NL"] * 8 + ["BE", "DE"]),
        "postal_code": f"{rng.randint(1000, 9999)} {rng.choice(['AB', 'CD', 'XY'])}",
        "extra": {"product": rng.choice(["heat pump", "solar panels", "battery"])},
    }

leads_in_memory = []
for _ in range(5000):
    lead = Lead(source=source, fit_grade=rng.choice("ABCD"), **fields())
    leads_in_memory.append(lead)
times = []
matched = 0
for lead in leads_in_memory:
    began = time.perf_counter_ns()
    match = engine.decide(rule_set.rules, rule_set.default, lead)
    times.append((time.perf_counter_ns() - began) / 1000)
    matched += not match.is_default
times.sort()
ids = []
with events.isolated():
    for i in range(500):
        lead = create_lead({"first_name": "Bench", "last_name": f"Route{i}", **fields()},
                           source=source, by=SYSTEM)
        if lead.status != LeadStatus.SALES_READY:
            lead = leads.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
        ids.append(lead.pk)
route_ms = []
outcomes = {}
for lead_id in ids:
    began = time.perf_counter()
    decision = services.route_lead(lead_id)
    route_ms.append((time.perf_counter() - began) * 1000)
    outcomes[decision.outcome] = outcomes.get(decision.outcome, 0) + 1
route_ms.sort()
pick = lambda values, p: values[min(len(values) - 1, int(p / 100 * len(values)))]
print(json.dumps({
    "rules": len(rule_set.rules), "leads": len(times), "matched_a_rule": matched,
    "decide_us_p50": round(statistics.median(times), 1),
    "decide_us_p99": round(pick(times, 99), 1),
    "route_ms_p50": round(statistics.median(route_ms), 2),
    "route_ms_p99": round(pick(route_ms, 99), 2),
    "outcomes": outcomes,
}))
"""


def bench_decide(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir)
    env = fresh_env("sqlite", workdir, args.pg_url, "decide")
    env["TASKS_BACKEND"] = "dummy"
    python(SETUP_TEAMS, env)
    result = json.loads(python(DECIDE, env).strip().splitlines()[-1])
    print(
        f"[decide] {result['rules']} rules, {TEAMS} teams, {TEAMS * REPS_PER_TEAM} reps: decide "
        f"p50 {result['decide_us_p50']} µs, p99 {result['decide_us_p99']} µs over "
        f"{result['leads']} leads ({result['matched_a_rule']} matched a rule) | route_lead "
        f"p50 {result['route_ms_p50']} ms, p99 {result['route_ms_p99']} ms ({result['outcomes']})"
    )
    return result


# --- claims ---------------------------------------------------------------------------------

SETUP_POOL = """
import datetime as dt
from django.db import transaction
from django.utils import timezone
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts import services as accounts
from leadloop.accounts.models import Role
from leadloop.leads import events
from leadloop.leads import services as leads
from leadloop.leads.models import Lead, LeadStatus

team = accounts.get_or_create_team(name="Pool team", manager=None)
reps = [accounts.create_user(username=f"claimer{i:02d}", role=Role.SALES_REP, team=team,
                             password=None) for i in range(REPS)]
source = leads.create_source(name="Pool source", kind="http_post", by=SYSTEM).source
now = timezone.now() - dt.timedelta(hours=1)
with events.isolated(), transaction.atomic():
    for start in range(0, LEADS, 2000):
        rows = [{"first_name": "Pool", "last_name": f"Lead{i}", "priority": i % 100,
                 "status": LeadStatus.SALES_READY, "created_at": now, "updated_at": now,
                 "team_id": team.pk}
                for i in range(start, min(LEADS, start + 2000))]
        leads.insert_new_leads(rows, source=source, by=SYSTEM, notes=[{}] * len(rows), at=now)
print(json.dumps([accounts.issue_api_key(rep).raw for rep in reps]))
"""

CHECK = """
from django.db.models import Count
from leadloop.distribution.models import PoolClaim
from leadloop.leads.models import Lead
per_lead = PoolClaim.objects.values("lead_id").annotate(n=Count("id"))
print(json.dumps({
    "claims": PoolClaim.objects.count(),
    "leads_claimed": per_lead.count(),
    "most_claims_of_one_lead": max((row["n"] for row in per_lead), default=0),
    "left_in_pool": Lead.objects.filter(assigned_to__isnull=True).count(),
}))
"""


def _claimer(port: int, key: str, out: dict[str, Any]) -> None:
    """One rep: "take the next lead" through the API until the pool is empty."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    taken, other, times = [], 0, []
    while True:
        began = time.perf_counter()
        conn.request("POST", "/api/v1/distribution/pool/claim", "{}", headers)
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - began) * 1000)
        if response.status == 201:
            taken.append(json.loads(body)["lead_id"])
        elif response.status == 409:
            break
        else:
            other += 1
            if other > 100:
                break
    out.update(taken=taken, other=other, times=times)


def bench_claims(db: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir)
    env = fresh_env(db, workdir, args.pg_url, "claims")
    env["TASKS_BACKEND"] = "dummy"
    env["LEADLOOP_AUDIT_VIEWS"] = "false"
    setup = SETUP_POOL.replace("REPS", str(args.claimers)).replace("LEADS", str(args.pool))
    keys = json.loads(python(setup, env).strip().splitlines()[-1])
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "leadloop"), "serve", "--no-worker", "--workers", "2",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(port)
        outs: list[dict[str, Any]] = [{} for _ in keys]
        threads = [
            threading.Thread(target=_claimer, args=(port, key, out))
            for key, out in zip(keys, outs, strict=True)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(timeout=20)
    check = json.loads(python(CHECK, env).strip().splitlines()[-1])
    taken = [lead for out in outs for lead in out["taken"]]
    times = sorted(t for out in outs for t in out["times"])
    per_rep = sorted(len(out["taken"]) for out in outs)
    result = {
        "database": db,
        "claimers": len(keys),
        "pool": args.pool,
        "seconds": round(seconds, 2),
        "claims_per_s": round(len(taken) / seconds, 1),
        "claim_ms_p50": round(times[len(times) // 2], 1),
        "claim_ms_p99": round(times[min(len(times) - 1, int(0.99 * len(times)))], 1),
        "per_claimer_min_max": [per_rep[0], per_rep[-1]],
        "answered_twice": len(taken) - len(set(taken)),
        "other_answers": sum(out["other"] for out in outs),
        **check,
    }
    print(
        f"[claims {db}] {len(keys)} reps emptied a pool of {args.pool} through the API in "
        f"{seconds:.1f} s: {result['claims_per_s']} claims/s, p50 {result['claim_ms_p50']} ms, "
        f"p99 {result['claim_ms_p99']} ms; each took {per_rep[0]}–{per_rep[-1]}; "
        f"{check['leads_claimed']} leads claimed, {result['answered_twice']} given twice, most "
        f"claims of one lead {check['most_claims_of_one_lead']}, {check['left_in_pool']} left, "
        f"{result['other_answers']} other answers"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="decide,claims,speed")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--claimers", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run")
    parser.add_argument("--rate", type=int, default=100, help="leads a second, speed to lead")
    parser.add_argument("--duration", type=int, default=60, help="seconds, speed to lead")
    parser.add_argument("--poll", type=float, default=0.1, help="the worker's poll interval")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/routing")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    info = machine()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if "postgres" in databases:
        try:
            info["postgresql"] = postgres_version(args.pg_url)
        except Exception as exc:
            print(f"PostgreSQL at {args.pg_url} is not reachable ({exc}); skipping it.")
            databases.remove("postgres")
    print(json.dumps(info))
    report: dict[str, Any] = {"machine": info}
    if "decide" in parts:
        report["decide"] = bench_decide(args)
    if "claims" in parts:
        report["claims"] = [bench_claims(db, args) for db in databases]
    if "speed" in parts:
        if shutil.which("wrk") is None:
            sys.exit("wrk is not installed: apt-get install wrk")
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(LUA)
        report["speed"] = [bench_speed(db, args, handle.name) for db in databases]
        os.unlink(handle.name)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = RESULTS / f"routing-{stamp}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
