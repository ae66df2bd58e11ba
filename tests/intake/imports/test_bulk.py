"""Batch import end to end on the real database: leads, timeline, report, idempotency."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import xlsxwriter

from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.imports.bulk import import_file, resolve_plan, validate_rows
from leadloop.intake.imports.bulk.rows import _Plan as Plan
from leadloop.intake.models import ImportBatch, ImportState
from leadloop.leads.models import Activity, ActivityKind, ChannelKind, Lead
from leadloop.leads.normalize import build_search_text
from leadloop.leads.services import clean_lead_input
from tests.conftest import shared_data_path
from tests.factories.leads import make_campaign, make_source

NO_CONTACT = (
    "Give an e-mail address, a phone number, or a complete postal address (street, postal "
    "code and city) with a name."
)


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def crm(db):
    return make_source("CRM import", kind=ChannelKind.IMPORT)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


LEADS = [
    ["Voornaam", "Achternaam", "E-mailadres", "Telefoon", "Bedrijf", "Nieuwsbrief"],
    ["Noa", "Jansen", "noa@example.nl", "06-12345678", "Jansen Bouw B.V.", "ja"],
    ["Milan", "de Vries", "", "+31 20 123 4567", "", ""],
    ["Zoë", "Bakker", "not-an-email", "", "", "nee"],
    ["", "", "", "", "Alleen Bedrijf", ""],
    ["Sem", "Smit", "sem@example.com", "12", "", ""],
]


def test_csv_import_creates_leads_with_search_text_and_one_created_entry_each(
    crm, marketing, var_dir, tmp_path
):
    path = _csv(tmp_path / "leads.csv", LEADS)

    report = import_file(path, source=crm, by=marketing)

    assert (report.rows_read, report.created, report.rejected, report.set_aside) == (5, 3, 2, 1)
    leads = list(Lead.objects.order_by("id"))
    assert [(lead.first_name, lead.email, lead.phone_e164) for lead in leads] == [
        ("Noa", "noa@example.nl", "+31612345678"),
        ("Milan", "", "+31201234567"),
        ("Sem", "sem@example.com", ""),
    ]
    noa = leads[0]
    assert noa.company_name == "Jansen Bouw B.V."
    assert noa.extra == {"Nieuwsbrief": "ja"}
    assert noa.search_text == build_search_text(
        first_name="Noa",
        last_name="Jansen",
        email="noa@example.nl",
        company_name="Jansen Bouw B.V.",
        phone_e164="+31612345678",
        phone_raw="06-12345678",
    )
    assert noa.external_ref == f"import:{report.sha256[:16]}:2"
    assert noa.created_by == marketing
    assert leads[2].extra == {"invalid.phone": "12"}
    entries = list(Activity.objects.order_by("lead_id").values_list("lead_id", "kind", "data"))
    assert entries == [
        (
            lead.pk,
            ActivityKind.CREATED,
            {"source": "CRM import", "import_batch": report.batch_id, "row": row},
        )
        for lead, row in zip(leads, (2, 3, 6), strict=True)
    ]
    assert Activity.objects.get(lead=noa).actor_user == marketing


def test_original_file_is_kept_with_its_hash_and_rejected_rows_are_reported(
    crm, marketing, var_dir, tmp_path
):
    path = _csv(tmp_path / "leads.csv", LEADS)

    report = import_file(path, source=crm, by=marketing)

    batch = ImportBatch.objects.get()
    assert batch.state == ImportState.DONE
    assert batch.file_sha256 == report.sha256
    assert (var_dir / batch.stored_path).read_bytes() == path.read_bytes()
    assert (batch.rows_read, batch.rows_created, batch.rows_rejected) == (5, 3, 2)
    with open(report.report_path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["row", "reasons", *LEADS[0]],
        [
            "4",
            "email: Not a valid e-mail address (An email address must have an @-sign)",
            *LEADS[3],
        ],
        ["5", NO_CONTACT, *LEADS[4]],
    ]
    assert [(r.row, r.reasons[0]["code"]) for r in report.rejected_sample] == [
        (4, "invalid"),
        (5, "no_contact"),
    ]


def test_dry_run_validates_every_row_and_writes_nothing(crm, marketing, var_dir, tmp_path):
    path = _csv(tmp_path / "leads.csv", LEADS)

    report = import_file(path, source=crm, by=marketing, dry_run=True)

    assert (report.rows_read, report.created, report.rejected) == (5, 3, 2)
    assert report.batch_id is None
    assert Lead.objects.count() == 0
    assert Activity.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert not (var_dir / "imports").exists()


def test_same_file_twice_creates_no_duplicates(crm, marketing, var_dir, tmp_path):
    path = _csv(tmp_path / "leads.csv", LEADS)
    first = import_file(path, source=crm, by=marketing)

    second = import_file(path, source=crm, by=marketing)

    assert second.already_imported is True
    assert second.batch_id == first.batch_id
    assert second.created == 0
    assert Lead.objects.count() == 3
    assert Activity.objects.count() == 3
    assert ImportBatch.objects.count() == 1


def test_rerun_of_a_failed_import_adds_only_the_missing_rows(crm, marketing, var_dir, tmp_path):
    path = _csv(tmp_path / "leads.csv", LEADS)
    import_file(path, source=crm, by=marketing)
    batch = ImportBatch.objects.get()
    batch.state = ImportState.FAILED
    batch.save()
    Lead.objects.filter(first_name="Sem").delete()

    report = import_file(path, source=crm, by=marketing)

    assert (report.created, report.duplicates, report.rejected) == (1, 2, 2)
    assert sorted(Lead.objects.values_list("first_name", flat=True)) == ["Milan", "Noa", "Sem"]
    assert ImportBatch.objects.get().state == ImportState.DONE


def test_id_column_is_the_external_reference_and_a_repeat_in_the_file_is_rejected(
    crm, marketing, var_dir
):
    path = shared_data_path("exports", "nl_sportlink_members_export.csv")

    report = import_file(path, source=crm, by=marketing)

    assert (report.created, report.rejected) == (1, 1)
    lead = Lead.objects.get()
    assert (lead.external_ref, lead.first_name, lead.extra) == (
        "DSV-1",
        "Noa",
        {"Team": "JO13-1", "Actief": "Ja"},
    )
    assert report.rejected_sample[0].row == 3
    assert report.rejected_sample[0].reasons[0]["code"] == "repeated_ref"


def test_xlsx_import_reads_numbers_as_typed_and_keeps_formulas_as_text(
    crm, marketing, var_dir, tmp_path
):
    hostile = Path(shared_data_path("hostile", "pat_csv_formula_injection_payloads.txt"))
    payloads = [line for line in hostile.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path / "leads.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["First Name", "Phone Number", "Company", "Comments"])
    for row, payload in enumerate(payloads, start=1):
        sheet.write_string(row, 0, payload[:150])
        sheet.write_number(row, 1, 612345000 + row)
        sheet.write_string(row, 2, payload)
        sheet.write_string(row, 3, payload)
    book.close()

    report = import_file(path, source=crm, by=marketing)

    assert (report.created, report.rejected) == (len(payloads), 0)
    leads = list(Lead.objects.order_by("id"))
    assert [lead.company_name for lead in leads] == [p.strip() for p in payloads]
    assert [lead.extra["comments"] for lead in leads] == [p.strip() for p in payloads]
    assert leads[0].phone_raw == "612345001"
    assert leads[0].phone_e164 == "+31612345001"


def test_hostile_strings_are_stored_as_the_text_they_are(crm, marketing, var_dir, tmp_path):
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        strings = [s for s in json.load(handle) if s.strip() and "\x00" not in s]
    rows = [["email", "company", "comments"]]
    rows += [[f"p{i}@example.com", s[:255], s] for i, s in enumerate(strings)]
    path = _csv(tmp_path / "naughty.csv", rows)

    report = import_file(path, source=crm, by=marketing)

    assert report.rejected == 0
    assert report.created == len(strings)
    stored = dict(Lead.objects.values_list("email", "company_name"))
    assert [stored[f"p{i}@example.com"] for i in range(len(strings))] == [
        s[:255].strip() for s in strings
    ]


def test_campaign_and_unmapped_columns(crm, marketing, var_dir, tmp_path):
    campaign = make_campaign(crm, "Beurs 2026")
    path = _csv(tmp_path / "c.csv", [["Email", "Stand"], ["ann@example.com", "B12"]])

    import_file(path, source=crm, by=marketing, campaign=campaign)

    lead = Lead.objects.get()
    assert lead.campaign == campaign
    assert lead.extra == {"Stand": "B12"}


def test_campaign_of_another_source_is_refused(crm, marketing, var_dir, tmp_path):
    other = make_campaign(make_source("Other"), "Elsewhere")
    path = _csv(tmp_path / "c.csv", [["Email"], ["ann@example.com"]])

    with pytest.raises(ValidationFailed):
        import_file(path, source=crm, by=marketing, campaign=other)

    assert ImportBatch.objects.count() == 0


def test_a_sales_rep_may_not_import(crm, rep, var_dir, tmp_path):
    path = _csv(tmp_path / "c.csv", [["Email"], ["ann@example.com"]])

    with pytest.raises(NotAllowed):
        import_file(path, source=crm, by=rep)

    assert Lead.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_worker_processes_give_the_same_result_as_inline_validation(
    crm, marketing, var_dir, tmp_path
):
    rows = [LEADS[0]] + [
        [f"Naam{i}", "Test", f"n{i}@example.nl", f"06-1234{i:04d}", "", ""] for i in range(40)
    ]
    path = _csv(tmp_path / "many.csv", rows)

    report = import_file(path, source=crm, by=marketing, workers=2, chunk_rows=7)

    assert (report.rows_read, report.created, report.rejected) == (40, 40, 0)
    assert Lead.objects.count() == 40
    ids = set(Lead.objects.values_list("id", flat=True))
    assert set(Activity.objects.values_list("lead_id", flat=True)) == ids
    assert Lead.objects.get(email="n39@example.nl").phone_e164 == "+31612340039"


MIXED = [
    {"E-mail": "ANN@Example.COM", "Telefoon": "06 12345678", "Land": "nl"},
    {"E-mail": "bad@", "Telefoon": "020-1234567", "Land": "NL"},
    {"E-mail": "", "Telefoon": "", "Land": ""},
    {"E-mail": "x@example.de", "Telefoon": "0301234567", "Land": "DE"},
    {"E-mail": "y@example.com", "Telefoon": "12", "Land": "Nederland"},
    {"E-mail": "z@example.com", "Telefoon": "+44 20 7946 0958", "Land": "UK"},
    {"E-mail": "nul\x00@example.com", "Telefoon": "", "Land": ""},
]


def test_bulk_validation_gives_what_clean_lead_input_gives(crm):
    headers = ["E-mail", "Telefoon", "Land"]
    document, _suggestion = resolve_plan(headers, source=crm, mapping=None)
    plan = Plan(headers=headers, mapping=document, default_region="NL", default_language="")
    rows = [(n, [r[h] for h in headers]) for n, r in enumerate(MIXED, start=2)]

    results = validate_rows(rows, plan)

    expected = []
    for record in MIXED:
        data = {"email": record["E-mail"], "phone": record["Telefoon"], "country": record["Land"]}
        data = {k: v.strip() for k, v in data.items() if v.strip()}
        try:
            expected.append(("ok", clean_lead_input(data, default_region="NL")))
        except ValidationFailed as exc:
            expected.append(("invalid", sorted(exc.errors)))
    got = []
    for result in results:
        if result[0] == "ok" and not result[4]:
            values = {
                k: v
                for k, v in result[2].items()
                if k
                not in (
                    "search_text",
                    "name_key",
                    "address_key",
                    "street_name_key",
                    "house_name_key",
                )
            }
            got.append(("ok", values))
        elif result[0] == "ok":
            got.append(("invalid", sorted({w["field"] for w in result[4]})))
        elif result[2][0]["code"] == "no_contact":
            got.append(("ok", {}))
        else:
            got.append(("invalid", sorted({r["field"] for r in result[2]})))
    assert got == expected
