"""Cost of `assessment.assess()` per lead, all stages, against a database of existing leads.

    bench/assess_cost.py [--leads 100000] [--samples 3000] [--workdir DIR] [--reuse]

Loads the demo data (`leadloop demo --leads N`) into a fresh SQLite database under --workdir,
adds grading and engagement rules like a marketing team's, then assesses --samples new leads
(prepared as the intake prepares them, not saved) with a realistic request: a public IP, a
browser's user agent and a form fingerprint. Prints the median, p90 and p99 per lead and the
median of each stage. The optional network checks (MX lookup, HTTP enrichment) are off, as the
issue's target excludes them; the HTTP enrichment runs after the commit in a task anyway.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
)


def load(workdir: Path, leads: int, reuse: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(workdir),
        "DATABASE_URL": "",
        "TASKS_BACKEND": "dummy",
    }
    db = workdir / "leadloop.sqlite3"
    if reuse and db.exists():
        return env
    if db.exists():
        db.unlink()
    subprocess.run([BIN / "leadloop", "migrate", "-v", "0"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [BIN / "leadloop", "demo", "--leads", str(leads)], env=env, check=True, capture_output=True
    )
    print(f"loaded {leads:,} demo leads in {time.perf_counter() - started:.0f} s")
    return env


def measure(samples: int) -> None:
    import django

    django.setup()
    from faker import Faker

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment import services
    from leadloop.assessment.models import EngagementRule, GradingRule
    from leadloop.assessment.scoring import rules
    from leadloop.assessment.stages import PIPELINE
    from leadloop.leads import services as leads_services
    from leadloop.leads.models import Lead, Source

    if not GradingRule.objects.exists():
        for field, op, value, points in (
            ("job_title", "contains", "director, head, chief, ceo, owner", 30),
            ("job_title", "contains", "manager", 15),
            ("country", "in", "NL, BE, DE", 20),
            ("email_kind", "equals", "business", 15),
            ("email_kind", "in", "free, role", -10),
            ("employees", "gte", "50", 15),
        ):
            GradingRule.objects.create(field=field, operator=op, value=value, points=points)
        for event, points, repeat in (
            ("form_submitted", 20, True),
            ("email_opened", 5, True),
            ("email_clicked", 10, True),
            ("page_visit", 3, True),
        ):
            EngagementRule.objects.create(event=event, points=points, is_repeatable=repeat)
    rules.invalidate()
    source = Source.objects.order_by("pk").first()
    fake = Faker(["nl_NL", "en_GB", "de_DE"])
    Faker.seed(7)
    existing = list(
        Lead.objects.order_by("?").values_list("email", "first_name", "last_name")[:300]
    )
    prepared = []
    for n in range(samples):
        if n % 10 == 0 and existing:  # one in ten is someone we already have
            email, first, last = existing[n // 10 % len(existing)]
        else:
            email, first, last = fake.email(), fake.first_name(), fake.last_name()
        data = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": fake.phone_number(),
            "street": fake.street_address(),
            "postal_code": fake.postcode(),
            "city": fake.city(),
            "country": "NL",
            "job_title": fake.job(),
            "company_name": fake.company(),
        }
        try:
            lead = leads_services.prepare_lead(data, source=source, by=SYSTEM)
        except Exception:  # a generated phone that does not validate: drop it, as the intake would
            data.pop("phone")
            lead = leads_services.prepare_lead(data, source=source, by=SYSTEM)
        meta = {
            "ip": fake.ipv4_public(),
            "user_agent": AGENTS[n % len(AGENTS)],
            "fingerprint": f"fp{n % 700:04d}",
            "time_to_submit_ms": 9000 + n,
        }
        prepared.append((lead, meta))

    stage_times: dict[str, list[float]] = {stage.__name__: [] for stage in PIPELINE}
    timed = []
    for stage in PIPELINE:

        def wrapped(ctx, stage=stage, **earlier):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return stage.run(ctx, **earlier)
            finally:
                stage_times[stage.__name__].append(time.perf_counter() - started)

        wrapped.__name__ = stage.__name__
        timed.append(dataclasses.replace(stage, run=wrapped))
    services.PIPELINE = tuple(timed)  # type: ignore[attr-defined]
    for lead, meta in prepared[:200]:  # warm caches (user agents, postal patterns, ASN file)
        services.assess(lead, meta=meta)
    for times in stage_times.values():
        times.clear()
    per_lead = []
    for lead, meta in prepared:
        started = time.perf_counter()
        ctx = services.assess(lead, meta=meta)
        per_lead.append(time.perf_counter() - started)
        assert not ctx.errors, ctx.errors
    per_lead.sort()

    def q(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000

    print(f"assess() per lead, {len(per_lead):,} leads, {Lead.objects.count():,} in the database")
    print(
        f"  median {statistics.median(per_lead) * 1000:.3f} ms   p90 {q(per_lead, 0.9):.3f} ms"
        f"   p99 {q(per_lead, 0.99):.3f} ms"
    )
    for name, times in stage_times.items():
        print(f"  {name:<16} median {statistics.median(times) * 1000:.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ll-assess")
    parser.add_argument("--reuse", action="store_true", help="Keep an already loaded database.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.samples)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    env = load(args.workdir, args.leads, args.reuse)
    env["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
    subprocess.run(
        [sys.executable, __file__, "--measure", "--samples", str(args.samples)],
        env=env,
        check=True,
    )


if __name__ == "__main__":
    main()
