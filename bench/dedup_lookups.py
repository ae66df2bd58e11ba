"""Duplicate lookups at intake against a large lead table: lookups per second on SQLite.

    .venv/bin/python bench/dedup_lookups.py                       # 1,000,000 leads
    .venv/bin/python bench/dedup_lookups.py --leads 200000 --lookups 5000
    .venv/bin/python bench/dedup_lookups.py --reuse               # keep the loaded database

Loads --leads people into a fresh SQLite file database under --workdir (raw executemany through
leads.services.bulk.RawTable, as the demo loader does; never var/): names, addresses and
companies drawn from Faker-made pools (Dutch, Belgian, German, British, French), so surname and
postal-code blocks have realistic sizes. Then times `assessment.dedup.find_matches` — the same
call the dedup stage makes at intake — for --lookups unsaved leads: half new people, half
variants of stored leads (another e-mail, a typo, a swapped name, a missing phone). Prints
lookups/s, CPU time per lookup, latency percentiles, candidates per lookup and how many lookups
found a duplicate (`--without-contact`: the same probes without e-mail and phone).
Target: at least 5,000 lookups/s at 1,000,000 leads.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_quality import LOCALES, MAIL, setup_django

CHUNK = 20_000


def pools(seed: int) -> dict[str, Any]:
    """Faker-made value pools per country (calling Faker per row would take minutes)."""
    from faker import Faker

    result = {}
    for locale, country, weight in LOCALES:
        faker = Faker(locale)
        faker.seed_instance(seed)
        result[country] = {
            "weight": weight,
            "first": [faker.first_name() for _ in range(3000)],
            "last": [faker.last_name() for _ in range(20000)],
            "street": [faker.street_name() for _ in range(3000)],
            "city": [faker.city() for _ in range(2000)],
            "postcode": [faker.postcode() for _ in range(60000)],
            "company": [faker.company() for _ in range(5000)],
        }
    return result


def person(rng: random.Random, data: dict[str, Any], countries: list[str]) -> dict[str, Any]:
    country = rng.choices(countries, weights=[data[c]["weight"] for c in countries])[0]
    pool = data[country]
    first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
    local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
    b2b = rng.random() < 0.35
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{local}{rng.randrange(1000)}@{rng.choice(MAIL)}" if rng.random() < 0.93 else "",
        "phone_e164": f"+316{rng.randrange(10**8):08d}" if rng.random() < 0.85 else "",
        "street": rng.choice(pool["street"]),
        "house_number": str(rng.randint(1, 300)),
        "postal_code": rng.choice(pool["postcode"]) if rng.random() < 0.9 else "",
        "city": rng.choice(pool["city"]),
        "country": country,
        "company_name": rng.choice(pool["company"]) if b2b else "",
    }


def load(total: int, seed: int) -> None:
    import datetime as dt

    from django.db import connection, transaction

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.dedup.matching import name_key
    from leadloop.leads import services
    from leadloop.leads.models import ChannelKind, Lead, Organization
    from leadloop.leads.normalize import address_key, house_name_key, street_name_key
    from leadloop.leads.services.bulk import RawTable

    rng = random.Random(seed)
    data = pools(seed)
    countries = list(data)
    source = services.create_source(name="Bench", kind=ChannelKind.IMPORT, by=SYSTEM).source
    orgs = RawTable(Organization, with_pk=True)
    org_count = max(total // 40, 20)
    now = dt.datetime.now(dt.UTC)
    with transaction.atomic():
        orgs.insert(
            [
                orgs.row({"id": i, "name": f"Org {i}", "path": f"/{i}/", "created_at": now})
                for i in range(1, org_count + 1)
            ]
        )
    table = RawTable(Lead, with_pk=True)
    began = time.perf_counter()
    for start in range(0, total, CHUNK):
        rows = []
        for lead_id in range(start + 1, min(start + CHUNK, total) + 1):
            values = person(rng, data, countries)
            if values["company_name"]:
                values["organization_id"] = 1 + int(org_count * rng.random() ** 2)
            values.update(
                id=lead_id,
                source_id=source.pk,
                created_at=now - dt.timedelta(seconds=total - lead_id),
                updated_at=now,
                name_key=name_key(values["first_name"], values["last_name"]),
                address_key=address_key(values["house_number"], values["street"]),
                street_name_key=street_name_key(
                    values["street"], values["last_name"], values["first_name"]
                ),
                house_name_key=house_name_key(
                    values["house_number"], values["first_name"], values["last_name"]
                ),
            )
            rows.append(table.row(values))
        with transaction.atomic():
            table.insert(rows)
        done = min(start + CHUNK, total)
        print(f"  loaded {done:,} leads ({done / (time.perf_counter() - began):,.0f}/s)", end="\r")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"\nloaded {total:,} leads in {time.perf_counter() - began:.0f} s")


def probes(count: int, seed: int, total: int) -> list[Any]:
    """Unsaved leads to look up: half new people, half variants of stored leads."""
    from leadloop.leads.models import Lead

    rng = random.Random(seed + 1)
    data = pools(seed + 1)
    countries = list(data)
    stored_ids = [rng.randint(1, total) for _ in range(count // 2)]
    stored = Lead.objects.in_bulk(stored_ids)
    result = []
    for lead_id in stored_ids:
        lead = stored[lead_id]
        lead.pk = None
        change = rng.choice(("email", "typo", "swap", "phone"))
        if change == "email":
            lead.email = f"x{rng.randrange(10**6)}@{rng.choice(MAIL)}"
        elif change == "typo" and len(lead.last_name) > 3:
            lead.last_name = lead.last_name[:2] + lead.last_name[3:]
        elif change == "swap":
            lead.first_name, lead.last_name = lead.last_name, lead.first_name
        else:
            lead.phone_e164 = ""
        result.append(lead)
    for _ in range(count - len(result)):
        values = person(rng, data, countries)
        result.append(Lead(**values))
    rng.shuffle(result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default="/tmp/leadloop-bench-dedup")
    parser.add_argument("--reuse", action="store_true", help="Reuse a database loaded before.")
    parser.add_argument(
        "--without-contact",
        action="store_true",
        help="Look up the probes without their e-mail and phone (the wide net's cost).",
    )
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / f"lookups-{args.leads}.sqlite3"
    reuse = args.reuse and db_path.exists()
    if reuse:
        import os

        os.environ["LEADLOOP_SQLITE_PATH"] = str(db_path)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
        import django

        django.setup()
        print(f"reusing {db_path}")
    else:
        setup_django(db_path)
        load(args.leads, args.seed)
    from leadloop.assessment.dedup import matching as dedup

    leads = probes(args.lookups, args.seed, args.leads)
    if args.without_contact:
        for lead in leads:
            lead.email, lead.phone_e164 = "", ""
    for lead in leads[:200]:  # warm the page cache and the statement cache
        dedup.find_matches(lead)
    times, candidates, found = [], 0, 0
    began, cpu = time.perf_counter(), time.process_time()
    for lead in leads:
        t0 = time.perf_counter()
        matches = dedup.find_matches(lead)
        times.append(time.perf_counter() - t0)
        found += bool(matches and matches[0].score >= dedup.DUPLICATE_AT)
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    for lead in leads[:2000]:
        person_ = dedup.person_of(lead)
        candidates += len(dedup.candidate_rows(lead, person_))
    times.sort()
    ms = [t * 1000 for t in times]
    print(f"leads: {args.leads:,}; lookups: {len(leads):,}")
    print(f"lookups/s: {len(leads) / wall:,.0f}")
    # On a shared machine the wall clock counts other processes' turns too; the process's own
    # CPU time per lookup is the steadier figure to compare code by.
    print(
        f"CPU per lookup: {cpu / len(leads) * 1e6:.0f} µs ({len(leads) / cpu:,.0f} lookups/CPU-s)"
    )
    print(
        f"latency ms: mean {statistics.mean(ms):.3f}, p50 {ms[len(ms) // 2]:.3f}, "
        f"p99 {ms[int(len(ms) * 0.99)]:.3f}"
    )
    print(f"candidates per lookup (first 2,000): {candidates / min(len(leads), 2000):.1f}")
    print(f"lookups that found a duplicate: {found:,} ({found / len(leads):.1%})")


if __name__ == "__main__":
    main()
