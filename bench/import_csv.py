"""Batch import of a million-row CSV, end to end, on SQLite and PostgreSQL: rows/s and peak memory.

    .venv/bin/python bench/import_csv.py                  # 1,000,000 rows, both databases
    .venv/bin/python bench/import_csv.py --rows 100000 --databases sqlite

For each database: a fresh bench database (SQLite under --workdir, `leadloop_bench_import` on the
PostgreSQL server; never var/), `leadloop migrate`, a source, then `leadloop import FILE --source
NAME --json` timed from the outside. Peak memory is the high-water RSS of the import process and,
separately, of its largest worker process (getrusage of the waited-for children, read in a small
wrapper process), so the total is at most main + 2 x worker.

The CSV is deterministic for a seed: Dutch-looking people from small pools, valid mobile numbers
typed in several ways, about 2% bad e-mail addresses and 1% rows without any contact, so the
reject path is measured too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from run_all import BIN, ROOT, _pg, machine, postgres_version

FIRST = [
    "Noa",
    "Emma",
    "Julia",
    "Mila",
    "Tess",
    "Sophie",
    "Zoë",
    "Sara",
    "Nora",
    "Eva",
    "Liv",
    "Lotte",
    "Saar",
    "Anna",
    "Fleur",
    "Daan",
    "Sem",
    "Lucas",
    "Levi",
    "Finn",
    "Milan",
    "Bram",
    "Luuk",
    "Thijs",
    "Jesse",
    "Ruben",
    "Thomas",
    "Lars",
    "Max",
    "Sven",
    "Jan",
    "Piet",
    "Kees",
    "Ahmed",
    "Mohammed",
]
LAST = [
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van den Heuvel",
    "Yılmaz",
    "El Amrani",
]
CITIES = "Amsterdam Rotterdam Den Haag Utrecht Eindhoven Groningen Tilburg Almere Breda Nijmegen"
DOMAINS = ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com", "xs4all.nl")
COMPANIES = ("", "", "", "Bouwbedrijf", "Installatietechniek", "Zorggroep", "Logistiek", "Advies")
HEADER = [
    "Voornaam",
    "Achternaam",
    "E-mailadres",
    "Telefoon",
    "Bedrijf",
    "Plaats",
    "Postcode",
    "Land",
    "Opmerking",
]


def generate(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    cities = CITIES.replace("Den Haag", "Den_Haag").split()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            slug = (first + "." + last.replace(" ", "")).lower().replace("ë", "e").replace("ı", "i")
            roll = rng.random()
            email = f"{slug}{n}@{rng.choice(DOMAINS)}"
            if roll < 0.02:
                email = f"{slug}{n}@"  # no domain: rejected unless there is a phone
            digits = f"{rng.randrange(10**8):08d}"
            style = rng.random()
            phone = (
                f"06-{digits}"
                if style < 0.4
                else f"+31 6 {digits[:4]} {digits[4:]}"
                if style < 0.7
                else f"06{digits}"
                if style < 0.9
                else ""
            )
            if roll > 0.99:
                email, phone = "", ""
            company = rng.choice(COMPANIES)
            writer.writerow(
                [
                    first,
                    last,
                    email,
                    phone,
                    f"{last} {company} B.V." if company else "",
                    rng.choice(cities).replace("_", " "),
                    f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
                    f"{rng.choice('ABCDEFGHJKLMNPRSTVWXZ')}",
                    "NL",
                    rng.choice(("", "", "Graag bellen na 17:00", "Offerte zonnepanelen")),
                ]
            )


# Runs `leadloop import` in-process in a child, then prints its own and its workers' peak RSS.
WRAPPER = """
import json, resource, sys, time
from leadloop.cli import main
began = time.perf_counter()
try:
    main(["leadloop", "import", *sys.argv[1:]])
except SystemExit as exc:
    if exc.code:
        raise
wall = time.perf_counter() - began
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": wall, "main_peak_mb": own.ru_maxrss / 1024,
                  "worker_peak_mb": workers.ru_maxrss / 1024,
                  "main_cpu_s": own.ru_utime + own.ru_stime,
                  "worker_cpu_s": workers.ru_utime + workers.ru_stime}), file=sys.stderr)
"""


def run_one(db: str, csv_path: Path, args: argparse.Namespace) -> dict[str, object]:
    env = {**os.environ, "TASKS_BACKEND": "dummy", "LEADLOOP_VAR_DIR": str(args.workdir / "var")}
    env.pop("DATABASE_URL", None)
    if db == "sqlite":
        env["LEADLOOP_SQLITE_PATH"] = str(args.workdir / "import.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(env["LEADLOOP_SQLITE_PATH"] + suffix).unlink(missing_ok=True)
    else:
        import psycopg

        name = "leadloop_bench_import"
        env["DATABASE_URL"] = args.pg_url.rstrip("/") + "/" + name
        with psycopg.connect(_pg(args.pg_url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    leadloop = str(BIN / "leadloop")
    subprocess.run([leadloop, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run(
        [leadloop, "sources", "create", "Bench import", "--kind", "import"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    command = [str(csv_path), "--source", "Bench import", "--json"]
    print(f"[{db}] leadloop import {' '.join(command)}", flush=True)
    began = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "python"), "-c", WRAPPER, *command],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    report = json.loads(proc.stdout)
    usage = json.loads(proc.stderr.strip().splitlines()[-1])
    result = {
        "database": db,
        "rows": report["rows_read"],
        "created": report["created"],
        "rejected": report["rejected"],
        "wall_s": round(wall, 1),
        "import_s": round(report["seconds"], 1),
        "rows_per_s": round(report["rows_read"] / report["seconds"]),
        "main_peak_mb": round(usage["main_peak_mb"]),
        "worker_peak_mb": round(usage["worker_peak_mb"]),
        # CPU seconds per 1,000 rows, all processes: what two idle cores would allow.
        "cpu_s_per_1000_rows": round(
            (usage["main_cpu_s"] + usage["worker_cpu_s"]) * 1000 / report["rows_read"], 3
        ),
        "main_cpu_s": round(usage["main_cpu_s"], 1),
        "worker_cpu_s": round(usage["worker_cpu_s"], 1),
    }
    print(f"[{db}] {json.dumps(result)}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/leadloop-bench-import"))
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("LEADLOOP_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    csv_path = args.workdir / f"leads-{args.rows}-{args.seed}.csv"
    if not csv_path.exists():
        began = time.perf_counter()
        generate(csv_path, args.rows, args.seed)
        print(f"generated {csv_path} ({csv_path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
    info = machine()
    results = []
    for db in args.databases.split(","):
        if db == "postgres":
            info["postgres"] = postgres_version(args.pg_url)
        results.append(run_one(db, csv_path, args))
    print(json.dumps({"machine": info, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
