"""Batch files read as a header and text rows: encodings, delimiters, spreadsheets, bad files."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

import pytest
import xlsxwriter
from openpyxl import Workbook

from leadloop.intake.imports.reader import (
    ImportFileError,
    detect_delimiter,
    detect_encoding,
    open_table,
    suggest_mapping,
)
from tests.conftest import shared_data_path


def _read(path, filename=None):
    table = open_table(path, filename=filename or path.name)
    return table, list(table.numbered_rows())


def _formula_payloads() -> list[str]:
    path = shared_data_path("hostile", "pat_csv_formula_injection_payloads.txt")
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


def _write_ods(path, rows: list[list[str]]) -> None:
    """A minimal OpenDocument spreadsheet: mimetype, manifest and content, text cells only."""
    body = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(cell)}</text:p>'
            "</table:table-cell>"
            for cell in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Leads">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)


# --- Encodings -----------------------------------------------------------------------------------


def test_utf8_file_with_bom_loses_the_bom_from_its_first_header(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Voornaam,E-mailadres\nZoë,zoe@example.nl\n".encode())

    table, rows = _read(path)

    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Voornaam", "E-mailadres"]
    assert rows == [(2, ["Zoë", "zoe@example.nl"])]


def test_windows_1252_file_reads_accents_and_the_euro_sign(tmp_path):
    path = tmp_path / "export.csv"
    text = "Naam;Plaats;Budget\nRené Dubois;Genève;€ 1.250\nJosé Müller;Café Noël;€ 99\n"
    path.write_bytes(text.encode("cp1252"))

    table, rows = _read(path)

    assert table.encoding == "cp1252"
    assert table.delimiter == ";"
    assert rows == [
        (2, ["René Dubois", "Genève", "€ 1.250"]),
        (3, ["José Müller", "Café Noël", "€ 99"]),
    ]


def test_utf16_file_with_bom_is_read_as_text(tmp_path):
    path = tmp_path / "excel-unicode.txt"
    path.write_bytes("First Name\tEmail\nÅsa\tasa@example.se\n".encode("utf-16"))

    table, rows = _read(path)

    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert rows == [(2, ["Åsa", "asa@example.se"])]


def test_utf8_file_with_one_stray_windows_1252_byte_keeps_both_readable(tmp_path):
    path = tmp_path / "glued.csv"
    path.write_bytes("name,city\nZoë,Zürich\n".encode() + "René,Liège\n".encode("cp1252"))

    _table, rows = _read(path)

    assert rows == [(2, ["Zoë", "Zürich"]), (3, ["René", "Liège"])]


def test_plain_ascii_sample_is_utf8():
    assert detect_encoding(b"email\nann@example.com\n") == "utf-8"


# --- Delimiters and quoting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delimiter", "name"),
    [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")],
)
def test_delimiter_is_detected(tmp_path, delimiter, name):
    path = tmp_path / f"{name}.csv"
    lines = ["email,phone,city", "ann@example.com,+31 6 12345678,Den Haag", "bo@example.nl,,Ede"]
    path.write_text("\n".join(line.replace(",", delimiter) for line in lines) + "\n")

    table, rows = _read(path)

    assert table.delimiter == delimiter
    assert table.headers == ["email", "phone", "city"]
    assert rows == [
        (2, ["ann@example.com", "+31 6 12345678", "Den Haag"]),
        (3, ["bo@example.nl", "", "Ede"]),
    ]


def test_quoted_values_keep_their_delimiters_quotes_and_newlines(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text(
        'name,comments,city\r\n"Ann, Jr.","Line one\r\nline ""two""",Utrecht\r\nBo,short,Ede\r\n',
        newline="",
    )

    table, rows = _read(path)

    assert table.delimiter == ","
    assert rows == [
        (2, ["Ann, Jr.", 'Line one\r\nline "two"', "Utrecht"]),
        (3, ["Bo", "short", "Ede"]),
    ]


def test_rows_longer_or_shorter_than_the_header_are_padded_trimmed_and_counted(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,\n")

    table, rows = _read(path)

    assert rows == [
        (2, ["1", "2", "3"]),
        (3, ["4", "5", ""]),
        (4, ["6", "7", "8"]),
        (5, ["10", "11", "12"]),
    ]
    assert table.ragged_rows == 2
    assert table.ragged_examples == [(3, 2), (4, 4)]


def test_blank_rows_are_skipped_but_still_counted_in_row_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("\n\nemail,name\n\nann@example.com,Ann\n,\n , \nbo@example.com,Bo\n")

    table, rows = _read(path)

    assert table.headers == ["email", "name"]
    assert rows == [(5, ["ann@example.com", "Ann"]), (8, ["bo@example.com", "Bo"])]


def test_blank_and_repeated_headers_get_names_of_their_own(tmp_path):
    path = tmp_path / "headers.csv"
    path.write_text(" Email ,,Email,Phone,\nann@example.com,x,other@example.com,06,\n")

    table, rows = _read(path)

    assert table.headers == ["Email", "Column 2", "Email (2)", "Phone"]
    assert rows == [(2, ["ann@example.com", "x", "other@example.com", "06"])]


def test_formula_payloads_in_csv_cells_come_back_as_the_same_text(tmp_path):
    payloads = _formula_payloads()
    path = tmp_path / "hostile.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "comments"])
    writer.writerows([f"p{i}@example.com", payload] for i, payload in enumerate(payloads))
    path.write_text(buffer.getvalue(), newline="")

    _table, rows = _read(path)

    assert [cells[1] for _n, cells in rows] == payloads


# --- Spreadsheets --------------------------------------------------------------------------------


def test_xlsx_numbers_and_dates_read_as_a_person_typed_them(tmp_path):
    path = tmp_path / "leads.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Leads")
    date_format = book.add_format({"num_format": "dd-mm-yyyy"})
    sheet.write_row(0, 0, ["Voornaam", "Telefoon", "Datum", "Tijdstip", "Budget", "Akkoord"])
    sheet.write_string(1, 0, "Noa")
    sheet.write_number(1, 1, 612345678.0)
    sheet.write_datetime(1, 2, dt.datetime(2026, 5, 1), date_format)
    sheet.write_datetime(1, 3, dt.datetime(2026, 5, 1, 9, 30), date_format)
    sheet.write_number(1, 4, 1250.5)
    sheet.write_boolean(1, 5, True)
    book.close()

    table, rows = _read(path)

    assert table.format == "spreadsheet"
    assert table.headers == ["Voornaam", "Telefoon", "Datum", "Tijdstip", "Budget", "Akkoord"]
    assert rows == [(2, ["Noa", "612345678", "2026-05-01", "2026-05-01 09:30", "1250.5", "TRUE"])]


def test_xlsx_headers_are_the_first_non_empty_row_and_row_numbers_match_the_sheet(tmp_path):
    path = tmp_path / "offset.xlsx"
    book = Workbook()
    sheet = book.active
    sheet["B3"] = "Email"
    sheet["C3"] = "Name"
    sheet["B4"] = "ann@example.com"
    sheet["C4"] = "Ann"
    sheet["B6"] = "bo@example.com"
    book.save(path)

    table, rows = _read(path)

    assert table.headers == ["Email", "Name"]
    assert rows == [(4, ["ann@example.com", "Ann"]), (6, ["bo@example.com", ""])]


def test_formula_payloads_in_xlsx_text_cells_come_back_as_the_same_text(tmp_path):
    payloads = _formula_payloads()
    path = tmp_path / "hostile.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["email", "comments"])
    for row, payload in enumerate(payloads, start=1):
        sheet.write_string(row, 0, f"p{row}@example.com")
        sheet.write_string(row, 1, payload)
    book.close()

    _table, rows = _read(path)

    assert [cells[1] for _n, cells in rows] == payloads


def test_ods_spreadsheet_is_read(tmp_path):
    path = tmp_path / "leden.ods"
    _write_ods(path, [["Voornaam", "E-mailadres"], ["Noa", "noa@example.nl"], ["=Milan", ""]])

    table, rows = _read(path)

    assert table.headers == ["Voornaam", "E-mailadres"]
    assert rows == [(2, ["Noa", "noa@example.nl"]), (3, ["=Milan", ""])]


def test_spreadsheet_named_csv_is_still_read_as_a_spreadsheet(tmp_path):
    path = tmp_path / "really-an-xlsx.csv"
    book = Workbook()
    book.active.append(["email"])
    book.active.append(["ann@example.com"])
    book.save(path)

    table, rows = _read(path)

    assert table.format == "spreadsheet"
    assert rows == [(2, ["ann@example.com"])]


# --- Bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", codecs.BOM_UTF8, b",,,\n,,\n"])
def test_empty_file_is_refused_with_a_reason(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)

    with pytest.raises(ImportFileError) as raised:
        open_table(path, filename="empty.csv")

    assert str(raised.value) == "The file is empty."


def test_header_only_file_is_valid_and_has_no_rows(tmp_path):
    path = shared_data_path("exports", "salesforce_leads_export_header.csv")

    table = open_table(path, filename="salesforce_leads_export_header.csv")

    assert table.headers[:4] == ["Lead ID", "FirstName", "LastName", "Email"]
    assert list(table.rows()) == []


def test_empty_xlsx_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "empty.xlsx"
    Workbook().save(path)

    with pytest.raises(ImportFileError) as raised:
        open_table(path, filename="empty.xlsx")

    assert str(raised.value) == "The file is empty."


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20),
        ("leads.xlsx", b"PK\x03\x04 this is not really a zip archive"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    ],
)
def test_binary_that_is_not_a_spreadsheet_is_refused_with_a_reason(tmp_path, filename, content):
    path = tmp_path / filename
    path.write_bytes(content)

    with pytest.raises(ImportFileError) as raised:
        open_table(path, filename=filename)

    assert str(raised.value).startswith(
        ("This file is not text or a spreadsheet", "This file is not a readable spreadsheet")
    )


def test_a_file_object_stays_open_after_its_table_is_read():
    upload = io.BytesIO(b"email\nann@example.com\n")

    table = open_table(upload, filename="upload.csv")
    rows = list(table.rows())

    assert rows == [["ann@example.com"]]
    assert upload.closed is False


# --- Header mapping ------------------------------------------------------------------------------


def _headers(name: str) -> list[str]:
    table = open_table(shared_data_path("exports", name), filename=name)
    table.close()
    return table.headers


def test_hubspot_headers_map_to_lead_fields():
    mapping = suggest_mapping(_headers("hubspot_contacts_export_messy.csv"))

    assert mapping == {
        "Record ID": "external_ref",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
        "Phone Number": "phone",
        "Lead Status": None,
        "Create Date": None,
        "Associated Company": "company_name",
        "Country/Region": "country",
        "Contact owner": None,
    }


def test_salesforce_headers_map_to_lead_fields():
    mapping = suggest_mapping(_headers("salesforce_leads_export_header.csv"))

    assert mapping == {
        "Lead ID": "external_ref",
        "FirstName": "first_name",
        "LastName": "last_name",
        "Email": "email",
        "Phone": "phone",
        "Company": "company_name",
        "LeadSource": None,
        "Status": None,
        "OwnerId": None,
    }


def test_mailchimp_headers_map_and_system_columns_stay_unmapped():
    mapping = suggest_mapping(_headers("mailchimp_audience_export_basic.csv"))

    assert {h: f for h, f in mapping.items() if f} == {
        "Email Address": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "CC": "country",
        "REGION": "region",
        "NOTES": "comments",
    }
    assert [h for h, f in mapping.items() if f is None] == [
        "MEMBER_RATING",
        "OPTIN_TIME",
        "OPTIN_IP",
        "CONFIRM_TIME",
        "CONFIRM_IP",
        "LATITUDE",
        "LONGITUDE",
        "GMTOFF",
        "DSTOFF",
        "TIMEZONE",
        "LAST_CHANGED",
        "LEID",
        "EUID",
    ]


def test_dutch_sportlink_headers_map_to_lead_fields():
    mapping = suggest_mapping(_headers("nl_sportlink_members_export.csv"))

    assert mapping == {
        "Relatienummer": "external_ref",
        "Voornaam": "first_name",
        "Achternaam": "last_name",
        "E-mailadres": "email",
        "Team": None,
        "Actief": None,
    }


def test_paired_english_and_dutch_form_fields_map_to_the_same_lead_fields():
    table = open_table(
        shared_data_path("exports", "nl_en_recruitment_form_fields_paired.csv"),
        filename="paired.csv",
    )
    fields = {cells[0]: cells[1].split(",") for cells in table.rows()}

    english = suggest_mapping(fields["en"])
    dutch = suggest_mapping(fields["nl"])

    assert list(english.values()) == list(dutch.values())
    assert {h: f for h, f in dutch.items() if f} == {
        "Voornaam": "first_name",
        "Achternaam": "last_name",
        "E-mailadres": "email",
        "Telefoonnummer": "phone",
        "Regio": "region",
        "Role": "job_title",
        "Commentaar": "comments",
    }


def test_saved_mapping_wins_over_synonyms_and_can_leave_a_column_unmapped():
    headers = ["E-mail", "Mobiel", "Telefoon", "Kenmerk"]
    saved = {"mobiel": "phone", "Kenmerk": ""}

    mapping = suggest_mapping(headers, saved=saved)

    assert mapping == {"E-mail": "email", "Mobiel": "phone", "Telefoon": None, "Kenmerk": None}


def test_phrase_headers_map_through_synonyms():
    assert suggest_mapping(["Email Address", "Phone Number", "Voornaam", "E-mailadres"]) == {
        "Email Address": "email",
        "Phone Number": "phone",
        "Voornaam": "first_name",
        "E-mailadres": None,
    }


def test_a_tiny_xlsx_spanning_the_whole_sheet_is_refused_before_it_is_expanded(tmp_path):
    import openpyxl

    from leadloop.intake.imports.reader import ImportFileError, open_table

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"], sheet["A2"], sheet["XFD1048576"] = "email", "a@example.com", "boom"
    path = tmp_path / "bomb.xlsx"
    workbook.save(path)

    with pytest.raises(ImportFileError, match="too large"):
        open_table(str(path), filename="bomb.xlsx")

    assert path.stat().st_size < 10_000


@pytest.mark.parametrize(
    ("sample", "extension", "expected"),
    [
        ("first_name;last_name;email", "", ";"),
        ("Voornaam;Achternaam;E-mail\nJan;de Vries;jan@example.com\n", "", ";"),
        ("name,email\nAnn,ann@example.com\n", "", ","),
        ("name\temail\tphone", "", "\t"),
        ("name|email|phone", "", "|"),
        ("email", "", ","),
        ("email", ".tsv", "\t"),
        # A comma inside the names does not beat the semicolons that split every line.
        ('name;company\n"Bakker, Ann";Firma BV\n"Vries, Jan";Bos NV\n', "", ";"),
    ],
)
def test_detect_delimiter(sample, extension, expected):
    """One sniffer for imported files and CSV attachments of lead e-mails."""
    assert detect_delimiter(sample, extension=extension) == expected
