"""HTTP intake of single JSON leads at 32 concurrent connections, beside a bare insert endpoint.

    .venv/bin/python bench/intake_http.py [--databases sqlite,postgres] [--seconds 15]
        [--into postgres://postgres@127.0.0.1:5432/leadloop_bench_5000000]

For each database: a fresh bench database (never var/ or DATABASE_URL), `leadloop serve
--no-worker` (granian, WSGI; --workers 2, one blocking thread each on SQLite) with
LEADLOOP_BENCH_ENDPOINTS=1, then wrk (Debian package `wrk`) with 2 threads and 32 connections
posting a distinct lead per request — first to /bench/bare (a django-ninja POST inserting one
row), then to /in/<source key> (the whole intake: raw row, parse, map, validate phone and e-mail,
lead + timeline, answer). Prints requests/s and latency p50/p99 from wrk, and checks every
intake request made exactly one lead.

--into names an already loaded PostgreSQL database instead (bench/run_all.py's
`leadloop_bench_<N>`, docs/scaling.md): the intake is measured against its millions of leads,
whose indexes the duplicate check probes. The leads posted stay in it, so run the list bench on
it first (`run_all.py --reuse` reloads a database whose count changed).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import BIN, RESULTS, ROOT, _pg, free_port, machine, postgres_version, run

LUA = """
local counter = 0
local thread_id = 0
-- Distinct, plausible people: a first and a last name from lists (100 x 100), a business
-- domain, a mobile number. Posting "Ann Bench123 @example.com" made every lead test data with
-- a mashed name (held for fraud review) and a duplicate of the one before (same company and
-- nearly the same name): the worst case of every stage, not the intake's daily work.
local firsts = {"Anna","Bram","Carla","Daan","Eva","Finn","Gijs","Hanna","Iris","Jan","Kees",
  "Lotte",
  "Maarten","Noa","Olaf","Petra","Quinten","Roos","Sem","Tessa","Utku","Vera","Wouter","Yara",
  "Zoe",
  "Anouk","Bas","Chantal","Dirk","Emma","Floor","Gert","Hugo","Ilse","Joost","Karin","Lars",
  "Mila",
  "Niels","Olga","Pim","Rik","Sanne","Thijs","Ulla","Vince","Willem","Xander","Yvonne","Zeger",
  "Amir","Bilal","Chloe","Dewi","Elif","Fatma","Ghislaine","Hamza","Ines","Jasper","Kim","Liam",
  "Mees","Nina","Otto","Pieter","Rosa","Sophie","Tim","Ugo","Valerie","Wim","Youssef","Zara",
  "Arjen","Bente","Cas","Dana","Esther","Frank","Greet","Henk","Ivo","Julia","Koen","Lieke",
  "Marco","Nadia","Oscar","Paula","Remco","Sara","Tom","Ruben","Vincent","Ward","Yasmin",
  "Loes","Mark","Jeroen"}
local lasts = {"Jansen","de Vries","van den Berg","Bakker","Visser","Smit","Meijer","de Boer",
  "Mulder",
  "de Groot","Bos","Vos","Peters","Hendriks","van Leeuwen","Dekker","Brouwer","de Wit",
  "Dijkstra",
  "Smits","de Graaf","van der Meer","van der Linden","Kok","Jacobs","de Haan","Vermeulen",
  "van den Heuvel",
  "van der Veen","van den Broek","de Bruijn","de Bruin","van der Heijden","Schouten",
  "van Beek","Willems",
  "van Vliet","van de Ven","Hoekstra","Maas","Verhoeven","Koster","van Dam","van der Wal",
  "Prins","Blom",
  "Huisman","Peeters","de Jong","Kuipers","van Wijk","Post","Kuiper","Veenstra","Kramer",
  "van den Brink",
  "Scholten","van Wijngaarden","Martens","Vink","de Ruiter","Timmermans","Groen","Gerritsen",
  "Jonker",
  "van Loon","Boer","van der Velde","Willemsen","Smeets","de Lange","de Vos","Bosch",
  "van Dijk","Janssen",
  "Sanders","Claes","Goossens","Wouters","Maes","Mertens","Lambert","Dubois","Leclercq",
  "Aydin","Yilmaz",
  "El Amrani","Bouzid","Nguyen","Tran","Schmidt","Muller","Fischer","Weber","Wagner","Becker",
  "Hoffmann",
  "Schulz","Koch","Richter"}
setup = function(thread) thread:set("tid", thread_id); thread_id = thread_id + 1 end
-- Every wrk run passes its own run number, so no two runs post the same bytes (a repeat within
-- minutes is answered as a duplicate, which would flatter the figures).
init = function(args) counter = tonumber(args[1]) * 1000000 end
request = function()
  counter = counter + 1
  local n = tid * 5000000 + counter
  local k = counter * 2 + tid  -- the two threads take turns through the same people
  local first = firsts[k % #firsts + 1]
  local last = lasts[math.floor(k / #firsts) % #lasts + 1]
  local body = string.format(
    '{"first_name": "%s", "last_name": "%s", "email": "%s.%d@firma%d.nl", '
    .. '"phone": "061%07d", "company_name": "Firma %d BV", "country": "NL"}',
    first, last, string.lower(first), n, k % 7919, n % 10000000, k % 7919)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


_runs = iter(range(1, 10_000))


def wrk(url: str, seconds: int, lua_path: str) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", lua_path, url, "--",
         str(next(_runs))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": requests,
        "rps": rps,
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "",
    }


def prepare(db: str, workdir: Path, pg_url: str, into: str = "") -> dict[str, str]:
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(workdir), "TASKS_BACKEND": "db",
        "LEADLOOP_VAR_DIR": str(workdir), "LEADLOOP_BENCH_ENDPOINTS": "1",
        "LEADLOOP_LOG_LEVEL": "WARNING",
        # wrk posts from one address far faster than the default limits allow; limits this
        # high are still counted on every post (their cost is in the figures) but never trip.
        "LEADLOOP_INTAKE_LIMIT_PER_SOURCE": "1000000000",
        "LEADLOOP_INTAKE_LIMIT_PER_ADDRESS": "1000000000",
    }  # fmt: skip
    if into:
        env["DATABASE_URL"] = into
    elif db == "sqlite":
        path = workdir / "intake.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["LEADLOOP_SQLITE_PATH"] = str(path)
    else:
        import psycopg

        with psycopg.connect(_pg(pg_url, "postgres"), autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "leadloop_bench_intake"')
            conn.execute('CREATE DATABASE "leadloop_bench_intake"')
        env["DATABASE_URL"] = f"{pg_url}/leadloop_bench_intake"
    run([str(BIN / "leadloop"), "migrate", "-v0"], env)
    created = run(
        [str(BIN / "leadloop"), "sources", "create", "Bench provider", "--country", "NL", "--json"],
        env, capture=True,
    )  # fmt: skip
    env["SOURCE_KEY"] = json.loads(created)["key"]
    return env


def count(env: dict[str, str], sql: str) -> int:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE']='leadloop.settings'; "
        "django.setup(); from django.db import connection; c=connection.cursor(); "
        f"c.execute({sql!r}); print(c.fetchone()[0])"
    )
    return int(run([str(BIN / "python"), "-c", code], env, capture=True).strip())


def bench(db: str, args: argparse.Namespace, lua_path: str) -> dict[str, Any]:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = prepare(db, workdir, args.pg_url, args.into)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "leadloop"), "serve", "--no-worker", "--workers", str(args.web_workers),
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{port}/login/"],
                capture_output=True, text=True,
            )  # fmt: skip
            if probe.stdout == "200":
                break
            time.sleep(0.3)
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/bench/bare", 2, lua_path)  # warm-up of both paths
        wrk(f"{base}/in/{env['SOURCE_KEY']}", 2, lua_path)
        leads_before = count(env, "SELECT COUNT(*) FROM leads_lead")
        bare = wrk(f"{base}/bench/bare", args.seconds, lua_path)
        intake = wrk(f"{base}/in/{env['SOURCE_KEY']}", args.seconds, lua_path)
        leads_made = count(env, "SELECT COUNT(*) FROM leads_lead") - leads_before
    finally:
        server.terminate()
        server.wait(timeout=20)
    result = {
        "database": db,
        "into": args.into,
        "bare": bare,
        "intake": intake,
        "leads_made": leads_made,
        "intake_vs_bare": round(intake["rps"] / bare["rps"], 2) if bare["rps"] else None,
    }
    print(
        f"[{db}] bare insert: {bare['rps']:.0f} req/s, p50 {bare['p50_ms']:.1f} ms, "
        f"p99 {bare['p99_ms']:.1f} ms | intake: {intake['rps']:.0f} leads/s, "
        f"p50 {intake['p50_ms']:.1f} ms, p99 {intake['p99_ms']:.1f} ms, "
        f"{intake['non_2xx']} non-2xx, {leads_made} leads for {intake['requests']} requests "
        f"({result['intake_vs_bare']:.0%} of bare)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--web-workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/intake")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--into", default="", help="an already loaded PostgreSQL database URL")
    args = parser.parse_args()
    if args.into:
        args.databases, args.pg_url = "postgres", args.into.rsplit("/", 1)[0]
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    info = machine()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    if "postgres" in databases:
        try:
            info["postgresql"] = postgres_version(args.pg_url)
        except Exception as exc:
            print(f"PostgreSQL at {args.pg_url} is not reachable ({exc}); skipping it.")
            databases.remove("postgres")
    print(json.dumps(info))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(LUA)
    results = [bench(db, args, handle.name) for db in databases]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = RESULTS / f"intake-http-{stamp}.json"
    path.write_text(json.dumps({"machine": info, "results": results}, indent=1))
    print(f"results: {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
