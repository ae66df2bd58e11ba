"""Lead mail attachments: a CSV file gives one record per row, a vCard file one per card.

CSV: the header row holds the labels (a repeated label becomes "Label (2)"); Excel's "sep=;"
hint line and the delimiter are honoured; a header that looks like a spreadsheet formula is
refused. vCard: the labels FN, N.given, N.family, EMAIL, TEL, ORG, ORG.unit, TITLE, ADR.street,
ADR.city, ADR.code, ADR.region, ADR.country, NOTE and URL (a second EMAIL or TEL becomes
"EMAIL 2", "TEL 2", ...). One attachment gives at most MAX_ATTACHMENT_RECORDS records.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from email.message import EmailMessage
from typing import Any

import vobject
from django.utils.translation import gettext as _

from leadloop.intake.channels import Record
from leadloop.intake.channels.email.mime import (
    EmailParseError,
    decode_text,
    part_filename,
    payload_bytes,
)
from leadloop.intake.imports.reader import detect_delimiter

MAX_ATTACHMENT_RECORDS = 10_000
# One CSV line (not row) longer than this is not a lead export; it would only cost memory.
MAX_CSV_LINE_CHARS = 1_000_000

CSV_TYPES = frozenset(
    {
        "text/csv",
        "text/x-csv",
        "application/csv",
        "text/comma-separated-values",
        "application/x-csv",
    }
)
VCARD_TYPES = frozenset({"text/vcard", "text/x-vcard", "text/directory"})

# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def attachment_kind(part: EmailMessage) -> str:
    content_type = part.get_content_type()
    filename = part_filename(part)
    if content_type in CSV_TYPES or filename.endswith(".csv"):
        return "csv"
    if content_type in VCARD_TYPES or filename.endswith((".vcf", ".vcard")):
        return "vcard"
    return ""


def attachment_records(part: EmailMessage) -> list[Record]:
    """The records of one MIME part: none unless it is a CSV or vCard attachment."""
    kind = attachment_kind(part)
    if kind == "csv":
        return _csv_records(part)
    if kind == "vcard":
        return _vcard_records(part)
    return []


def _too_many_records(part: EmailMessage) -> EmailParseError:
    return EmailParseError(
        _("The attachment %(name)s holds more than %(limit)d records.")
        % {"name": part_filename(part) or part.get_content_type(), "limit": MAX_ATTACHMENT_RECORDS}
    )


def _csv_lines(text: str) -> Iterator[str]:
    for line in io.StringIO(text, newline=""):
        if len(line) > MAX_CSV_LINE_CHARS:
            raise EmailParseError(_("A line of the CSV attachment is too long."))
        yield line


def looks_like_formula(cell: str) -> bool:
    """Whether a spreadsheet would run this cell as a formula."""
    return cell.startswith(_FORMULA_START)


def _csv_records(part: EmailMessage) -> list[Record]:
    text = decode_text(payload_bytes(part), part.get_content_charset(), trust_declared=False)
    lines = _csv_lines(text)
    first = next(lines, "")
    if first.lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's own hint line: "sep=;".
        delimiter = first.strip()[4]
        first = next(lines, "")
    else:
        delimiter = detect_delimiter(first.rstrip("\r\n"))
    reader = csv.reader(_chain([first], lines), delimiter=delimiter)
    try:
        header = next(reader, [])
        labels = _unique_labels(header)
        if any(looks_like_formula(cell.strip()) for cell in header if cell.strip()):
            raise EmailParseError(
                _("The CSV attachment %(name)s has a header that looks like a formula.")
                % {"name": part_filename(part) or "csv"}
            )
        records: list[Record] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(records) >= MAX_ATTACHMENT_RECORDS:
                raise _too_many_records(part)
            records.append(
                {
                    label: row[index] if index < len(row) else ""
                    for index, label in enumerate(labels)
                    if label
                }
            )
    except csv.Error as exc:
        raise EmailParseError(
            _("The CSV attachment cannot be read: %(error)s") % {"error": exc}
        ) from exc
    return records


def _chain(head: Iterable[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def _unique_labels(header: list[str]) -> list[str]:
    labels: list[str] = []
    seen: dict[str, int] = {}
    for cell in header:
        label = cell.strip()
        if label in seen:
            seen[label] += 1
            label = f"{label} ({seen[label]})"
        else:
            seen[label] = 1
        labels.append(label if cell.strip() else "")
    return labels


def _vcard_records(part: EmailMessage) -> list[Record]:
    text = decode_text(payload_bytes(part), part.get_content_charset(), trust_declared=False)
    records: list[Record] = []
    try:
        for card in vobject.readComponents(text, ignoreUnreadable=True):
            if len(records) >= MAX_ATTACHMENT_RECORDS:
                raise _too_many_records(part)
            record = _vcard_record(card)
            if record:
                records.append(record)
    except EmailParseError:
        raise
    except Exception as exc:  # vobject raises a range of errors on broken cards
        raise EmailParseError(
            _("The vCard attachment cannot be read: %(error)s") % {"error": exc}
        ) from exc
    return records


def _vcard_record(card: Any) -> Record:
    record: Record = {}
    contents: dict[str, list[Any]] = getattr(card, "contents", {})

    def put(label: str, value: Any) -> None:
        text = "; ".join(value) if isinstance(value, list) else str(value or "")
        text = text.strip()
        if not text:
            return
        number = 2
        unique = label
        while unique in record:
            unique = f"{label} {number}"
            number += 1
        record[unique] = text

    for line in contents.get("fn", []):
        put("FN", line.value)
    for line in contents.get("n", [])[:1]:
        put("N.given", line.value.given)
        put("N.family", line.value.family)
    for name in ("email", "tel", "title", "note", "url"):
        for line in contents.get(name, []):
            put(name.upper(), line.value)
    for line in contents.get("org", [])[:1]:
        value = line.value if isinstance(line.value, list) else [line.value]
        put("ORG", value[0] if value else "")
        put("ORG.unit", [v for v in value[1:] if v])
    for line in contents.get("adr", [])[:1]:
        address = line.value
        put("ADR.street", address.street)
        put("ADR.city", address.city)
        put("ADR.code", address.code)
        put("ADR.region", address.region)
        put("ADR.country", address.country)
    return record
