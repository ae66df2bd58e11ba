"""Selling benchmarks (docs/benchmarks.md, "Selling leads").

    .venv/bin/python bench/selling.py [--parts auction,intake] [--databases sqlite,postgres]

auction     Ten local buyer servers in a process of their own: seven answer pings at once with a
            price, two are slow (their bids come after 2 s, past the 750 ms deadline; their ping
            time-out is longer than the deadline, so the deadline is what stops the wait), one
            answers every ping with a 500. After --warmup seconds of auctions at the same rate
            (timed apart: they open the connections a worker opens once after it starts),
            auctions are started at --rate a second for --duration seconds, split between
            --processes processes (2: as two workers would),
            each auction in a thread of a pool (each thread keeps its database connection, as
            a routing run's threads do), each the whole `sell_lead`: open the auction, ping in
            parallel, rank, post to the winner, record the sale and charge it. Prints the
            auctions' total time (p50, p99, max) against the deadline + 50 ms, how many sold,
            and the rate achieved.
deliveries  (run with auction) One local buyer that accepts; --deliveries sales written
            beforehand, then delivered by 2 processes of 4 threads (`auction.deliver`: post,
            read the answer, log, record, charge, the lead's timeline), as two workers would.
            Prints deliveries a second and the time per delivery.
intake      The intake with routing and selling on: bench/routing.py's speed part with a rule
            that sells every lead to the ten buyers (falling back to a team push when none
            buys), against `leadloop serve --no-worker` and one `leadloop worker` (with
            --worker-nice N, under `nice -n N`: below the web server's CPU priority).
"""

from __future__ import annotations

import argparse
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

import routing_speed
from intake_http import LUA
from routing_common import fresh_env, python
from run_all import BIN, RESULTS, ROOT, AutovacuumStandIn, machine, postgres_version

BUYERS = """
import json, sys, time
sys.path.insert(0, "SRC")
from leadloop.distribution.selling import fakebuyer
servers = []
for n in range(10):
    behaviour = "error" if n == 9 else "accept"
    server, state = fakebuyer.start(behaviour=behaviour, price=f"{20 + n}.00")
    if n in (7, 8):
        state.ping_delay = 2.0
    servers.append(server)
print(json.dumps([s.server_address[1] for s in servers]), flush=True)
while True:
    time.sleep(60)
"""

# The ten buyers: four at a fixed price (15-18), six bidding by ping (24-29; 27 and 28 slow,
# with a ping time-out past the deadline; 29 failing), every one with funds to spare.
BUYER_ROWS = """
from leadloop.accounts.actors import SYSTEM
from leadloop.distribution.selling.services import buyers
ports = PORTS
for n, port in enumerate(ports):
    data = {"name": f"Buyer {n}", "price": f"{15 + n}", "url": f"http://127.0.0.1:{port}/lead",
            "retries": 0, "timeout_ms": 2000}
    if n >= 4:
        data.update(pings=True, ping_url=f"http://127.0.0.1:{port}/ping",
                    ping_timeout_ms=2000 if n in (7, 8) else 500)
    buyer = buyers.save_buyer(data, by=SYSTEM)
    buyers.top_up(buyer.pk, "10000000", by=SYSTEM)
"""

SETUP = (
    BUYER_ROWS
    + """
from leadloop.assessment.services import create_lead
from leadloop.leads import events
from leadloop.leads import services as leads
source = leads.create_source(name="Bench", kind="http_post", by=SYSTEM).source
from django.db import connection
FIRSTS = ["Anna", "Bram", "Carla", "Daan", "Eva", "Finn", "Gijs", "Hanna", "Iris", "Jan"]
ids = []
with events.isolated():
    for n in range(LEADS):
        if n % 250 == 0:
            # A fresh database has no statistics; the duplicate check's lookups need them.
            connection.cursor().execute("ANALYZE")
        # Distinct people in distinct places: the duplicate check's blocks stay small.
        ids.append(create_lead({"first_name": FIRSTS[n % 10], "last_name": f"Lead{n}",
                                "email": f"lead{n}@bedrijf{n % 97}.nl", "country": "NL",
                                "postal_code": f"{1000 + n % 8999} AB"},
                               source=source, by=SYSTEM).pk)
print(json.dumps(ids))
"""
)

AUCTIONS = """
import threading
from concurrent.futures import ThreadPoolExecutor
from django.db import connections
from leadloop.distribution.selling.models import Bid
from leadloop.distribution.selling.services.auction import sell_lead
from leadloop.distribution.services.sell_step import close_from_here
ids = IDS
rate, duration = RATE, DURATION
times, sold, errors, lock = [], [0], [], threading.Lock()

used = set()

def one(lead_id):
    # Each thread keeps its connection, as a routing run's threads do (sell_step).
    with lock:
        used.add(connections["default"])
    began = time.perf_counter()
    try:
        result = sell_lead(lead_id)
        took = (time.perf_counter() - began) * 1000
        with lock:
            times.append(took)
            sold[0] += len(result.sold)
    except Exception as exc:
        with lock:
            errors.append(repr(exc)[:200])

pool = ThreadPoolExecutor(max_workers=40)  # two processes stay under 100 connections
# The warm-up: auctions at the same rate before the measured ones, timed apart. They open the
# threads' database connections, the ping threads and the kept connections to the buyers, as
# a worker does once after it starts.
warm, warm_times = WARM, []
start = time.perf_counter()
futures = []
for n, lead_id in enumerate(warm):
    time.sleep(max(0.0, start + n / rate - time.perf_counter()))
    futures.append(pool.submit(one, lead_id))
for future in futures:
    future.result()
with lock:
    warm_times, times[:], sold[0] = sorted(times), [], 0
start = time.perf_counter()
count = min(len(ids), int(rate * duration))
for n in range(count):
    due = start + n / rate
    time.sleep(max(0.0, due - time.perf_counter()))
    pool.submit(one, ids[n])
submitted = time.perf_counter() - start
pool.shutdown(wait=True)
close_from_here(used)
times.sort()
pick = lambda p: round(times[min(len(times) - 1, int(p / 100 * len(times)))], 1) if times else None
outcomes = {}
for outcome, buyer in Bid.objects.filter(auction__lead_id__in=ids).values_list(
        "outcome", "buyer__name"):
    outcomes.setdefault(buyer, {}).setdefault(outcome, 0)
    outcomes[buyer][outcome] += 1
def warm_pick(p):
    if not warm_times:
        return None
    return round(warm_times[min(len(warm_times) - 1, int(p / 100 * len(warm_times)))], 1)

print(json.dumps({"auctions": count, "offered_rate": round(count / submitted, 1),
                  "warm": {"auctions": len(warm), "p50_ms": warm_pick(50),
                           "p99_ms": warm_pick(99),
                           "max_ms": warm_times[-1] if warm_times else None},
                  "ms": times, "p50_ms": pick(50), "p99_ms": pick(99),
                  "max_ms": round(times[-1], 1) if times else None,
                  "sold": sold[0], "errors": errors[:5], "error_count": len(errors),
                  "bids": outcomes}))
"""

DELIVERIES = """
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from django.db import connections
from django.utils import timezone
from leadloop.distribution.selling.models import Buyer, Sale
from leadloop.distribution.selling.services import auction, market
from leadloop.distribution.services.sell_step import close_from_here
ids = IDS
buyer = Buyer.objects.get(name="Buyer 0")
sales = [market.reserve(buyer.pk, lead_id, Decimal("15"), auction_id=None, now=timezone.now())
         for lead_id in ids]
times, lock, used = [], threading.Lock(), set()

def one(sale):
    with lock:
        used.add(connections["default"])
    began = time.perf_counter()
    state = auction.deliver(sale, by=auction.SELLING)
    with lock:
        times.append(((time.perf_counter() - began) * 1000, state))

start = time.perf_counter()
with ThreadPoolExecutor(max_workers=THREADS) as pool:
    list(pool.map(one, sales))
seconds = time.perf_counter() - start
close_from_here(used)
ms = sorted(t for t, _s in times)
states = {}
for _t, s in times:
    states[s] = states.get(s, 0) + 1
pick = lambda p: round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 1)
print(json.dumps({"deliveries": len(ms), "seconds": round(seconds, 2), "ms": ms,
                  "states": states}))
"""

SELL_RULES = (
    BUYER_ROWS
    + """
from leadloop.accounts.models import Team
from leadloop.distribution import services
team = Team.objects.get(name="Speed team")
services.publish(by=SYSTEM, document={"rules": [
    {"name": "Sell NL", "conditions": "country = NL", "action": {"kind": "sell"}}],
    "default": {"kind": "team", "team_id": team.pk, "mode": "push"}})
"""
)


def _buyer_servers() -> tuple[subprocess.Popen[str], list[int]]:
    code = BUYERS.replace("SRC", str(ROOT / "src"))
    proc = subprocess.Popen(
        [str(BIN / "python"), "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    ports = json.loads(proc.stdout.readline())
    return proc, ports


def _last_json(out: str) -> Any:
    return json.loads(out.strip().splitlines()[-1])


def _side_by_side(codes: list[str], env: dict[str, str]) -> list[Any]:
    """Run each code in a process of its own, all at once; their last lines as JSON."""
    outs: list[Any] = [None] * len(codes)

    def work(n: int) -> None:
        outs[n] = _last_json(python(codes[n], env))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(codes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outs


def _pick(ms: list[float], p: float) -> float | None:
    return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 1) if ms else None


def bench_auction(db: str, args: argparse.Namespace, ports: list[int]) -> dict[str, Any]:
    env = fresh_env(db, Path(args.workdir), args.pg_url, "selling")
    env["TASKS_BACKEND"] = "dummy"
    env["LEADLOOP_ALLOW_PRIVATE_HOSTS"] = "true"
    count = int(args.rate * args.duration)
    warm = int(args.rate * args.warmup)
    setup = SETUP.replace("PORTS", json.dumps(ports)).replace(
        "LEADS", str(count + warm + args.deliveries)
    )
    ids = _last_json(python(setup, env))
    stand_in = AutovacuumStandIn(env)
    stand_in.start()
    try:
        result = _auctions_and_deliveries(db, args, env, ids, count, warm)
    finally:
        stand_in.finish()
    result["stand_in_analyzes"] = stand_in.analyzed
    return result


def _auctions_and_deliveries(
    db: str, args: argparse.Namespace, env: dict[str, str], ids: list[int], count: int, warm: int
) -> dict[str, Any]:
    procs = args.processes
    warm_ids, ids = ids[count : count + warm], ids[:count] + ids[count + warm :]
    outs = _side_by_side(
        [
            AUCTIONS.replace("IDS", json.dumps(ids[:count][n::procs]))
            .replace("WARM", json.dumps(warm_ids[n::procs]))
            .replace("RATE", str(args.rate / procs))
            .replace("DURATION", str(args.duration))
            for n in range(procs)
        ],
        env,
    )
    ms = sorted(t for out in outs for t in out["ms"])
    bids: dict[str, dict[str, int]] = {}
    for out in outs:
        for buyer, counts in out["bids"].items():
            for outcome, n in counts.items():
                bids.setdefault(buyer, {}).setdefault(outcome, 0)
                bids[buyer][outcome] += n
    result = {
        "database": db,
        "processes": procs,
        "auctions": sum(out["auctions"] for out in outs),
        "offered_rate": round(sum(out["offered_rate"] for out in outs), 1),
        "p50_ms": _pick(ms, 50),
        "p99_ms": _pick(ms, 99),
        "max_ms": round(ms[-1], 1) if ms else None,
        "warmup_s": args.warmup,
        "warm": [out["warm"] for out in outs],
        "sold": sum(out["sold"] for out in outs),
        "error_count": sum(out["error_count"] for out in outs),
        "errors": [e for out in outs for e in out["errors"]][:5],
        "bids": bids,
    }
    budget = 750 + 50
    print(
        f"[auction {db}] {result['auctions']} auctions offered at {result['offered_rate']}/s "
        f"by {procs} processes among 10 buyers (2 slow, 1 failing): total p50 "
        f"{result['p50_ms']} ms, p99 {result['p99_ms']} ms (budget {budget} ms), max "
        f"{result['max_ms']} ms; {result['sold']} sold, {result['error_count']} errors "
        f"(after {args.warmup} s of warm-up: p99 of those "
        f"{[w['p99_ms'] for w in result['warm']]} ms)"
    )
    parts = [ids[count:][n :: args.processes] for n in range(args.processes)]
    delivered = _side_by_side(
        [DELIVERIES.replace("IDS", json.dumps(part)).replace("THREADS", "4") for part in parts],
        env,
    )
    ms = sorted(t for out in delivered for t in out["ms"])
    seconds = max(out["seconds"] for out in delivered)
    states: dict[str, int] = {}
    for out in delivered:
        for state, n in out["states"].items():
            states[state] = states.get(state, 0) + n
    charged = python(
        "from leadloop.distribution.selling.models import LedgerEntry\n"
        "print(LedgerEntry.objects.filter(kind='sale', sale__auction__isnull=True).count())",
        env,
    )
    result["deliveries"] = {
        "deliveries": len(ms),
        "processes": args.processes,
        "threads_each": 4,
        "seconds": seconds,
        "per_s": round(len(ms) / seconds, 1),
        "p50_ms": _pick(ms, 50),
        "p99_ms": _pick(ms, 99),
        "states": states,
        "charged": int(charged.strip().splitlines()[-1]),
    }
    found = result["deliveries"]
    print(
        f"[deliveries {db}] {len(ms)} posts to a local buyer by {args.processes} processes of "
        f"4 threads: {found['per_s']}/s, p50 {found['p50_ms']} ms, p99 {found['p99_ms']} ms "
        f"{states}, charged {found['charged']}"
    )
    return result


def bench_intake(db: str, args: argparse.Namespace, ports: list[int], lua: str) -> dict[str, Any]:
    """bench/routing.py's speed part, with the rules publishing a sale to the ten buyers."""
    original_prepare = routing_speed.prepare

    def prepare(*a: Any, **kw: Any) -> dict[str, str]:
        env = original_prepare(*a, **kw)
        env["LEADLOOP_ALLOW_PRIVATE_HOSTS"] = "true"
        return env

    routing_speed.prepare = prepare
    routing_speed.PUBLISH = SELL_RULES.replace("PORTS", json.dumps(ports))
    try:
        return routing_speed.bench_speed(db, args, lua)
    finally:
        routing_speed.prepare = original_prepare


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="auction,intake")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--rate", type=int, default=50, help="auctions (or leads) a second")
    parser.add_argument("--duration", type=int, default=30, help="seconds")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument(
        "--warmup", type=float, default=3, help="seconds of auctions before the timed ones"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="processes selling side by side (as workers)"
    )
    parser.add_argument("--seconds", type=int, default=15, help="each wrk run (intake)")
    parser.add_argument("--poll", type=float, default=0.1, help="the worker's poll interval")
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="run the worker under `nice -n N` (intake)"
    )
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/selling")
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
    servers, ports = _buyer_servers()
    try:
        if "auction" in parts:
            report["auction"] = [bench_auction(db, args, ports) for db in databases]
        if "intake" in parts:
            if shutil.which("wrk") is None:
                sys.exit("wrk is not installed: apt-get install wrk")
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
                handle.write(LUA)
            report["intake"] = [bench_intake(db, args, ports, handle.name) for db in databases]
            os.unlink(handle.name)
    finally:
        servers.terminate()
        servers.wait(timeout=20)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = RESULTS / f"selling-{stamp}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
