"""Speed to lead and the intake with routing on (bench/routing.py --parts speed; its docstring
says what is measured)."""

from __future__ import annotations

import argparse
import http.client
import json
import random
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from intake_http import prepare, wrk
from routing_common import python, wait_for
from run_all import BIN, ROOT, AutovacuumStandIn, free_port

# --- speed to lead --------------------------------------------------------------------------

READY_AND_RULES = """
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts import services as accounts
from leadloop.accounts.models import Role
from leadloop.assessment.models import ScoringSettings
from leadloop.distribution import services

# Every lead the bench posts passes the readiness rule, so every one is routed.
ScoringSettings.objects.update_or_create(pk=1, defaults={
    "ready_grades": "", "ready_min_engagement": 0, "ready_min_bant": 0,
    "ready_min_predictive": None})
team = accounts.get_or_create_team(name="Speed team", manager=None)
for i in range(10):
    accounts.create_user(username=f"speed{i}", role=Role.SALES_REP, team=team, password=None)
"""

PUBLISH = """
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Team
from leadloop.distribution import services
team = Team.objects.get(name="Speed team")
services.publish(by=SYSTEM, document={"rules": [
    {"name": "NL", "conditions": "country = NL",
     "action": {"kind": "team", "team_id": team.pk, "mode": "push"}}],
    "default": {"kind": "team", "team_id": team.pk, "mode": "pool"}})
"""

LATENCY = """
from django.db.models import Count
from leadloop.distribution.models import RouteDecision
from leadloop.leads.models import Lead
since = SINCE
rows = list(RouteDecision.objects.filter(lead__created_at__gte=since).values_list(
    "at", "lead__created_at", "outcome"))
made = Lead.objects.filter(created_at__gte=since).count()
ms = sorted((at - created).total_seconds() * 1000 for at, created, _ in rows)
pick = lambda p: ms[min(len(ms) - 1, int(p / 100 * len(ms)))] if ms else None
outcomes = {}
for *_x, outcome in rows:
    outcomes[outcome] = outcomes.get(outcome, 0) + 1
print(json.dumps({"leads": made, "routed": len(rows), "p50_ms": pick(50), "p99_ms": pick(99),
                  "max_ms": ms[-1] if ms else None, "outcomes": outcomes}))
"""

FIRSTS = ["Anna", "Bram", "Carla", "Daan", "Eva", "Finn", "Gijs", "Hanna", "Iris", "Jan"]
LASTS = ["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"]


def _paced_posts(port: int, key: str, rate: int, duration: int) -> dict[str, Any]:
    """POST `rate` distinct leads a second for `duration` seconds from 4 threads."""
    threads, answers, lock = 4, {"201": 0, "other": 0}, threading.Lock()
    began = time.monotonic() + 0.5

    def work(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        rng = random.Random(offset)
        n = offset
        while True:
            due = began + n / rate
            if due > began + duration:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            body = json.dumps({
                "first_name": rng.choice(FIRSTS), "last_name": f"{rng.choice(LASTS)} {n}",
                "email": f"speed{n}.{rng.randint(0, 10**9)}@bedrijf{n % 97}.nl",
                "phone": f"06{rng.randint(10_000_000, 99_999_999)}", "country": "NL",
            })  # fmt: skip
            conn.request("POST", f"/in/{key}", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            with lock:
                answers["201" if response.status == 201 else "other"] += 1
            n += threads

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return answers


WAITING = """
from leadloop.distribution import services
from leadloop.distribution.models import RuleSet
# Leads from before the rules were published were never queued: they are not the backlog.
since = RuleSet.objects.order_by("version").values_list("published_at", flat=True).first()
print(len(services.waiting_ids(undecided_only=True, since=since, limit=100000)))
"""


def _drain(env: dict[str, str], *, deadline: float) -> float:
    """Wait until the worker has routed every waiting lead; seconds it took."""
    began = time.monotonic()
    while time.monotonic() < deadline:
        if int(python(WAITING, env).strip().splitlines()[-1]) == 0:
            break
        time.sleep(1)
    return round(time.monotonic() - began, 1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process; a worker finishes its task first (a routing run that sells waits for
    its auctions), so it gets a minute before it is killed."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


def bench_speed(db: str, args: argparse.Namespace, lua_path: str) -> dict[str, Any]:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = prepare(db, workdir, args.pg_url)
    python(READY_AND_RULES, env)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "leadloop"), "serve", "--no-worker", "--workers", "2",
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def start_worker() -> subprocess.Popen[bytes]:
        command = [str(BIN / "leadloop"), "worker", "--no-scheduler", "--interval", str(args.poll)]
        nice = int(getattr(args, "worker_nice", 0) or 0)
        if nice:  # the worker below the web server's CPU priority (systemd's Nice=)
            command = ["nice", "-n", str(nice), *command]
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    worker = start_worker()
    autovacuum = AutovacuumStandIn(env)
    try:
        autovacuum.start()
        wait_for(port)
        url = f"http://127.0.0.1:{port}/in/{env['SOURCE_KEY']}"
        wrk(url, 2, lua_path)
        off = wrk(url, args.seconds, lua_path)
        python(PUBLISH, env)
        time.sleep(6)  # the web workers' cached rules (5 s) see the published version
        # Routing on, the worker stopped: what queueing the routing costs the intake itself.
        _stop(worker)
        queued_only = wrk(url, args.seconds, lua_path)
        worker = start_worker()
        backlog = _drain(env, deadline=time.monotonic() + 600)
        # Routing on and the worker routing beside the intake, on the same database.
        on = wrk(url, args.seconds, lua_path)
        _drain(env, deadline=time.monotonic() + 600)
        since = python("from django.utils import timezone; print(timezone.now().isoformat())", env)
        answers = _paced_posts(port, env["SOURCE_KEY"], args.rate, args.duration)
        time.sleep(5)
        code = "import datetime as dt\n" + LATENCY.replace(
            "SINCE", f"dt.datetime.fromisoformat({since.strip()!r})"
        )
        latency = json.loads(python(code, env).strip().splitlines()[-1])
    finally:
        autovacuum.finish()
        for proc in (server, worker):
            _stop(proc)
    result = {
        "database": db,
        "intake_without_routing": off,
        "intake_routing_queued_worker_stopped": queued_only,
        "queued_vs_without": round(queued_only["rps"] / off["rps"], 3) if off["rps"] else None,
        "backlog_drain_s": backlog,
        "intake_with_routing": on,
        "with_vs_without": round(on["rps"] / off["rps"], 3) if off["rps"] else None,
        "rate": args.rate,
        "duration_s": args.duration,
        "answers": answers,
        "speed_to_lead": latency,
        "stand_in_analyzes": autovacuum.analyzed,
    }
    print(json.dumps(result, default=str))
    if latency["p50_ms"] is None:
        return result
    print(
        f"[speed {db}] intake without routing {off['rps']:.0f} leads/s; routing queued, worker "
        f"stopped {queued_only['rps']:.0f} leads/s ({result['queued_vs_without']:.0%}); worker "
        f"routing alongside {on['rps']:.0f} leads/s ({result['with_vs_without']:.0%}) | "
        f"{args.rate} leads/s for "
        f"{args.duration} s: {latency['routed']} of {latency['leads']} routed, created → routed "
        f"p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms, max "
        f"{latency['max_ms']:.0f} ms ({answers})"
    )
    return result
