"""De-duplication quality: precision and recall of the matcher on a generated set with known
duplicates.

    .venv/bin/python bench/dedup_quality.py                   # 5,000 people, seed 1
    .venv/bin/python bench/dedup_quality.py --people 20000 --seed 7 --show 20

Faker (seeded; Dutch, Belgian, German, British and French people) makes the originals. About a
third get one or two duplicates, each with one or more of: a typo in a name, first and last name
swapped, the phone typed another way (+31 6…, 06-…, 0031…), fields left out, a nickname, changed
case or diacritics, a Gmail address with dots or a +tag, another e-mail address. Hard negatives
sit beside them: family members at the same address (often the same landline or a shared
mailbox), colleagues at the same company, and namesakes elsewhere.

Every record is normalised as the intake does (leads.normalize), inserted into a fresh SQLite file
database, and the whole-database scan (assessment.dedup.iter_scan) finds the pairs scoring at
least DUPLICATE_AT. A pair is right when both records come from the same person. Target: 0.95
for both precision and recall.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCALES = (("nl_NL", "NL", 0.55), ("nl_BE", "BE", 0.1), ("de_DE", "DE", 0.15), ("en_GB", "GB", 0.1))
LOCALES += (("fr_FR", "FR", 0.1),)
MAIL = ("gmail.com", "hotmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "web.de", "yahoo.com")
CALLING = {"NL": "31", "BE": "32", "DE": "49", "GB": "44", "FR": "33"}
# Phone numbers per country: a mobile prefix and how many digits follow it (national form).
MOBILE = {"NL": ("06", 8), "BE": ("047", 7), "DE": ("0151", 8), "GB": ("0791", 7), "FR": ("06", 8)}
ACCENTS = str.maketrans("aeiouAEIOU", "áéïóüÁÉÏÓÜ")


def setup_django(db_path: Path) -> None:
    """A fresh SQLite file database for the bench (never var/), migrated, Django set up."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.environ["LEADLOOP_SQLITE_PATH"] = str(db_path)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


class People:
    """Seeded generator of people and of the ways the same person arrives twice."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.rng = random.Random(seed)
        self.fakers = []
        for locale, country, weight in LOCALES:
            faker = Faker(locale)
            faker.seed_instance(seed)
            self.fakers.append((faker, country, weight))
        self.companies = [self.fakers[0][0].company() for _ in range(400)]
        from leadloop.assessment.dedup.matching import NICKNAMES

        self.nick = {
            formal.capitalize(): [n.capitalize() for n in shorts]
            for formal, shorts in NICKNAMES.items()
        }

    def person(self) -> dict[str, Any]:
        rng = self.rng
        faker, country, _ = rng.choices(self.fakers, weights=[w for *_, w in self.fakers])[0]
        first = rng.choice(list(self.nick)) if rng.random() < 0.15 else faker.first_name()
        last = faker.last_name()
        local = rng.choice(
            (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{rng.randrange(10, 99)}",
                f"{last}.{first}",
            )
        )
        local = "".join(ch for ch in local.lower().replace(" ", "") if ch.isalnum() or ch == ".")
        prefix, digits = MOBILE[country]
        b2b = rng.random() < 0.35
        return {
            "country": country,
            "first_name": first,
            "last_name": last,
            "email": f"{local}@{rng.choice(MAIL)}" if rng.random() < 0.93 else "",
            "phone": prefix
            + str(rng.randint(1, 5))
            + "".join(str(rng.randrange(10)) for _ in range(digits - 1))
            if rng.random() < 0.85
            else "",
            "street": faker.street_name(),
            "house_number": str(rng.randint(1, 300)),
            "postal_code": faker.postcode() if rng.random() < 0.9 else "",
            "city": faker.city(),
            "company_name": rng.choice(self.companies) if b2b else "",
        }

    # --- Ways the same person arrives again ---------------------------------------------------

    def typo(self, text: str) -> str:
        if len(text) < 4:
            return text
        rng = self.rng
        i = rng.randrange(1, len(text) - 1)
        kind = rng.random()
        if kind < 0.33:
            return text[:i] + text[i + 1 :]  # a letter left out
        if kind < 0.66:
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # two letters swapped
        return text[:i] + text[i] + text[i:]  # a letter doubled

    def phone_format(self, phone: str, country: str) -> str:
        if not phone:
            return phone
        national = phone[1:]
        code = CALLING[country]
        return self.rng.choice(
            (
                f"+{code} {national[:1]} {national[1:]}",
                f"{phone[:2]}-{phone[2:]}",
                f"00{code}{national}",
                f"+{code}{national}",
                f"({phone[:3]}) {phone[3:]}",
            )
        )

    def duplicate(self, original: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        rng = self.rng
        dup = dict(original)
        kinds = rng.sample(
            [
                "typo",
                "swap",
                "phone",
                "missing",
                "nickname",
                "case",
                "gmail",
                "new_email",
                "moved",
            ],
            k=rng.choice((1, 1, 2, 2, 3)),
        )
        for kind in kinds:
            if kind == "typo":
                field = rng.choice(("first_name", "last_name"))
                dup[field] = self.typo(dup[field])
            elif kind == "swap":
                dup["first_name"], dup["last_name"] = dup["last_name"], dup["first_name"]
            elif kind == "phone":
                dup["phone"] = self.phone_format(dup["phone"], dup["country"])
            elif kind == "missing":
                for field in rng.sample(("email", "phone", "postal_code", "street", "city"), k=2):
                    dup[field] = ""
            elif kind == "nickname":
                shorts = self.nick.get(dup["first_name"])
                if shorts:
                    dup["first_name"] = rng.choice(shorts)
                else:
                    dup["first_name"] = dup["first_name"][0] + "."
            elif kind == "case":
                dup["last_name"] = rng.choice((str.upper, str.lower))(dup["last_name"])
                dup["first_name"] = dup["first_name"].translate(ACCENTS)
            elif kind == "gmail" and dup["email"]:
                local, _, _ = dup["email"].partition("@")
                dup["email"] = f"{local.replace('.', '')}+news@gmail.com"
                original["email"] = f"{local}@gmail.com"
            elif kind == "new_email":
                dup["email"] = (
                    f"{dup['first_name'][:1]}{dup['last_name']}{rng.randrange(100)}"
                    f"@{rng.choice(MAIL)}"
                ).lower()
                dup["email"] = "".join(ch for ch in dup["email"] if ch.isalnum() or ch in "@.")
            elif kind == "moved":
                # New address, same e-mail and phone (people move; their mobile moves along).
                faker = self.fakers[0][0]
                dup.update(
                    street=faker.street_name(), postal_code=faker.postcode(), city=faker.city()
                )
        if not (dup["email"] or dup["phone"]) and original["phone"]:
            dup["phone"] = original["phone"]
        if "moved" in kinds and not _shares_contact(original, dup):
            # Someone who moved and changed e-mail and phone is a stranger to any matcher.
            dup["phone"] = original["phone"] or dup["phone"]
            dup["email"] = dup["email"] or original["email"]
        return dup, kinds

    # --- Different people who look alike ------------------------------------------------------

    def family_member(self, person: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        faker = next(f for f, c, _ in self.fakers if c == person["country"])
        from rapidfuzz.distance import Indel

        first = faker.first_name()
        while Indel.normalized_similarity(first.lower(), person["first_name"].lower()) > 0.6:
            first = faker.first_name()
        other = dict(person, first_name=first, company_name="")
        other["email"] = (
            ""
            if rng.random() < 0.3
            else f"{other['first_name'].lower()}{rng.randrange(100)}@{rng.choice(MAIL)}"
        )
        if rng.random() < 0.5:
            other["phone"] = ""
        return other

    def colleague(self, person: dict[str, Any]) -> dict[str, Any]:
        other = self.person()
        other["company_name"] = person["company_name"] or self.rng.choice(self.companies)
        return other

    def namesake(self, person: dict[str, Any]) -> dict[str, Any]:
        other = self.person()
        other.update(first_name=person["first_name"], last_name=person["last_name"])
        return other


def _shares_contact(a: dict[str, Any], b: dict[str, Any]) -> bool:
    digits = "".join(ch for ch in a["phone"] if ch.isdigit())[-9:]
    same_phone = bool(digits) and digits == "".join(ch for ch in b["phone"] if ch.isdigit())[-9:]
    return same_phone or (bool(a["email"]) and a["email"] == b["email"])


def normalised(record: dict[str, Any]) -> dict[str, Any]:
    """The lead values the intake would store for `record` (e-mail and phone normalised)."""
    from leadloop.assessment.dedup.matching import name_key
    from leadloop.leads.normalize import (
        InvalidValue,
        address_key,
        normalize_email,
        normalize_phone,
    )

    values = {k: v for k, v in record.items() if k != "phone"}
    try:
        values["email"] = normalize_email(record["email"]) if record["email"] else ""
    except InvalidValue:
        values["email"] = ""
    try:
        e164 = normalize_phone(record["phone"], region=record["country"]) if record["phone"] else ""
    except InvalidValue:
        e164 = ""
    values["phone_raw"], values["phone_e164"] = record["phone"], e164
    values["name_key"] = name_key(values["first_name"], values["last_name"])
    values["address_key"] = address_key(values["house_number"], values["street"])
    return values


def generate(people: People, count: int) -> list[tuple[int, dict[str, Any], str]]:
    """(person id, record, kind) for `count` originals, their duplicates and look-alikes."""
    rng = people.rng
    records: list[tuple[int, dict[str, Any], str]] = []
    next_person = count
    for pid in range(count):
        original = people.person()
        extra: list[tuple[int, dict[str, Any], str]] = []
        roll = rng.random()
        if roll < 0.3:
            for _ in range(rng.choice((1, 1, 2))):
                dup, kinds = people.duplicate(original)
                extra.append((pid, dup, "+".join(kinds)))
        elif roll < 0.4:
            extra.append((next_person, people.family_member(original), "family"))
            next_person += 1
        elif roll < 0.47 and original["company_name"]:
            extra.append((next_person, people.colleague(original), "colleague"))
            next_person += 1
        elif roll < 0.52:
            extra.append((next_person, people.namesake(original), "namesake"))
            next_person += 1
        records.append((pid, original, "original"))
        records.extend(extra)
    return records


def load(records: list[tuple[int, dict[str, Any], str]]) -> dict[int, int]:
    """Insert the records as leads; returns lead id → person id."""
    import datetime as dt

    from django.db import transaction

    from leadloop.accounts.actors import SYSTEM
    from leadloop.leads import services
    from leadloop.leads.models import ChannelKind, Lead
    from leadloop.leads.services.bulk import RawTable

    source = services.create_source(name="Bench", kind=ChannelKind.IMPORT, by=SYSTEM).source
    table = RawTable(Lead, with_pk=True)
    now = dt.datetime.now(dt.UTC)
    rows, owner = [], {}
    for lead_id, (pid, record, _) in enumerate(records, start=1):
        values = normalised(record)
        values.update(id=lead_id, source_id=source.pk, created_at=now, updated_at=now)
        rows.append(table.row(values))
        owner[lead_id] = pid
    with transaction.atomic():
        table.insert(rows)
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=5000, help="Originals to generate (5000).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default="/tmp/leadloop-bench-dedup")
    parser.add_argument(
        "--show", type=int, default=10, help="Print this many mistakes of each kind."
    )
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    setup_django(workdir / "quality.sqlite3")
    from leadloop.assessment.dedup import matching as dedup

    people = People(args.seed)
    records = generate(people, args.people)
    owner = load(records)
    kind_of = {lead_id: records[lead_id - 1][2] for lead_id in owner}
    truth = set()
    by_person: dict[int, list[int]] = {}
    for lead_id, pid in owner.items():
        by_person.setdefault(pid, []).append(lead_id)
    for ids in by_person.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                truth.add((max(a, b), min(a, b)))
    began = time.perf_counter()
    found = {(a, b): m for a, b, m in dedup.iter_scan(min_score=dedup.DUPLICATE_AT)}
    took = time.perf_counter() - began
    right = {p for p in found if p in truth}
    precision = len(right) / len(found) if found else 1.0
    recall = len(right) / len(truth) if truth else 1.0
    print(f"records: {len(records):,} ({args.people:,} people, seed {args.seed})")
    print(
        f"true duplicate pairs: {len(truth):,}; pairs found: {len(found):,}; right: {len(right):,}"
    )
    print(f"precision: {precision:.4f}")
    print(f"recall:    {recall:.4f}")
    print(f"scan: {took:.1f} s ({len(records) / took:,.0f} leads/s)")
    missed = sorted(truth - set(found))
    wrong = sorted(set(found) - truth)
    missed_kinds: dict[str, int] = {}
    for a, _b in missed:
        for kind in kind_of[a].split("+"):
            missed_kinds[kind] = missed_kinds.get(kind, 0) + 1
    wrong_kinds: dict[str, int] = {}
    for a, b in wrong:
        kind = kind_of[a] if kind_of[a] != "original" else kind_of[b]
        wrong_kinds[kind] = wrong_kinds.get(kind, 0) + 1
    print(f"missed by kind of change: {dict(sorted(missed_kinds.items()))}")
    print(f"wrong pairs by kind of look-alike: {dict(sorted(wrong_kinds.items()))}")

    def show(pair: tuple[int, int]) -> str:
        def cols(lead_id: int) -> str:
            r = records[lead_id - 1][1]
            return (
                f"{r['first_name']} {r['last_name']} <{r['email']}> {r['phone']} "
                f"{r['postal_code']} {r['house_number']} {r['street']}, {r['city']} "
                f"[{r['company_name']}]"
            )

        a, b = pair
        match = found.get(pair)
        why = f"{match.score:.2f} {', '.join(match.reasons)}" if match else ""
        return f"  {kind_of[a]}/{kind_of[b]} {why}\n    {cols(b)}\n    {cols(a)}"

    for title, pairs in (("missed", missed), ("wrong", wrong)):
        if pairs and args.show:
            print(f"{title} (first {args.show}):")
            for pair in pairs[: args.show]:
                print(show(pair))


if __name__ == "__main__":
    main()
