"""Where one HTTP intake post goes: statements, commits and CPU per lead, in one process.

    .venv/bin/python bench/intake_profile.py [--database sqlite|postgres] [--posts 3000]
        [--profile] [--top 40]

Deterministic figures first (they do not depend on what else runs on the machine): the SQL
statements and the commits per processed lead, counted over every post. Then milliseconds per
post: POST /in/<key> through Django's WSGI handler (every middleware, the view, `receive` and
`process_submission`; with --guard behind `core/wsgi_guard.py` as served, not granian), a
distinct, plausible lead per post as bench/intake_http.py sends them. With --profile, cProfile
over the timed posts, and the share of the post in each part of the path (parse, map,
prepare, assessment stages, writes, middleware).

A fresh database under --workdir (SQLite in WAL mode, as served) or a fresh PostgreSQL database
`leadloop_bench_profile`. Prints the figures and writes them to
bench/results/intake-profile-<database>-<time>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"

FIRSTS = ["Anna", "Bram", "Carla", "Daan", "Eva", "Finn", "Gijs", "Hanna", "Iris", "Jan", "Kees"]
LASTS = ["Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer"]

# Where a function's cumulative time is counted: the first of these it is found under.
PARTS = [
    ("middleware, view and all below", "django/core/handlers/base.py", "get_response"),
    ("view and all below", "django/core/handlers/base.py", "_get_response"),
    ("receive (raw row + commit)", "leadloop/intake/services/receiving.py", "receive"),
    ("process_submission", "leadloop/intake/services/processing.py", "process_submission"),
    ("  parse", "leadloop/intake/channels/__init__.py", "parse"),
    ("  map", "leadloop/intake/mapping.py", "map_record"),
    ("  repeat check", "leadloop/intake/services/processing.py", "_repeat_of"),
    ("  prepare_lead (clean, validate)", "leadloop/leads/services/leads.py", "prepare_lead"),
    ("  assess (all stages)", "leadloop/assessment/services.py", "assess"),
    ("    verify", "leadloop/assessment/stages/verify.py", "verify"),
    ("    device", "leadloop/assessment/stages/device.py", "inspect_device"),
    ("    fraud", "leadloop/assessment/stages/fraud.py", "screen_fraud"),
    ("    enrich", "leadloop/assessment/stages/enrich.py", "enrich"),
    ("    dedup", "leadloop/assessment/stages/dedup.py", "find_duplicates"),
    ("    score", "leadloop/assessment/stages/score.py", "score"),
    ("    readiness", "leadloop/assessment/stages/readiness.py", "judge_readiness"),
    ("    _apply (columns, priority)", "leadloop/assessment/services.py", "_apply"),
    ("  save_new_lead", "leadloop/leads/services/leads.py", "save_new_lead"),
    ("  record_intake_results", "leadloop/assessment/services.py", "record_intake_results"),
    ("  _finish (outcome update)", "leadloop/intake/services/processing.py", "_finish"),
    ("answer", "leadloop/intake/channels/http/answer.py", "outcome"),
    ("commits (all)", "django/db/backends/base/base.py", "commit"),
    ("source key lookup", "leadloop/leads/services/sources.py", "resolve_source_key"),
    ("wsgi_guard (with --guard)", "leadloop/core/wsgi_guard.py", "__call__"),
    ("Django WSGI handler", "django/core/handlers/wsgi.py", "__call__"),
]


def prepare(args: argparse.Namespace) -> dict[str, str]:
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LEADLOOP_VAR_DIR": str(workdir), "TASKS_BACKEND": "dummy"}
    env["LEADLOOP_LOG_LEVEL"] = "ERROR"
    env["LEADLOOP_INTAKE_LIMIT_PER_SOURCE"] = "1000000000"
    env["LEADLOOP_INTAKE_LIMIT_PER_ADDRESS"] = "1000000000"
    if args.database == "sqlite":
        path = workdir / "profile.sqlite3"
        for suffix in ("", "-wal", "-shm", "-writers"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["LEADLOOP_SQLITE_PATH"] = str(path)
        env["DATABASE_URL"] = ""
    else:
        import psycopg

        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "leadloop_bench_profile"')
            conn.execute('CREATE DATABASE "leadloop_bench_profile"')
        env["DATABASE_URL"] = f"{args.pg_url}/leadloop_bench_profile"
    subprocess.run([BIN / "leadloop", "migrate", "-v", "0"], env=env, check=True)
    return env


def body(n: int) -> str:
    first = FIRSTS[n % len(FIRSTS)]
    last = LASTS[(n // len(FIRSTS)) % len(LASTS)]
    company = n % 7919
    return json.dumps(
        {
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{n}@firma{company}.nl",
            "phone": f"061{n % 10_000_000:07d}",
            "company_name": f"Firma {company} BV",
            "country": "NL",
        }
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import cProfile
    import pstats

    import django

    django.setup()
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from leadloop.accounts.actors import SYSTEM
    from leadloop.core.wsgi_guard import guard
    from leadloop.leads import services as leads_services
    from leadloop.leads.models import Lead

    settings.ALLOWED_HOSTS = ["testserver"]
    created = leads_services.create_source(
        name="Bench provider", kind="http_post", by=SYSTEM, default_country="NL"
    )
    key = created.raw_key
    app = get_wsgi_application()
    if args.guard:
        app = guard(app)
    counter = iter(range(10**9))
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> None:
        status.append(line)

    def post() -> float:
        data = body(next(counter)).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": f"/in/{key}", "SCRIPT_NAME": "",
            "QUERY_STRING": "", "SERVER_NAME": "testserver", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "198.51.100.7",
            "HTTP_HOST": "testserver", "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64)",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }  # fmt: skip
        status.clear()
        started = time.perf_counter()
        response = app(environ, start_response)
        answer = b"".join(response)
        getattr(response, "close", lambda: None)()
        elapsed = time.perf_counter() - started
        assert status[0][:3] in ("200", "201"), (status, answer)
        return elapsed

    for _ in range(args.warmup):
        post()

    # Statements and commits per lead, counted over every post.
    statements: Counter[str] = Counter()
    commits = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        words = re.sub(r'"s\d+_x\d+"', "<name>", sql).split()
        statements[" ".join(words[:6])] += 1
        return execute(sql, params, many, context)

    original_commit = connection.commit

    def counted_commit() -> None:
        nonlocal commits
        commits += 1
        original_commit()

    leads_before = Lead.objects.count()
    counted = min(args.posts, 500)
    connection.commit = counted_commit  # type: ignore[method-assign]
    raw_commit = connection._commit
    inner_commits = 0

    def counted_inner() -> None:
        nonlocal inner_commits
        inner_commits += 1
        raw_commit()

    connection._commit = counted_inner  # type: ignore[method-assign]
    with connection.execute_wrapper(count):
        for _ in range(counted):
            post()
    connection.commit = original_commit  # type: ignore[method-assign]
    connection._commit = raw_commit  # type: ignore[method-assign]
    made = Lead.objects.count() - leads_before
    assert made == counted, (made, counted)
    per_lead = {k: round(v / counted, 2) for k, v in statements.most_common()}

    # Time per post.
    profiler = cProfile.Profile() if args.profile else None
    timings = []
    if profiler:
        profiler.enable()
    cpu_started = time.process_time()
    for _ in range(args.posts):
        timings.append(post())
    cpu_ms = (time.process_time() - cpu_started) / args.posts * 1000
    if profiler:
        profiler.disable()
    ms = statistics.median(timings) * 1000
    result: dict[str, Any] = {
        "database": connection.vendor,
        "posts": args.posts,
        "statements_per_lead": round(sum(statements.values()) / counted, 2),
        "commits_per_lead": round(inner_commits / counted, 2),
        "statements": per_lead,
        "post_ms_median": round(ms, 3),
        "post_ms_mean": round(statistics.mean(timings) * 1000, 3),
        # CPU time of this process per post: what the load of other processes changes least.
        "cpu_ms_per_post": round(cpu_ms, 3),
        "posts_per_s_one_process": round(1000 / ms),
        "profiled": bool(profiler),
    }
    print(
        f"[{result['database']}] {result['statements_per_lead']} statements and "
        f"{result['commits_per_lead']} commits per lead; post {ms:.2f} ms median "
        f"({result['post_ms_mean']:.2f} mean, {cpu_ms:.2f} ms CPU, "
        f"{'with' if profiler else 'without'} cProfile)"
    )
    for sql, n in per_lead.items():
        print(f"   {n:5.2f}  {sql}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.dump_stats(Path(args.workdir) / "intake.prof")
        total = sum(timings)
        parts = {}
        raw: Any = stats.stats  # type: ignore[attr-defined]
        for label, file, name in PARTS:
            cumulative = sum(
                value[3] for (path, _line, func), value in raw.items()
                if path.endswith(file) and func == name
            )  # fmt: skip
            parts[label] = round(cumulative / args.posts * 1000, 3)
        result["parts_ms"] = parts
        # Python function calls per post: deterministic, unlike any time on a shared machine.
        result["calls_per_post"] = round(stats.total_calls / args.posts)  # type: ignore[attr-defined]
        print(f"Python function calls per post: {result['calls_per_post']}")
        print(f"per post under cProfile: {total / args.posts * 1000:.2f} ms")
        for label, value in parts.items():
            print(f"   {value:6.3f} ms  {label}")
        if args.top:
            stats.sort_stats(args.sort).print_stats(args.top)
        if args.dump:
            stats.dump_stats(args.dump)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--guard", action="store_true", help="through core/wsgi_guard.py")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed posts")
    parser.add_argument("--top", type=int, default=0, help="with --profile: print N functions")
    parser.add_argument("--sort", default="tottime", help="with --top: a pstats sort key")
    parser.add_argument("--dump", default="", help="with --profile: write the pstats file here")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/profile")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(args)
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = RESULTS / f"intake-profile-{result['database']}-{stamp}.json"
        path.write_text(json.dumps(result, indent=1))
        print(f"results: {path.relative_to(ROOT)}")
        return
    env = prepare(args)
    env["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
    subprocess.run([sys.executable, __file__, "--measure", *sys.argv[1:]], env=env, check=True)


if __name__ == "__main__":
    main()
