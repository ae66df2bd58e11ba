"""Nurture workflow engine at 1,000,000 enrolments (issue 15; docs/nurture.md).

    .venv/bin/python bench/nurture_workflows.py [--enrolled 1000000] [--due 5000] [--mails 300]
                                                [--database-url postgres://…] [--workdir DIR]

A database of its own (a SQLite file under --workdir, or a fresh PostgreSQL database named
leadloop_bench_workflows on --database-url's server), migrated, then:

load     1,000 nurturing leads (through the assessment service) and 1,000 active workflows of
         wait steps (through the workflow services), and --enrolled enrolments (1,000 leads ×
         N/1,000 workflows, bulk-inserted): --due of them due now, the rest due over the next
         30 days, as a running system has them.
due      `live.due_ids` (the runner's query for the due enrolments, through the partial index
         enrollment_due) 20 times: p50/p95 ms, and the query plan.
steps    `live.run_due` on the due enrolments: each ends its wait and starts the next one
         (no mail). Steps a second = path rows written / seconds.
mail     --mails leads enter a workflow whose first step sends a mail: run_due (the step
         queues each mail), then the mail sweep hands them to a local aiosmtpd server:
         mails a second for each part.

Targets (issue 15): the due query under 100 ms a run; ≥ 1,000 steps a second without mail.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import ROOT, machine

DB_NAME = "leadloop_bench_workflows"


def _env(args: argparse.Namespace) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadloop.settings",
        "LEADLOOP_VAR_DIR": args.workdir,
        "TASKS_BACKEND": "dummy",
        "PYTHONPATH": str(ROOT / "src"),
    }
    if args.database_url:
        base = args.database_url.rsplit("/", 1)[0]
        env["DATABASE_URL"] = f"{base}/{DB_NAME}"
    else:
        env.pop("DATABASE_URL", None)
        env["LEADLOOP_SQLITE_PATH"] = str(Path(args.workdir) / "workflows.sqlite3")
    return env


def _fresh_database(args: argparse.Namespace, env: dict[str, str]) -> None:
    if args.database_url:
        import psycopg

        base = args.database_url.rsplit("/", 1)[0].replace("postgres://", "postgresql://")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    else:
        Path(env["LEADLOOP_SQLITE_PATH"]).unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "leadloop.cli", "migrate", "-v", "0"], env=env, check=True
    )


def child(part: str, options: dict[str, Any]) -> dict[str, Any]:
    """One part, in a child process with Django set up; returns its figures."""
    import django

    django.setup()
    import datetime as dt
    import random

    from django.db import connection, transaction
    from django.utils import timezone

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.services import create_lead
    from leadloop.core.expressions import indexed
    from leadloop.leads import events
    from leadloop.leads import services as leads
    from leadloop.leads.models import Lead, LeadStatus
    from leadloop.nurture.workflows import services as workflows
    from leadloop.nurture.workflows.models import (
        Enrollment,
        EnrollmentStep,
        WorkflowVersion,
    )
    from leadloop.nurture.workflows.services import live

    now = timezone.now()
    if part == "load":
        started = time.perf_counter()
        source = leads.create_source(name="Bench", kind="http_post", by=SYSTEM).source
        with events.isolated():
            lead_ids = []
            for n in range(1000):
                lead = create_lead(
                    {"first_name": f"B{n}", "last_name": "Bench", "email": f"b{n}@example.com"},
                    source=source,
                    by=SYSTEM,
                )
                if lead.status != LeadStatus.NURTURING:
                    lead = leads.transition(lead, to=LeadStatus.NURTURING, by=SYSTEM)
                lead_ids.append(lead.pk)
        definition = {
            "trigger": {"on": "manual"},
            "steps": [
                {"id": "first", "type": "wait", "days": 1},
                {"id": "second", "type": "wait", "days": 7},
                {"id": "third", "type": "wait", "days": 7},
            ],
        }
        workflow_count = max(1, options["enrolled"] // 1000)
        versions = []
        for n in range(workflow_count):
            workflow = workflows.create_workflow(by=SYSTEM, name=f"W{n}", definition=definition)
            versions.append(workflows.activate(workflow, by=SYSTEM))
        loaded_meta = time.perf_counter() - started
        rng = random.Random(15)
        due_left = options["due"]
        rows: list[Enrollment] = []
        inserted = 0
        for version in versions:
            for lead_id in lead_ids:
                if due_left > 0 and rng.random() < 0.02:
                    due_at = now - dt.timedelta(seconds=rng.randint(1, 600))
                    due_left -= 1
                else:
                    due_at = now + dt.timedelta(seconds=rng.randint(60, 30 * 86400))
                rows.append(
                    Enrollment(
                        workflow_id=version.workflow_id,
                        version_id=version.pk,
                        lead_id=lead_id,
                        step="first",
                        due_at=due_at,
                        waiting_since=now - dt.timedelta(days=1),
                        wait_until=due_at,
                        started_at=now - dt.timedelta(days=1),
                    )
                )
                if len(rows) == 20000:
                    with transaction.atomic():
                        Enrollment.objects.bulk_create(rows)
                    inserted += len(rows)
                    rows = []
        with transaction.atomic():
            Enrollment.objects.bulk_create(rows)
        inserted += len(rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        due = Enrollment.objects.filter(due_at__lte=now).count()
        return {
            "enrolled": inserted,
            "workflows": workflow_count,
            "due_now": due,
            "load_seconds": round(time.perf_counter() - started, 1),
            "meta_seconds": round(loaded_meta, 1),
        }
    if part == "due":
        timings = []
        found = 0
        for _ in range(20):
            started = time.perf_counter()
            found = len(live.due_ids(now))
            timings.append((time.perf_counter() - started) * 1000)
        sql, params = (
            Enrollment.objects.filter(indexed(Enrollment, "enrollment_due"), due_at__lte=now)
            .order_by("due_at")
            .values("id")[:5000]
            .query.sql_with_params()
        )
        explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        with connection.cursor() as cursor:
            cursor.execute(explain + sql, params)
            plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
        timings.sort()
        return {
            "found": found,
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
            "plan": plan,
        }
    if part == "steps":
        before = EnrollmentStep.objects.count()
        started = time.perf_counter()
        counts = live.run_due(at=now)
        seconds = time.perf_counter() - started
        steps = EnrollmentStep.objects.count() - before
        return {
            "enrolments": sum(counts.values()),
            "outcomes": counts,
            "steps": steps,
            "seconds": round(seconds, 2),
            "steps_per_second": round(steps / seconds) if seconds else None,
        }
    if part == "mail":
        from aiosmtpd.controller import Controller
        from django.test import override_settings

        from leadloop.nurture.mail import services as mail
        from leadloop.nurture.mail.services import sending

        class Sink:
            received = 0

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                Sink.received += 1
                return "250 OK"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        smtp = {"host": "127.0.0.1", "port": port, "security": "none", "timeout": 10,
                "username": "", "password": ""}  # fmt: skip
        try:
            with override_settings(
                LEADLOOP_SMTP=smtp,
                LEADLOOP_MARKETING_FROM="news@acme.example",
                LEADLOOP_MARKETING_PER_DOMAIN_PER_MINUTE=100000,
            ):
                mail.create_template(
                    by=SYSTEM, name="Bench", language="en", subject="Hi {first_name}",
                    body="A [link](https://example.com/x).",
                )  # fmt: skip
                workflow = workflows.create_workflow(
                    by=SYSTEM,
                    name="Mail bench",
                    definition={"steps": [{"id": "mail", "type": "send_email", "template": "Bench"},
                                          {"id": "rest", "type": "wait", "days": 7}]},
                )  # fmt: skip
                workflows.activate(workflow, by=SYSTEM)
                leads_ = list(Lead.objects.order_by("id")[: options["mails"]])
                version = WorkflowVersion.objects.get(workflow=workflow)
                with transaction.atomic():
                    live.enroll_leads(version, leads_, by="bench", now=now)
                Enrollment.objects.exclude(workflow=workflow).update(
                    due_at=now + dt.timedelta(days=60)
                )
                started = time.perf_counter()
                live.run_due(at=now + dt.timedelta(seconds=1))
                queued_seconds = time.perf_counter() - started
                started = time.perf_counter()
                sent = sending.send_waiting(now=now + dt.timedelta(seconds=2))
                sent_seconds = time.perf_counter() - started
        finally:
            controller.stop()
        return {
            "mails": len(leads_),
            "queue_seconds": round(queued_seconds, 2),
            "queued_per_second": round(len(leads_) / queued_seconds),
            "send_seconds": round(sent_seconds, 2),
            "sent": sent,
            "received": Sink.received,
            "sent_per_second": round(Sink.received / sent_seconds) if sent_seconds else None,
        }
    raise SystemExit(f"unknown part {part}")


def _run_part(part: str, args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    options = {"enrolled": args.enrolled, "due": args.due, "mails": args.mails}
    done = subprocess.run(
        [sys.executable, __file__, "--child", part, "--options", json.dumps(options)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{part} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrolled", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=5000)
    parser.add_argument("--mails", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--child", default="")
    parser.add_argument("--options", default="{}")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, json.loads(args.options))))
        return
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="bench-workflows-")
    env = _env(args)
    _fresh_database(args, env)
    results: dict[str, Any] = {
        "machine": machine(),
        "database": "postgresql" if args.database_url else "sqlite",
    }
    for part in ("load", "due", "steps", "mail"):
        results[part] = _run_part(part, args, env)
        print(f"{part}: {json.dumps(results[part])}", flush=True)
    due, steps = results["due"], results["steps"]
    print(
        f"\n{results['database']}: {results['load']['enrolled']:,} enrolled; due query "
        f"p50 {due['p50_ms']} ms, p95 {due['p95_ms']} ms (target < 100); "
        f"{steps['steps_per_second']} steps/s (target ≥ 1,000); "
        f"mails queued {results['mail']['queued_per_second']}/s, "
        f"sent {results['mail']['sent_per_second']}/s"
    )


if __name__ == "__main__":
    main()
