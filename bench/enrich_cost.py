"""Cost of the offline enrichment stage per lead, and of loading its data.

    .venv/bin/python bench/enrich_cost.py [--leads 20000] [--orgs 5000]

Makes a fresh SQLite database in a temporary folder (never var/ or DATABASE_URL), migrates it,
adds organisations with e-mail domains, then runs `stages.enrich.enrich` over unsaved leads with
a mix of business and free-mail addresses, NL/BE/DE/US phones and postal codes. Prints the
median, p90 and p99 per lead (all four providers), the cost of each provider alone, and the
one-time costs: importing the module and the first carrier and address-data lookups. A geocoder
import is measured too, to show why the area name is not looked up.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_time_costs() -> dict[str, float]:
    code = (
        "import time, os, django; os.environ['DJANGO_SETTINGS_MODULE']='leadloop.settings';"
        "django.setup(); t=time.perf_counter();"
        "import leadloop.assessment.enrichment as e; a=time.perf_counter()-t;"
        "import phonenumbers; n=e.number_from_e164('+31612345678'); t=time.perf_counter();"
        "e.carrier.name_for_valid_number(n, 'en'); b=time.perf_counter()-t; t=time.perf_counter();"
        "e.region_for_postal_code('US', '94105'); c=time.perf_counter()-t; t=time.perf_counter();"
        "e.main_language('NL'); d=time.perf_counter()-t;"
        "rss=lambda: int(open('/proc/self/statm').read().split()[1])*4096/1e6; r=rss();"
        "t=time.perf_counter(); from phonenumbers import geocoder; g=time.perf_counter()-t;"
        "print(a, b, c, d, rss()-r, g)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    ).stdout.split()
    keys = ("import_s", "first_carrier_s", "first_us_postal_s", "first_language_s")
    values = dict(zip(keys, map(float, out[:4]), strict=True))
    values["geocoder_mb"], values["geocoder_import_s"] = float(out[4]), float(out[5])
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--orgs", type=int, default=5_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="leadloop-enrich-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ["LEADLOOP_VAR_DIR"] = str(workdir)
    os.environ["LEADLOOP_SQLITE_PATH"] = str(workdir / "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "leadloop.settings"
    os.environ.setdefault("TASKS_BACKEND", "dummy")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment import enrichment
    from leadloop.assessment.context import Context
    from leadloop.assessment.scoring import rules
    from leadloop.assessment.stages.enrich import enrich
    from leadloop.leads import services as leads_services
    from leadloop.leads.models import Lead, Organization

    call_command("migrate", verbosity=0)
    once = one_time_costs()
    source = leads_services.create_source(name="Bench", kind="api", by=SYSTEM).source
    Organization.objects.bulk_create(
        Organization(name=f"Company {i}", domain=f"company{i}.nl", path="/")
        for i in range(args.orgs)
    )
    rnd = random.Random(7)
    phones = ["+3161{:07d}", "+3120{:07d}", "+32470{:06d}", "+4930{:08d}", "+1415555{:04d}"]
    places = [
        ("NL", "1012 AB"),
        ("NL", "9712 CP"),
        ("BE", "2000"),
        ("DE", "80331"),
        ("US", "94105"),
    ]
    mails = ["gmail.com", "hotmail.com", "ziggo.nl"] + [f"company{i}.nl" for i in range(50)]

    def lead(i: int) -> Lead:
        country, postal = rnd.choice(places)
        domain = (
            rnd.choice(mails) if rnd.random() < 0.6 else f"company{rnd.randrange(args.orgs)}.nl"
        )
        return Lead(
            source=source,
            email=f"p{i}@{domain}",
            phone_e164=rnd.choice(phones).format(rnd.randrange(10**6)),
            country=country if rnd.random() < 0.7 else "",
            postal_code=postal,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )

    def context(item: Lead) -> Context:
        snapshot = rules.current()
        return Context(
            lead=item,
            meta={},
            now=timezone.now(),
            rules=snapshot,
            policy=snapshot.policy_for(source.pk),
            is_new=True,
        )

    leads = [lead(i) for i in range(args.leads)]
    for i in range(200):  # warm up: caches and first-use tables
        enrich(context(lead(i)))
    timings: list[float] = []
    for item in leads:
        ctx = context(item)
        began = time.perf_counter()
        enrich(ctx)
        timings.append(time.perf_counter() - began)
    per_provider = {}
    for provider in enrichment.OFFLINE_PROVIDERS:
        spent = []
        for i in range(5000):
            ctx = context(lead(i))
            began = time.perf_counter()
            provider.append(ctx)
            spent.append(time.perf_counter() - began)
        per_provider[provider.name] = statistics.median(spent) * 1e6
    print(f"leads: {args.leads}, organisations: {args.orgs}, database: SQLite (fresh)")
    median, p90, p99 = (
        statistics.median(timings) * 1e6,
        percentile(timings, 0.90) * 1e6,
        percentile(timings, 0.99) * 1e6,
    )
    print(f"enrich stage per lead: median {median:.1f} µs, p90 {p90:.1f} µs, p99 {p99:.1f} µs")
    for name, median in per_provider.items():
        print(f"  {name:<16} median {median:.1f} µs")
    print(
        "one-time: import {import_s:.3f} s, first carrier lookup {first_carrier_s:.4f} s, "
        "first US postal lookup {first_us_postal_s:.4f} s, first language lookup "
        "{first_language_s:.4f} s".format(**once)
    )
    print(
        "not used: phonenumbers.geocoder import {geocoder_import_s:.2f} s, "
        "+{geocoder_mb:.0f} MB resident".format(**once)
    )


if __name__ == "__main__":
    main()
