"""The pipeline board and the forecast at a million leads (issue 14: p95 under 300 ms).

    .venv/bin/python bench/pipeline.py --database sqlite [--leads 1000000] [--reuse]
    .venv/bin/python bench/pipeline.py --database postgres [--pg-url postgres://…]

Loads a bench database of its own (a SQLite file under --workdir, or `leadloop_bench_pipeline`
on the PostgreSQL server; never var/) with --leads leads written in bulk: 10 teams of 20 reps,
10 sources, the statuses of a sales floor that has run for years (a fifth of the leads open on
the board, most closed), a current quote on half the contacted leads, every quoted lead and half
the closed ones, amounts in euros and a tenth in dollars, expected close dates over 18 months.
Then times, in this process, the selectors behind the page and the API (`get_board`: the
aggregate and three columns of 50 cards; `get_forecast`) for an admin, a manager and a rep, with
and without filters: --rounds runs each, p50 and p95. Prints each query's plan (EXPLAIN QUERY
PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL) with --explain.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

TEAMS, REPS_PER_TEAM, SOURCES = 10, 20, 10
# Share of the leads per status (a fifth on the board, most closed).
STATUSES = [
    ("new", 0.04),
    ("nurturing", 0.10),
    ("sales_ready", 0.03),
    ("assigned", 0.06),
    ("contacted", 0.08),
    ("quoted", 0.06),
    ("won", 0.15),
    ("lost", 0.40),
    ("disqualified", 0.08),
]
BATCH = 5_000


def _setup(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    os.environ["TASKS_BACKEND"] = "dummy"
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["LEADLOOP_VAR_DIR"] = str(workdir / "var")
    if args.database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ["LEADLOOP_SQLITE_PATH"] = str(workdir / f"pipeline-{args.leads}.sqlite3")
    else:
        import psycopg

        name = f"leadloop_bench_pipeline_{args.leads}"
        base = args.pg_url.rstrip("/")
        if not args.reuse:
            admin_url = base.replace("postgres://", "postgresql://") + "/postgres"
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"
    import django

    django.setup()


def _load(leads: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from leadloop.accounts.actors import SYSTEM
    from leadloop.accounts.models import Role, Team, User
    from leadloop.leads.models import Lead, Source
    from leadloop.leads.services import create_source
    from leadloop.sales.models import Quote

    call_command("migrate", verbosity=0)
    rng = random.Random(14)
    teams, reps = [], []
    for t in range(TEAMS):
        manager = User.objects.create_user(
            username=f"manager{t}", role=Role.SALES_MANAGER, first_name="Manager", last_name=str(t)
        )
        team = Team.objects.create(name=f"Team {t}", manager=manager)
        manager.team = team
        manager.save(update_fields=["team"])
        teams.append(team)
        for r in range(REPS_PER_TEAM):
            reps.append(
                User.objects.create_user(
                    username=f"rep{t}_{r}", role=Role.SALES_REP, team=team,
                    first_name="Rep", last_name=f"{t}-{r}",
                )
            )  # fmt: skip
    User.objects.create_user(username="admin", role=Role.ADMIN)
    sources = [
        create_source(name=f"Source {s}", kind="http_post", by=SYSTEM).source
        for s in range(SOURCES)
    ]
    Source.objects.count()
    names, weights = zip(*STATUSES, strict=True)
    now = timezone.now()
    today = now.date()
    began = time.perf_counter()
    made = 0
    while made < leads:
        size = min(BATCH, leads - made)
        rows, deals = [], []
        for _ in range(size):
            status = rng.choices(names, weights)[0]
            rep = rng.choice(reps) if status not in ("new", "nurturing", "sales_ready") else None
            team = rep.team if rep else (rng.choice(teams) if status == "sales_ready" else None)
            quoted = (
                status == "quoted"
                or (status == "contacted" and rng.random() < 0.5)
                or (status in ("won", "lost") and rng.random() < 0.5)
            )
            amount = Decimal(rng.randrange(50_000, 5_000_000)) / 100 if quoted else None
            probability = rng.choice([10, 25, 35, 50, 75, 90]) if quoted else None
            currency = "USD" if quoted and rng.random() < 0.1 else "EUR"
            created = now - dt.timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
            rows.append(
                Lead(
                    first_name="Bench", last_name=f"Lead{made}", source=rng.choice(sources),
                    status=status, assigned_to=rep, team=team, priority=rng.randrange(0, 100),
                    potential_revenue=amount, probability=probability, currency=currency,
                    created_at=created, updated_at=created, status_changed_at=created,
                    search_text=f"bench lead{made}",
                )
            )  # fmt: skip
            deals.append((amount, probability, currency))
            made += 1
        with transaction.atomic():
            Lead.objects.bulk_create(rows, batch_size=1000)
            Quote.objects.bulk_create(
                [
                    Quote(
                        lead=lead, amount=amount, currency=currency, probability=probability,
                        expected_close_on=(
                            today + dt.timedelta(days=rng.randrange(-60, 480))
                            if rng.random() < 0.9 else None
                        ),
                        is_current=True, created_at=now, updated_at=now,
                    )
                    for lead, (amount, probability, currency) in zip(rows, deals, strict=True)
                    if amount is not None
                ],
                batch_size=1000,
            )  # fmt: skip
        if made % 100_000 == 0:
            print(f"  {made:,} leads in {time.perf_counter() - began:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {leads:,} leads in {time.perf_counter() - began:.0f} s", flush=True)


def _timed(work: Any, rounds: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, result


def _explain(work: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        work()
    for query in captured.captured_queries:
        sql = query["sql"]
        if "leads_lead" not in sql and "sales_quote" not in sql:
            continue
        prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            plan = [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
        print(f"    {sql[:160]}…\n      " + "\n      ".join(plan))


def _measure(args: argparse.Namespace) -> int:
    from leadloop.accounts.models import User
    from leadloop.leads.models import Source
    from leadloop.sales.selectors import pipeline
    from leadloop.sales.selectors.pipeline import PipelineFilters

    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager3")
    rep = User.objects.get(username="rep3_7")
    source = Source.objects.order_by("pk").first()
    month = dt.date.today().replace(day=1) + dt.timedelta(days=40)
    month = month.replace(day=1)
    shapes = [
        ("board admin", admin, "board", PipelineFilters()),
        ("board admin team", admin, "board", PipelineFilters(team=manager.team_id)),
        ("board admin source", admin, "board", PipelineFilters(source=source.pk if source else 0)),
        ("board admin month", admin, "board", PipelineFilters(close_month=month)),
        ("board manager", manager, "board", PipelineFilters()),
        ("board manager rep", manager, "board", PipelineFilters(owner=rep.pk)),
        ("board manager month", manager, "board", PipelineFilters(close_month=month)),
        ("board rep", rep, "board", PipelineFilters()),
        ("board rep month", rep, "board", PipelineFilters(close_month=month)),
        ("forecast admin", admin, "forecast", PipelineFilters()),
        ("forecast manager", manager, "forecast", PipelineFilters()),
        ("forecast rep", rep, "forecast", PipelineFilters()),
    ]
    worst = 0.0
    for name, actor, kind, filters in shapes:

        def work(actor: Any = actor, kind: str = kind, filters: Any = filters) -> Any:
            if kind == "board":
                board = pipeline.get_board(actor, filters)
                return board.count
            return len(pipeline.get_forecast(actor, filters))

        work()  # warm the cache
        p50, p95, size = _timed(work, args.rounds)
        worst = max(worst, p95)
        print(f"{name:22} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({size:,})", flush=True)
        if args.explain:
            _explain(work)
    print(f"worst p95: {worst:.1f} ms (target 300 ms)")
    return 1 if worst > args.max_p95_ms else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "leadloop-bench"))
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    parser.add_argument("--max-p95-ms", type=float, default=300.0)
    args = parser.parse_args()
    _setup(args)
    if not args.reuse:
        _load(args.leads)
    return _measure(args)


if __name__ == "__main__":
    sys.exit(main())
