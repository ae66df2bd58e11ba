"""A report's table as a download: CSV in the reader's list separator, or XLSX. Cells that a
spreadsheet would run as a formula (a source named "=HYPERLINK(…)") are neutralised, as in the
lead exports."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

from django.http import HttpResponse

from leadloop.analytics.selectors.tables import plain
from leadloop.leads.exports import default_delimiter, neutralise

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    value = plain(value)
    return neutralise(value) if isinstance(value, str) else value


def download(kind: str, headers: list[str], rows: list[list[Any]], name: str) -> HttpResponse:
    """`kind` "csv" or "xlsx"."""
    if kind == "xlsx":
        import xlsxwriter

        out = io.BytesIO()
        workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
        sheet = workbook.add_worksheet(name[:31])
        bold = workbook.add_format({"bold": True})
        sheet.write_row(0, 0, headers, bold)
        for index, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                value = plain(value)
                if _is_number(value):
                    sheet.write_number(index, column, float(Decimal(value)))
                elif isinstance(value, str):
                    sheet.write_string(index, column, value)
                else:
                    sheet.write(index, column, value)
        workbook.close()
        response = HttpResponse(out.getvalue(), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    delimiter = default_delimiter()
    out_text = io.StringIO()
    writer = csv.writer(out_text, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        cells = [_cell(v) for v in row]
        if delimiter == ";":
            cells = [c.replace(".", ",") if _is_number(c) else c for c in cells]
        writer.writerow(cells)
    response = HttpResponse(out_text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _is_number(value: Any) -> bool:
    """A figure written as text by the report (a ratio, an amount), not a name."""
    return isinstance(value, str) and _NUMBER.fullmatch(value) is not None
