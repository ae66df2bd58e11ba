"""How many of a CRM or ad platform's export columns map to lead fields without help.

    .venv/bin/python bench/header_mapping.py            # a table per format
    .venv/bin/python bench/header_mapping.py --json

The formats are the header lines in tests/intake/test_export_headers.py (the export's column
names with the lead field each person or company column should fill) plus the real export files
in ../shared/data/exports, whose expected fields are listed below. For each: the columns, the
person and company columns, how many of those `suggest_mapping` (what the import page and
`leadloop import` use) maps to the right field, and any column mapped to a field it does not
mean. Also the cost of one label lookup (`field_for_label`, cached synonyms), known and unknown.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "exports"
# The real files: their contact columns and the field each must fill.
REAL_FILES = {
    "salesforce_contacts_report_export.csv": {
        "First Name": "first_name", "Last Name": "last_name", "Email": "email", "Phone": "phone",
        "Account Name": "company_name", "Mailing City": "city",
        "Mailing State/Province": "region", "Mailing Zip/Postal Code": "postal_code",
    },
    "hubspot_contacts_export_messy.csv": {
        "Record ID": "external_ref", "First Name": "first_name", "Last Name": "last_name",
        "Email": "email", "Phone Number": "phone", "Associated Company": "company_name",
        "Country/Region": "country",
    },
    "pipedrive_org_person_export_sv.csv": {
        "Organization - Name": "company_name", "Person - Name": "full_name",
        "Person - Email": "email",
    },
    "facebook_lead_ads_export_header_real.csv": {
        "id": "external_ref", "campaign_name": "campaign", "full_name": "full_name",
        "phone_number": "phone", "email": "email",
    },
    "nl_sportlink_members_export.csv": {
        "Relatienummer": "external_ref", "Voornaam": "first_name", "Achternaam": "last_name",
        "E-mailadres": "email",
    },
}  # fmt: skip


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from tests.intake.test_export_headers import FORMATS

    from leadloop.intake.imports.reader import suggest_mapping
    from leadloop.intake.synonyms import field_for_label

    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        name: (next(csv.reader([line])), wanted) for name, (line, wanted) in FORMATS.items()
    }
    for filename, wanted in REAL_FILES.items():
        path = SHARED / filename
        if path.is_file():
            cases[f"file:{filename}"] = (_header(path), wanted)
    rows = []
    for name, (headers, wanted) in cases.items():
        got = suggest_mapping(headers)
        right = sum(1 for header, field in wanted.items() if got.get(header) == field)
        wrong = {h: got[h] for h in headers if got[h] and got[h] != wanted.get(h)}
        rows.append(
            {
                "format": name,
                "columns": len(headers),
                "contact_columns": len(wanted),
                "mapped": right,
                "share": round(right / len(wanted), 4),
                "wrong": wrong,
            }
        )
    labels = [h for headers, _w in cases.values() for h in headers]
    unknown = [f"Column {n} of the sheet" for n in range(len(labels))]
    timings = {}
    for kind, sample in (("known", labels), ("unknown", unknown)):
        rounds = max(1, 200_000 // len(sample))
        began = time.perf_counter()
        for _ in range(rounds):
            for label in sample:
                field_for_label(label)
        timings[kind] = round((time.perf_counter() - began) / (rounds * len(sample)) * 1e6, 2)
    total = sum(r["contact_columns"] for r in rows)
    mapped = sum(r["mapped"] for r in rows)
    result = {
        "formats": rows,
        "overall_share": round(mapped / total, 4),
        "lookup_us": timings,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'format':<48} {'columns':>7} {'contact':>7} {'mapped':>6} {'share':>6}  wrong")
    for r in rows:
        print(
            f"{r['format']:<48} {r['columns']:>7} {r['contact_columns']:>7} {r['mapped']:>6} "
            f"{r['share']:>6.0%}  {r['wrong'] or ''}"
        )
    print(
        f"\nAll formats: {mapped}/{total} contact columns mapped ({mapped / total:.1%}). "
        f"One lookup: {timings['known']} µs (a known label), {timings['unknown']} µs (unknown)."
    )


if __name__ == "__main__":
    main()
