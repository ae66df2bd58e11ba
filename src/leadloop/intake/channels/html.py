"""Lead text out of untrusted HTML (mail bodies, feed summaries): labelled rows and plain text.

    content = read_html(markup)
    content.pairs   # [("Name", "Ann de Vries"), ("Phone", "06 1234 5678")]
    content.text    # every other text, block elements on their own lines
    content.lines() # all of it in document order, a row as "Name: Ann de Vries"

Lead providers put their fields in two-cell table rows ("Name | Ann"), or write "Label: value"
lines. A two-cell row becomes a pair, unless it is a header row or a layout row (a table inside
a cell). Rows and cells may lack their end tags, as HTML allows. Scripts, styles and the head
are skipped; entities are decoded. Nothing is rendered or fetched. The parser refuses markup
with more table cells or deeper table nesting than the limits, with `error` (a ParseError).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import NamedTuple

from django.utils.translation import gettext as _

from leadloop.intake.channels import ParseError

MAX_TABLE_DEPTH = 32
MAX_TABLE_CELLS = 50_000
MAX_LABEL_CHARS = 100

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table",
     "blockquote", "pre", "section", "article", "header", "footer", "dl", "dt", "dd", "caption",
     "address", "tbody", "thead", "tfoot"}
)  # fmt: skip
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]+")


class Pair(NamedTuple):
    """A two-cell table row: a label and its value."""

    label: str
    value: str


class Row(NamedTuple):
    """Any other table row: its cells' texts."""

    cells: tuple[str, ...]


@dataclass
class HTMLContent:
    """What `read_html` found, in document order: texts, pairs and other table rows."""

    parts: list[str | Pair | Row] = field(default_factory=list)

    @property
    def pairs(self) -> list[Pair]:
        return [part for part in self.parts if isinstance(part, Pair)]

    @property
    def text(self) -> str:
        """Everything but the pairs; the cells of other rows on lines of their own."""
        return "".join(
            "\n" + "\n".join(part.cells) + "\n" if isinstance(part, Row) else part
            for part in self.parts
            if not isinstance(part, Pair)
        )

    def lines(self) -> list[str]:
        """Every non-blank line in document order, blanks collapsed: a pair as 'label: value',
        another row's cells on one line."""
        rendered = "".join(
            f"\n{part.label}: {part.value}\n"
            if isinstance(part, Pair)
            else "\n" + " ".join(part.cells) + "\n"
            if isinstance(part, Row)
            else part
            for part in self.parts
        )
        lines = (_BLANKS.sub(" ", line).strip() for line in rendered.splitlines())
        return [line for line in lines if line]


def read_html(markup: str, *, error: type[ParseError] = ParseError) -> HTMLContent:
    parser = _Reader(error)
    parser.feed(markup)
    parser.close()
    return parser.content


class _Table:
    __slots__ = ("cell_open", "nested", "row")

    def __init__(self) -> None:
        self.row: list[tuple[bool, list[str]]] | None = None  # open row: cells (is_th, text)
        self.cell_open = False
        self.nested = False  # a table inside a cell of the open row: a layout row


class _Reader(HTMLParser):
    def __init__(self, error: type[ParseError]) -> None:
        super().__init__(convert_charrefs=True)
        self.content = HTMLContent()
        self._error = error
        self._tables: list[_Table] = []
        self._skipping = 0
        self._cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "table":
            self._open_table()
        elif tag == "tr":
            table = self._current_table()
            self._close_row(table)
            table.row = []
        elif tag in ("td", "th"):
            self._cells += 1
            if self._cells > MAX_TABLE_CELLS:
                raise self._error(
                    _("The HTML has more than %(limit)d table cells.") % {"limit": MAX_TABLE_CELLS}
                )
            table = self._current_table()
            if table.row is None:
                table.row = []
            table.row.append((tag == "th", []))
            table.cell_open = True
        if tag in _BLOCK_TAGS:
            self._write("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self._write("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in ("td", "th") and self._tables:
            self._tables[-1].cell_open = False
        elif tag == "tr" and self._tables:
            self._close_row(self._tables[-1])
        elif tag == "table" and self._tables:
            self._close_row(self._tables.pop())
        if tag in _BLOCK_TAGS:
            self._write("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._write(data)

    def close(self) -> None:
        super().close()
        while self._tables:
            self._close_row(self._tables.pop())

    def _open_table(self) -> _Table:
        if len(self._tables) >= MAX_TABLE_DEPTH:
            raise self._error(_("The HTML tables are nested too deeply."))
        if self._tables and self._tables[-1].row is not None:
            self._tables[-1].nested = True
        table = _Table()
        self._tables.append(table)
        return table

    def _current_table(self) -> _Table:
        # A row or cell outside any <table> still counts: HTML mail is often sloppy.
        return self._tables[-1] if self._tables else self._open_table()

    def _write(self, data: str) -> None:
        table = self._tables[-1] if self._tables else None
        if table is not None and table.cell_open and table.row:
            table.row[-1][1].append(data)
        else:
            self.content.parts.append(data)

    def _close_row(self, table: _Table) -> None:
        cells, nested = table.row, table.nested
        table.row, table.cell_open, table.nested = None, False, False
        if not cells:
            return
        texts = [_cell_text(parts) for _is_th, parts in cells]
        label = " ".join(texts[0].split()).rstrip(":：").strip()
        is_header_row = all(is_th for is_th, _parts in cells)
        if len(cells) == 2 and not nested and not is_header_row and 0 < len(label) <= 100:
            self.content.parts.append(Pair(label, texts[1]))
        else:
            self.content.parts.append(Row(tuple(texts)))


def _cell_text(parts: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
