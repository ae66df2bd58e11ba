"""What the scoring configuration costs as it grows: snapshot reload, blocklist checks, the page.

    .venv/bin/python bench/scoring_config.py [--rules 200] [--blocked 10000] [--repeat 50]

Runs against a fresh SQLite database in a temporary folder (never var/ or DATABASE_URL). It
creates `--rules` grading and engagement rules, `--blocked` blocklist entries (a quarter each of
domains, e-mail addresses, phone numbers and IP networks) and 50 sources with a policy, all
through the config services, and then prints:

- the time to save one change (a service call, including its validation),
- the time to reload the rules snapshot (what every process does at most once per TTL and
  right after a change),
- the per-lead cost of the blocklist checks the fraud stage makes (domain, e-mail, phone
  lookups and the IP check, which tests every blocked network in turn),
- the time to render /assessment/config/ for marketing (tests/assessment/scoring/test_views.py
  checks that its query count does not grow with the rows).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and maximum wall time of `fn` in milliseconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--blocked", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="leadloop-bench-config-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["LEADLOOP_SQLITE_PATH"] = str(Path(folder) / "bench.sqlite3")
    os.environ["TASKS_BACKEND"] = "dummy"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from tests.factories.accounts import make_user
    from tests.factories.leads import make_source

    from leadloop.accounts.actors import SYSTEM
    from leadloop.accounts.models import Role
    from leadloop.assessment.scoring import rules
    from leadloop.assessment.scoring import services as config

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    print(f"database: {connection.settings_dict['NAME']}")

    began = time.perf_counter()
    for n in range(args.rules):
        config.create_grading_rule(
            by=SYSTEM, field="job_title", operator="contains", value=f"title{n}", points=n % 20
        )
        config.create_engagement_rule(by=SYSTEM, event="page_visit", match=f"/p{n}", points=1)
    quarter = args.blocked // 4
    for n in range(quarter):
        config.create_block_entry(by=SYSTEM, kind="email_domain", value=f"spam{n}.example")
        config.create_block_entry(by=SYSTEM, kind="email", value=f"x{n}@bad.example")
        config.create_block_entry(by=SYSTEM, kind="phone", value=f"+3161{n:07d}")
        config.create_block_entry(
            by=SYSTEM, kind="ip", value=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        )
    for n in range(50):
        source = make_source(f"Bench source {n}")
        config.set_source_policy(
            source, by=SYSTEM, fraud_review_at=40, fraud_reject_at=90, on_duplicate="merge"
        )
    setup_s = time.perf_counter() - began
    blocked = quarter * 4
    print(
        f"set up {args.rules} grading + {args.rules} engagement rules, {blocked:,} blocklist "
        f"entries, 50 policies through the services in {setup_s:.1f} s "
        f"({setup_s * 1000 / (2 * args.rules + blocked + 100):.2f} ms per change)"
    )

    counter = iter(range(10**9))
    median, worst = timed(
        lambda: config.update_scoring_settings(by=SYSTEM, velocity_limit=3 + next(counter) % 5),
        args.repeat,
    )
    print(f"save one settings change:      median {median:.2f} ms, max {worst:.2f} ms")

    def reload() -> None:
        rules.invalidate()
        rules.current()

    median, worst = timed(reload, args.repeat)
    print(f"reload the rules snapshot:     median {median:.2f} ms, max {worst:.2f} ms")

    snapshot = rules.current().blocklist
    last_ip = (
        f"10.{(quarter - 1) // 65536 % 256}.{(quarter - 1) // 256 % 256}.{(quarter - 1) % 256}"
    )

    def check_lead() -> None:
        for _ in range(100):
            _ = "ann@acme.example" in snapshot.emails
            _ = "acme.example" in snapshot.email_domains
            _ = "+31612345678" in snapshot.phones
            snapshot.ip_blocked("192.0.2.1")

    median, _worst = timed(check_lead, max(args.repeat // 5, 3))
    print(
        f"blocklist checks per lead:     median {median * 10:.1f} µs "
        f"({len(snapshot.networks):,} IP entries tested one by one)"
    )
    assert snapshot.ip_blocked(last_ip)

    user = make_user(Role.MARKETING, username="bench-marketing")
    client = Client()
    client.force_login(user)
    response = client.get("/assessment/config/")
    assert response.status_code == 200, response.status_code
    median, worst = timed(lambda: client.get("/assessment/config/"), max(args.repeat // 10, 3))
    print(
        f"render /assessment/config/:    median {median:.0f} ms, max {worst:.0f} ms, "
        f"{len(response.content) / 1024:.0f} KiB (the blocklist shows its first 100 entries)"
    )


if __name__ == "__main__":
    main()
