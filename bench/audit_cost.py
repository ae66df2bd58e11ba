"""What the audit log's view events cost: the lead page and the lead API read, audit on and off.

    bench/audit_cost.py [--leads 20000] [--requests 400] [--rounds 3] [--workdir DIR] [--reuse]

Loads the demo data into a fresh SQLite database (WAL, on disk, as `leadloop serve` uses it)
under --workdir, then answers GET /leads/<id>/ (logged in as a rep, session cookie) and
GET /api/v1/leads/<id> (the same rep's API key) through Django's test client, in the same
process, for leads the rep owns. Requests with audit off and on alternate one by one (the same
lead for both), so drift of a shared machine hits both alike; figures are over all rounds. Prints
per-request median and p90 in ms, requests per second, the difference on minus off, and the
statements each request ran (on adds one INSERT), and the time of record_audit alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def load(workdir: Path, leads: int, reuse: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(workdir),
        "DATABASE_URL": "",
        "TASKS_BACKEND": "dummy",
        "LEADLOOP_ALLOWED_HOSTS": "testserver",
    }
    db = workdir / "leadloop.sqlite3"
    if reuse and db.exists():
        return env
    for stale in workdir.glob("leadloop.sqlite3*"):
        stale.unlink()
    subprocess.run([BIN / "leadloop", "migrate", "-v", "0"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [BIN / "leadloop", "demo", "--leads", str(leads)], env=env, check=True, capture_output=True
    )
    print(f"loaded {leads:,} demo leads in {time.perf_counter() - started:.0f} s")
    return env


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def measure(requests: int, rounds: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from leadloop.accounts import services as accounts_services
    from leadloop.accounts.models import AuditEvent, User
    from leadloop.leads.models import Lead

    rep = User.objects.get(username="rep.noor")
    lead_ids = list(Lead.objects.filter(assigned_to=rep).values_list("pk", flat=True)[:200])
    page = Client()
    page.force_login(rep)
    api = Client(headers={"X-API-Key": accounts_services.issue_api_key(rep).raw})
    endpoints = {
        "lead page": (page, "/leads/{}/"),
        "lead API GET": (api, "/api/v1/leads/{}"),
    }
    times: dict[tuple[str, bool], list[float]] = {}
    statements: dict[tuple[str, bool], int] = {}

    def run(name: str, audit: bool, count: int, start: int = 0) -> list[float]:
        client, path = endpoints[name]
        settings.LEADLOOP_AUDIT_VIEWS = audit
        taken = []
        for n in range(start, start + count):
            url = path.format(lead_ids[n % len(lead_ids)])
            began = time.perf_counter()
            response = client.get(url)
            taken.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
        return taken

    for name in endpoints:  # warm caches, compiled statements and connections
        for audit in (False, True):
            run(name, audit, 30)
            settings.LEADLOOP_AUDIT_VIEWS = audit
            client, path = endpoints[name]
            with CaptureQueriesContext(connection) as captured:
                client.get(path.format(lead_ids[0]))
            statements[(name, audit)] = len(captured.captured_queries)
    before = AuditEvent.objects.count()
    # Off and on alternate request by request: the shared machine's drift hits both alike.
    for _round in range(rounds):
        for name in endpoints:
            for n in range(requests):
                for audit in (False, True):
                    times.setdefault((name, audit), []).extend(run(name, audit, 1, start=n))
    written = AuditEvent.objects.count() - before

    from leadloop.accounts.audit import record_audit
    from leadloop.accounts.models import AuditAction, AuditTarget

    settings.LEADLOOP_AUDIT_VIEWS = True
    alone = []
    for n in range(requests * rounds):
        began = time.perf_counter()
        record_audit(
            actor=rep,
            action=AuditAction.LEAD_VIEWED,
            target_type=AuditTarget.LEAD,
            target_id=lead_ids[n % len(lead_ids)],
        )
        alone.append(time.perf_counter() - began)
    alone.sort()

    print(f"machine: {os.cpu_count()} CPUs (nproc), {_cpu()}, Python {platform.python_version()}")
    print(f"database: SQLite (WAL) {connection.settings_dict['NAME']}")
    print(f"{requests} requests x {rounds} rounds per figure; {written:,} audit events written")
    print(
        f"{'endpoint':<14} {'audit':<5} {'median ms':>9} {'p90 ms':>7} {'req/s':>7} {'queries':>7}"
    )
    for name in endpoints:
        medians = {}
        for audit in (False, True):
            taken = sorted(times[(name, audit)])
            median = statistics.median(taken)
            medians[audit] = median
            p90 = taken[int(len(taken) * 0.9)]
            print(
                f"{name:<14} {'on' if audit else 'off':<5} {median * 1000:>9.2f} "
                f"{p90 * 1000:>7.2f} {1 / statistics.mean(taken):>7.0f} "
                f"{statements[(name, audit)]:>7}"
            )
        extra = (medians[True] - medians[False]) * 1000
        print(
            f"{name:<14} cost  {extra:>+9.2f} ms per request "
            f"({extra / (medians[False] * 1000) * 100:+.1f} %)"
        )
    p90_alone = alone[int(len(alone) * 0.9)] * 1000
    print(
        f"record_audit alone (one autocommitted INSERT): median "
        f"{statistics.median(alone) * 1000:.3f} ms, p90 {p90_alone:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ll-audit")
    parser.add_argument("--reuse", action="store_true", help="Keep an already loaded database.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.requests, args.rounds)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = load(args.workdir, args.leads, args.reuse)
    env["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            "--requests",
            str(args.requests),
            "--rounds",
            str(args.rounds),
        ],
        env=env,
        check=True,
    )


if __name__ == "__main__":
    main()
