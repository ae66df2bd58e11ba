"""Batch files: read CSV/TSV/TXT and XLSX/XLS/ODS as a header row and a stream of text rows.

`open_table` never holds a text file in memory: it reads a sample to detect the encoding and the
delimiter, then streams records through the csv module. Spreadsheets go through python-calamine,
whose Rust reader holds the first sheet compactly while Python takes one row at a time.

Every cell comes out as the text a person would have typed: an integer-valued number without
".0", a date in ISO form. A cell that starts with = + - @ is text like any other and is never
evaluated; exports neutralise such values on the way out.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from leadloop.intake.synonyms import field_for_label, fold_label

SAMPLE_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
SPREADSHEET_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Windows-1252 leaves five bytes undefined; read them as Latin-1 control characters rather than
# failing a whole file over one stray byte.
_CP1252_HOLES = {0x81: "\x81", 0x8D: "\x8d", 0x8F: "\x8f", 0x90: "\x90", 0x9D: "\x9d"}
# A cell may be large (a pasted e-mail thread), but not unbounded: 1 MiB of text per cell.
csv.field_size_limit(1024 * 1024)


class ImportFileError(ValueError):
    """A file that cannot be read as a table; the message is shown to the person importing it."""


def _fallback_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decode bytes that are not UTF-8 as Windows-1252: files glued from two exports mix both."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    text = "".join(_CP1252_HOLES.get(b) or bytes([b]).decode("cp1252") for b in bad)
    return text, error.end


codecs.register_error("leadloop-cp1252", _fallback_cp1252)


@dataclass
class Table:
    """A header row and a single pass over the data rows, every row as long as the header.

    Row numbers count as a spreadsheet program shows them: the header's row is 1 when it is the
    first row, and blank rows are skipped but still counted. `ragged_rows` counts the rows that had
    more or fewer cells than the header (they are padded or trimmed); `ragged_examples` keeps the
    first few as (row number, cell count) so a report can say where.
    """

    headers: list[str]
    format: str
    encoding: str = ""
    delimiter: str = ""
    last_row: int | None = None  # a spreadsheet's last row number, for progress
    ragged_rows: int = 0
    ragged_examples: list[tuple[int, int]] = field(default_factory=list)
    _records: Iterator[tuple[int, list[Any]]] | None = None
    _closers: list[Any] = field(default_factory=list)

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) for every non-blank data row; the table can be read once."""
        if self._records is None:
            raise RuntimeError("A Table can be read once.")
        records, self._records = self._records, None
        width = len(self.headers)
        render = _cell_text if self.format != "csv" else None
        try:
            for number, raw in records:
                cells = [render(c) for c in raw] if render else raw
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != width:
                    if any(c.strip() for c in cells[width:]) or len(cells) < width:
                        self._note_ragged(number, len(cells))
                    cells = (cells + [""] * width)[:width]
                yield number, cells
        finally:
            self.close()

    def rows(self) -> Iterator[list[str]]:
        """The data rows as lists of text, as long as the header."""
        for _number, cells in self.numbered_rows():
            yield cells

    def close(self) -> None:
        while self._closers:
            self._closers.pop().close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _note_ragged(self, number: int, count: int) -> None:
        self.ragged_rows += 1
        if len(self.ragged_examples) < 10:
            self.ragged_examples.append((number, count))


def open_table(path_or_file: str | os.PathLike[str] | IO[bytes], *, filename: str) -> Table:
    """Open a CSV/TSV/TXT or XLSX/XLS/ODS file as a Table; ImportFileError says why it cannot."""
    binary, closers = _binary(path_or_file)
    try:
        head = binary.read(SAMPLE_BYTES)
        binary.seek(0)
        extension = os.path.splitext(filename)[1].lower()
        if not head.strip():
            raise ImportFileError(_("The file is empty."))
        if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)) or extension in SPREADSHEET_EXTENSIONS:
            table = _open_spreadsheet(binary)
        else:
            table = _open_text(binary, head, extension)
    except BaseException:
        for closer in closers:
            closer.close()
        raise
    table._closers[:0] = closers  # closed last: the Table's own readers go first
    return table


def _binary(path_or_file: str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], list[Any]]:
    """A seekable binary file and what to close; a stream that cannot seek is spooled to disk."""
    if isinstance(path_or_file, str | os.PathLike):
        handle = open(path_or_file, "rb")  # noqa: SIM115 (closed by the Table)
        return handle, [handle]
    if path_or_file.seekable():
        path_or_file.seek(0)
        return path_or_file, []
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    shutil.copyfileobj(path_or_file, spool)
    spool.seek(0)
    return spool, [spool]  # type: ignore[list-item]


# --- Text files ----------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """The encoding of a text file from its first bytes: BOM, then UTF-8, then a guess.

    charset-normalizer cannot tell Windows-1252 from Windows-1250 on a few accented letters and
    tends to answer 1250; Dutch and English senders write 1252, so among equally clean guesses
    1252 wins. A Polish 1250 file would read its few special letters wrongly.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # The sample may end inside a character: an incremental decoder waits for the rest.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    # Real UTF-8 letters beside a few invalid bytes: two exports glued together. Windows-1252
    # text practically never forms valid multi-byte UTF-8, so one such letter settles it.
    if any(ord(ch) > 127 for ch in sample.decode("utf-8", errors="ignore")):
        return "utf-8"
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None:
        return "cp1252"
    tied = [m.encoding for m in matches if m.chaos <= best.chaos + 0.01]
    if "cp1252" in tied or best.encoding in ("ascii", "latin_1", "iso8859_15", "cp1250"):
        return "cp1252"
    return str(best.encoding)


def _looks_binary(sample: bytes, encoding: str) -> bool:
    if encoding.startswith(("utf-16", "utf-32")):
        return False
    controls = sum(1 for b in sample[:4096] if b < 32 and b not in (9, 10, 13))
    return b"\x00" in sample or controls > len(sample[:4096]) // 20


def detect_delimiter(sample: str, *, extension: str = "") -> str:
    """The delimiter among , ; TAB | that splits the sample into the most consistent columns."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        sample = "\n".join(lines[:-1])  # the last line may be cut off
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    header_line = lines[0] if lines else ""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    by_header = max(DELIMITERS, key=lambda d: counts[d])
    # The sniffer looks for a delimiter that occurs equally often on every line; on a short or
    # irregular sample it can pick one that does not even split the header.
    if sniffed and counts[sniffed] > 0:
        return sniffed
    if counts[by_header] > 0:
        return by_header
    return "\t" if extension == ".tsv" else ","


def _open_text(binary: IO[bytes], head: bytes, extension: str) -> Table:
    encoding = detect_encoding(head)
    if _looks_binary(head, encoding):
        raise ImportFileError(
            _("This file is not text or a spreadsheet; upload a CSV, XLSX, XLS or ODS file.")
        )
    errors = "leadloop-cp1252" if encoding in ("utf-8", "utf-8-sig", "cp1252") else "replace"
    sample = head.decode(encoding, errors=errors)
    delimiter = detect_delimiter(sample.lstrip("\ufeff"), extension=extension)
    text = io.TextIOWrapper(binary, encoding=encoding, errors=errors, newline="")  # type: ignore[arg-type]
    reader = csv.reader(text, delimiter=delimiter)
    records = _numbered_records(reader)
    header = _first_non_blank(records)
    if header is None:
        text.detach()
        raise ImportFileError(_("The file is empty."))
    headers = _clean_headers(header[1])
    table = Table(headers=headers, format="csv", encoding=encoding, delimiter=delimiter)
    table._records = records
    table._closers.append(_Detach(text))
    return table


class _Detach:
    """Closing a Table detaches its text wrapper, so a caller's own file object stays open."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text

    def close(self) -> None:
        with contextlib.suppress(ValueError):  # already detached, or its file was closed
            self.text.detach()


def _numbered_records(reader: Any) -> Iterator[tuple[int, list[str]]]:
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                _("Row %(row)d cannot be read: %(reason)s") % {"row": number + 1, "reason": exc}
            ) from exc
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("Row %(row)d is not valid text in the file's encoding.") % {"row": number + 1}
            ) from exc
        number += 1
        if number == 1 and record and record[0].startswith("\ufeff"):
            record[0] = record[0][1:]
        yield number, record


def _first_non_blank(records: Iterator[tuple[int, list[Any]]]) -> tuple[int, list[Any]] | None:
    for number, record in records:
        if any(str(c).strip() for c in record):
            return number, record
    return None


def _clean_headers(cells: list[Any]) -> list[str]:
    """Header texts, stripped; blank ones named after their column, repeats numbered."""
    names = [_cell_text(cell).replace("\ufeff", "").strip() for cell in cells]
    while names and not names[-1]:
        names.pop()  # a stray separator at the end of the line is no column
    headers: list[str] = []
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        if not name:
            name = _("Column %(number)d") % {"number": index}
        unique, n = name, 2
        while unique in seen:
            unique = f"{name} ({n})"
            n += 1
        seen.add(unique)
        headers.append(unique)
    return headers


# --- Spreadsheets --------------------------------------------------------------------------------


# calamine builds a dense grid from the first to the last used cell. One cell at A1 and one at
# XFD1048576 in a 1.5 KB file asks for half a terabyte and kills the process outright (no
# Python exception to catch), so an XLSX is measured from its zip and XML before calamine sees
# it. A real 1,000,000-row, 20-column export stays far below these.
MAX_SHEET_CELLS = 60_000_000
MAX_SHEET_COLUMNS = 2_000
MAX_UNPACKED_BYTES = 2 * 1024**3
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_DIMENSION = re.compile(
    rb'<dimension\b[^>]*?\bref="[A-Z]{0,3}[0-9]{0,7}:?([A-Z]{1,3})([0-9]{1,7})"'
)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _check_xlsx_extent(binary: IO[bytes]) -> None:
    """Refuse an XLSX whose sheets would unpack or expand past safe limits (see above)."""
    start = binary.tell()
    try:
        with zipfile.ZipFile(binary) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise ImportFileError(_("The spreadsheet unpacks to more than 2 GB."))
            for member in members:
                if not member.filename.startswith("xl/worksheets/"):
                    continue
                max_row = max_col = 0
                tail = b""
                with archive.open(member) as sheet_xml:
                    while chunk := sheet_xml.read(1 << 20):
                        text = tail + chunk
                        for pattern in (_DIMENSION, _CELL_REF):
                            for letters, digits in pattern.findall(text):
                                max_col = max(max_col, _column_number(letters))
                                max_row = max(max_row, int(digits))
                        tail = text[-64:]
                if max_col > MAX_SHEET_COLUMNS or max_row * max_col > MAX_SHEET_CELLS:
                    raise ImportFileError(
                        _("The spreadsheet spans %(rows)s rows by %(cols)s columns: too large.")
                        % {"rows": max_row, "cols": max_col}
                    )
    except zipfile.BadZipFile:
        pass  # not an XLSX (XLS or ODS, or not a spreadsheet): calamine says what it is
    finally:
        binary.seek(start)


def _open_spreadsheet(binary: IO[bytes]) -> Table:
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    _check_xlsx_extent(binary)
    try:
        workbook = CalamineWorkbook.from_filelike(binary)
        index = next(
            (
                i
                for i, meta in enumerate(workbook.sheets_metadata)
                if meta.typ == SheetTypeEnum.WorkSheet and meta.visible == SheetVisibleEnum.Visible
            ),
            0,
        )
        sheet = workbook.get_sheet_by_index(index)
    except Exception as exc:
        raise ImportFileError(
            _("This file is not a readable spreadsheet (%(reason)s).") % {"reason": exc}
        ) from exc
    # iter_rows starts at the sheet's first row (blank leading rows included), so the count is
    # the row number a spreadsheet program shows.
    records = enumerate(sheet.iter_rows(), start=1)
    header = _first_non_blank(records)
    if header is None:
        workbook.close()
        raise ImportFileError(_("The file is empty."))
    end = sheet.end
    table = Table(
        headers=_clean_headers(header[1]),
        format="spreadsheet",
        last_row=end[0] + 1 if end else None,
    )
    table._records = records
    table._closers.append(workbook)
    return table


def _cell_text(value: Any) -> str:
    """A spreadsheet value as the text a person typed: 612345678.0 → '612345678', a date → ISO."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds" if value.second else "minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds" if value.second else "minutes")
    if value is None:
        return ""
    return str(value)


# --- Mapping -------------------------------------------------------------------------------------


def suggest_mapping(
    headers: list[str], *, saved: Mapping[str, str | None] | None = None
) -> dict[str, str | None]:
    """Header → lead field: a saved mapping first, then the English/Dutch synonyms, else None.

    A field is filled from one column only: when two headers name it ("Phone", "Mobile"), the
    first wins and the other stays None, so its values are kept in the lead's extra fields.
    """
    saved_folded = {fold_label(k): v for k, v in (saved or {}).items()}
    result: dict[str, str | None] = {}
    taken: set[str] = set()
    for header in headers:
        if saved is not None and header in saved:
            choice = saved[header] or None
        elif fold_label(header) in saved_folded:
            choice = saved_folded[fold_label(header)] or None
        else:
            choice = field_for_label(header)
        if choice in taken:
            choice = None
        if choice:
            taken.add(choice)
        result[header] = choice
    return result
