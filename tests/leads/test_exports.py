"""CSV and XLSX exports of the lead list: the filter, the user's scope, and inert formulas."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse

from leadloop.leads.exports import default_delimiter, delimiter_from, neutralise
from tests.conftest import shared_data_path
from tests.factories.leads import make_lead

CSV_URL = reverse("leads:lead-export", args=["csv"])
XLSX_URL = reverse("leads:lead-export", args=["xlsx"])


def _payloads() -> list[str]:
    path = shared_data_path("hostile", "pat_csv_formula_injection_payloads.txt")
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


def _csv_rows(response, delimiter: str = ",") -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body), delimiter=delimiter))


def _xlsx_sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+31", "+31"),  # a phone number in international form is not a formula
        ("+31 6 1234 5678", "+31 6 1234 5678"),
        ("+31+1", "'+31+1"),
        ("+1-2", "'+1-2"),
        ("+", "'+"),
        ("+ 31", "'+ 31"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann", "Ann"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_formula_starters(text, expected):
    assert neutralise(text) == expected


def test_csv_export_has_the_filtered_rows_in_list_order(logged_in_client, source, admin):
    make_lead(source, first_name="Ann", last_name="Bakker", email="ann@example.com")
    make_lead(source, first_name="Bob", last_name="Aalders", fit_grade="A")
    make_lead(source, first_name="Cas", last_name="Visser", fit_grade="A")

    response = logged_in_client(admin).get(CSV_URL, {"grade": "A", "sort": "last_name"})

    rows = _csv_rows(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads.csv"'
    assert rows[0][:4] == ["ID", "First name", "Last name", "E-mail"]
    assert [row[1:3] for row in rows[1:]] == [["Bob", "Aalders"], ["Cas", "Visser"]]


def test_export_contains_only_leads_the_user_may_see(logged_in_client, source, rep, other_rep):
    make_lead(source, first_name="Mine", assigned_to=rep)
    make_lead(source, first_name="Theirs", assigned_to=other_rep)

    rows = _csv_rows(logged_in_client(rep).get(CSV_URL))

    assert [row[1] for row in rows[1:]] == ["Mine"]


def test_export_stops_at_the_configured_maximum(logged_in_client, source, admin, settings):
    settings.LEADLOOP_EXPORT_MAX_ROWS = 2
    for _ in range(3):
        make_lead(source)

    rows = _csv_rows(logged_in_client(admin).get(CSV_URL))

    assert len(rows) == 3


def test_csv_export_neutralises_formula_payloads(logged_in_client, source, admin):
    payloads = _payloads()
    for n, payload in enumerate(payloads):
        make_lead(source, first_name=f"P{n}", company_name=payload, city=payload[:120])

    rows = _csv_rows(logged_in_client(admin).get(CSV_URL, {"sort": "created_at"}))

    header = rows[0]
    company, city = header.index("Company"), header.index("City")
    cells = [(row[company], row[city]) for row in rows[1:]]
    expected = [(neutralise(p.strip()), neutralise(p.strip()[:120])) for p in payloads]
    assert cells == expected
    assert all(not c.startswith(("=", "+", "-", "@")) for pair in cells for c in pair)


def test_xlsx_export_writes_formula_payloads_as_plain_strings(logged_in_client, source, admin):
    payloads = _payloads()
    for n, payload in enumerate(payloads):
        make_lead(source, first_name=f"P{n}", company_name=payload)

    response = logged_in_client(admin).get(XLSX_URL, {"sort": "created_at"})

    sheet = _xlsx_sheet(response)
    header = [cell.value for cell in sheet[1]]
    company = header.index("Company") + 1
    cells = [sheet.cell(row=r, column=company) for r in range(2, sheet.max_row + 1)]
    assert response["Content-Disposition"] == 'attachment; filename="leads.xlsx"'
    assert [c.value for c in cells] == [neutralise(p.strip()) for p in payloads]
    assert {c.data_type for c in cells} == {"s"}
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row if cell.value)


def test_xlsx_export_has_numbers_and_local_times(logged_in_client, source, admin):
    lead = make_lead(source, first_name="Ann", potential_revenue="1250.50")

    sheet = _xlsx_sheet(logged_in_client(admin).get(XLSX_URL))

    header = [cell.value for cell in sheet[1]]
    row = {name: sheet.cell(row=2, column=i + 1).value for i, name in enumerate(header)}
    assert row["ID"] == lead.pk
    assert row["Potential revenue"] == 1250.5
    local = lead.created_at.astimezone(ZoneInfo("Europe/Amsterdam"))
    assert row["Created"].strftime("%Y-%m-%d %H:%M") == local.strftime("%Y-%m-%d %H:%M")


def test_unknown_export_format_is_404(logged_in_client, admin):
    response = logged_in_client(admin).get(reverse("leads:lead-export", args=["pdf"]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("language", "expected"), [("nl", ";"), ("de", ";"), ("en", ","), ("en-gb", ","), ("xx", ",")]
)
def test_the_default_delimiter_is_the_one_excel_uses_in_the_language(language, expected):
    assert default_delimiter(language) == expected


def test_a_named_delimiter_overrides_the_language():
    assert delimiter_from("comma", language="nl") == ","
    assert delimiter_from("tab", language="nl") == "\t"
    assert delimiter_from("semicolon", language="en") == ";"
    assert delimiter_from("pipe; DROP TABLE", language="nl") == ";"
    assert delimiter_from(None, language="en") == ","


def test_dutch_export_opens_in_dutch_excel(logged_in_client, source, admin):
    """Semicolons, a BOM, decimal commas, Dutch headers, and phone numbers without apostrophes;
    a formula in a name stays inert."""
    from decimal import Decimal

    from leadloop.leads import services

    lead = make_lead(source, first_name="=HYPERLINK(1)", phone="06 1234 5678")
    services.update_lead(lead, {"potential_revenue": Decimal("1234.50")}, by=admin)

    response = logged_in_client(admin).get(CSV_URL, HTTP_ACCEPT_LANGUAGE="nl")

    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, row = rows[0], rows[1]
    assert "Voornaam" in header
    assert row[header.index("Voornaam")] == "'=HYPERLINK(1)"
    assert row[header.index("Telefoon")] == "+31612345678"
    revenue = next(h for h in header if "omzet" in h.lower())
    assert row[header.index(revenue)] == "1234,50"


def test_the_user_can_choose_the_delimiter(logged_in_client, source, admin):
    make_lead(source, first_name="Ann", phone="06 1234 5678")

    response = logged_in_client(admin).get(
        CSV_URL, {"delimiter": "comma"}, HTTP_ACCEPT_LANGUAGE="nl"
    )

    rows = _csv_rows(response, delimiter=",")
    assert rows[0][1] == "Voornaam"
    assert rows[1][1] == "Ann"
