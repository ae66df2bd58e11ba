"""Lead exports as CSV (streamed) and XLSX (constant memory), safe to open in a spreadsheet.

Lead values come from strangers (web forms, partner feeds). A spreadsheet runs a cell that starts
with = + - @ TAB or CR as a formula, so every such cell gets a leading apostrophe (the OWASP
CSV-injection rule), and the XLSX writer stores every text as a string, never as a formula. A
phone number in international form ("+31 6 1234 5678": a plus and digits) is not a formula and
is exported as it is.

Excel opens a CSV with the list separator of the user's locale: a comma-separated file is one
column in Dutch Excel. The CSV's delimiter therefore follows the language (a semicolon where the
decimal separator is a comma, as in Dutch; a comma elsewhere), numbers use that decimal
separator, and the user can choose another delimiter (`?delimiter=comma|semicolon|tab`).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from babel.core import UnknownLocaleError
from babel.numbers import get_decimal_symbol
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from leadloop.accounts.lead_fields import ALL_FIELDS, FieldView
from leadloop.leads.models import Lead
from leadloop.leads.selectors import DEFAULT_SORT, LeadFilters

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# "+31 6 1234 5678": a phone number, which a spreadsheet cannot run.
_INTERNATIONAL_NUMBER = re.compile(r"\+[0-9][0-9 ]*")
CHUNK = 2000

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def neutralise(text: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would read it as a formula."""
    if text.startswith(FORMULA_PREFIXES) and not _INTERNATIONAL_NUMBER.fullmatch(text):
        return f"'{text}"
    return text


def default_delimiter(language: str | None = None) -> str:
    """The delimiter Excel expects in `language` (the active one by default): a semicolon where
    numbers are written with a decimal comma (nl: "1.234,50"), a comma elsewhere."""
    locale = (language or get_language() or "en").replace("-", "_")
    try:
        comma_decimals = get_decimal_symbol(locale) == ","
    except (UnknownLocaleError, ValueError, LookupError):
        comma_decimals = False
    return ";" if comma_decimals else ","


def delimiter_from(name: str | None, *, language: str | None = None) -> str:
    """The delimiter asked for by name (comma, semicolon, tab), else the language's default."""
    for char, known in DELIMITERS.items():
        if name == known:
            return char
    return default_delimiter(language)


def _name(obj: Any) -> str:
    if obj is None:
        return ""
    return getattr(obj, "display_name", None) or str(obj)


def columns(shown: FieldView = ALL_FIELDS) -> list[tuple[str, Callable[[Lead], Any]]]:
    """The exported columns: header (in the user's language) and how to read the value. A
    column of a field the reader is not shown (a partner's list) is left out altogether."""
    keyed: list[tuple[str | None, str, Callable[[Lead], Any]]] = [
        (None, "ID", lambda lead: lead.pk),
        ("name", _("First name"), lambda lead: lead.first_name),
        ("name", _("Last name"), lambda lead: lead.last_name),
        ("email", _("E-mail"), lambda lead: lead.email),
        ("phone", _("Phone"), lambda lead: lead.phone_e164 or lead.phone_raw),
        ("company", _("Company"), lambda lead: lead.company_name),
        ("company", _("Organisation"), lambda lead: _name(lead.organization)),
        ("job_title", _("Job title"), lambda lead: lead.job_title),
        ("street", _("Street"), lambda lead: lead.street),
        ("street", _("House number"), lambda lead: lead.house_number),
        ("postal_code", _("Postal code"), lambda lead: lead.postal_code),
        ("city", _("City"), lambda lead: lead.city),
        ("country", _("Country"), lambda lead: lead.country),
        (None, _("Status"), lambda lead: lead.get_status_display()),
        ("grade", _("Fit grade"), lambda lead: lead.fit_grade),
        ("scores", _("Engagement score"), lambda lead: lead.engagement_score),
        (None, _("Assigned to"), lambda lead: _name(lead.assigned_to)),
        (None, _("Team"), lambda lead: _name(lead.team)),
        (None, _("Partner"), lambda lead: _name(lead.owner_partner)),
        ("source", _("Source"), lambda lead: _name(lead.source)),
        ("source", _("Campaign"), lambda lead: _name(lead.campaign)),
        ("tracking", _("UTM source"), lambda lead: lead.utm_source),
        ("tracking", _("UTM medium"), lambda lead: lead.utm_medium),
        ("tracking", _("UTM campaign"), lambda lead: lead.utm_campaign),
        ("revenue", _("Potential revenue"), lambda lead: lead.potential_revenue),
        (None, _("Currency"), lambda lead: lead.currency),
        (None, _("Created"), lambda lead: lead.created_at),
        (None, _("Updated"), lambda lead: lead.updated_at),
    ]
    return [(header, get) for key, header, get in keyed if key is None or shown.shows(key)]


def describe_filters(filters: LeadFilters) -> dict[str, Any]:
    """The filters of an export as the audit log keeps them: what differs from the defaults,
    with the search text left out (it is often a person's name or e-mail address)."""
    described: dict[str, Any] = {}
    for name, value in dataclasses.asdict(filters).items():
        if value in ((), None, "", False) or (name == "sort" and value == DEFAULT_SORT):
            continue
        if name == "q":
            described["q"] = "(search text)"
        elif isinstance(value, tuple | list):
            described[name] = list(value)
        else:
            described[name] = value
    return described


def _rows(leads: Iterable[Lead]) -> Iterator[Lead]:
    if hasattr(leads, "iterator"):
        return leads.iterator(chunk_size=CHUNK)  # type: ignore[no-any-return]
    return iter(leads)


def _local(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return timezone.localtime(value, zone).replace(tzinfo=None)


def _csv_cell(value: Any, zone: dt.tzinfo, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _local(value, zone).strftime("%Y-%m-%d %H:%M:%S")
    if decimal_comma and isinstance(value, Decimal | float):
        return str(value).replace(".", ",")
    return neutralise(str(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    leads: Iterable[Lead],
    *,
    filename: str = "leads.csv",
    delimiter: str | None = None,
    shown: FieldView = ALL_FIELDS,
) -> StreamingHttpResponse:
    """The leads as a streamed CSV download (UTF-8 with BOM, so Excel reads accents right), with
    `delimiter` or the one Excel expects in the active language; numbers are written with the
    decimal comma when the delimiter is a semicolon. Only the columns `shown` allows."""
    cols = columns(shown)
    # The stream is written after the view returns, when the middleware has reset the zone.
    zone = timezone.get_current_timezone()
    delimiter = delimiter or default_delimiter()
    decimal_comma = delimiter == ";"
    writer = csv.writer(_Echo(), delimiter=delimiter, quoting=csv.QUOTE_ALL)

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([neutralise(str(h)) for h, _get in cols])
        for lead in _rows(leads):
            yield writer.writerow([_csv_cell(get(lead), zone, decimal_comma) for _h, get in cols])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(
    leads: Iterable[Lead], *, filename: str = "leads.xlsx", shown: FieldView = ALL_FIELDS
) -> FileResponse:
    """The leads as an XLSX download, written row by row (constant memory) to a temporary file;
    only the columns `shown` allows."""
    import xlsxwriter

    cols = columns(shown)
    zone = timezone.get_current_timezone()
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    workbook = xlsxwriter.Workbook(
        handle,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet(_("Leads")[:31])
    bold = workbook.add_format({"bold": True})
    stamp = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for col, (header, _get) in enumerate(cols):
        sheet.write_string(0, col, neutralise(str(header)), bold)
    for row, lead in enumerate(_rows(leads), start=1):
        for col, (_header, get) in enumerate(cols):
            value = get(lead)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, int | Decimal | float):
                sheet.write_number(row, col, float(value))
            elif isinstance(value, dt.datetime):
                sheet.write_datetime(row, col, _local(value, zone), stamp)
            else:
                sheet.write_string(row, col, neutralise(str(value)))
    sheet.freeze_panes(1, 0)
    workbook.close()
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
