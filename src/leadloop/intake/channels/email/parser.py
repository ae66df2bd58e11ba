"""Lead mails: one raw RFC 5322 message → records (the sender's labels → values).

Where the records come from, in this order:

1. The text body, read as "Label: value" lines. A value continues on the lines that follow
   until the next "Label:" line; a line "--" or "-- " starts the signature, which is ignored.
2. When there is no text/plain part or it holds no labels: the HTML part, read with the
   stdlib `html.parser` (never rendered, scripts never run): two-column table rows
   (`<td>Label</td><td>Value</td>`, `<th>Label</th><td>Value</td>`) and "Label: value" text.
3. Attachments: a CSV file gives one record per row (header row = labels); a vCard file one
   record per card, with the labels FN, N.given, N.family, EMAIL, TEL, ORG, ORG.unit, TITLE,
   ADR.street, ADR.city, ADR.code, ADR.region, ADR.country, NOTE and URL (a second EMAIL or
   TEL becomes "EMAIL 2", "TEL 2", …).

The record from the body also carries the message's own facts as labels that start with "_"
(the synonyms never match them; a source's mapping may): `_from` (address), `_from_name`,
`_reply_to`, `_subject`, `_message_id` and `_date` (ISO 8601).

Per-source rules, `Source.field_mapping["email_rules"]`, all optional:

    {"body_start": "^--- Lead ---$",     # regex: read the text only after its first match
     "body_end": "^Unsubscribe",         # regex: ... and only up to the next match
     "ignore_labels": ["Sent from"],     # labels dropped from every record
     "label_aliases": {"Naam klant": "full name", "_reply_to": "email"}}  # rename labels

Labels in `ignore_labels` and `label_aliases` match whatever their case, accents and
punctuation ("naam klant" matches "Naam Klant:"). An alias never overwrites a non-empty value
that the record already has under the new label.

Limits (each raises `EmailParseError`, so the stored message goes to quarantine): a message
over 25 MB, an HTML part over 5 MB, more than 10,000 records from one attachment, a CSV header
that looks like a spreadsheet formula, and absurd structure (too many MIME parts, table nesting
or table cells). Nothing is ever decompressed, so a decoded attachment is never bigger than the
message that carried it.
"""

from __future__ import annotations

import csv
import io
import mailbox
import re
from collections.abc import Iterable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any

import charset_normalizer
import regex
import vobject
from django.utils.translation import gettext as _

from leadloop.intake.channels import ParseError, Record, register
from leadloop.intake.channels.html import read_html
from leadloop.intake.imports.reader import detect_delimiter
from leadloop.intake.synonyms import fold_label

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

EMAIL_CHANNEL = "email"

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_HTML_CHARS = 5_000_000
MAX_ATTACHMENT_RECORDS = 10_000
MAX_PARTS = 1_000
# One CSV line (not row) longer than this is not a lead export; it would only cost memory.
MAX_CSV_LINE_CHARS = 1_000_000
MAX_LABEL_CHARS = 60

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

# A label starts a line, begins with a letter and holds no "/" or ":" (so prose such as
# "Should create a multipart/mixed: …" and URLs are not labels); the colon is followed by a
# space or the end of the line.
_LABEL_LINE = re.compile(
    r"^(?P<label>[^\W\d_][\w .'’()&?#*+-]{0,"
    + str(MAX_LABEL_CHARS - 1)
    + r"}?)[ \t]*:(?:[ \t]+(?P<value>.*)|[ \t]*)$"
)
_SIGNATURE = re.compile(r"^--[ \t]?$")
# A cell starting with one of these is run as a formula by spreadsheet programs (OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class EmailParseError(ParseError):
    """The message cannot be read as leads; the message says why."""


@register(EMAIL_CHANNEL)
def parse_email_submission(submission: RawSubmission) -> list[Record]:
    """The records of a stored mail, read with its source's e-mail rules."""
    rules = (submission.source.field_mapping or {}).get("email_rules")
    return parse_message(bytes(submission.body), rules=rules)


# --- Messages ------------------------------------------------------------------------------------


def parse_message(raw: bytes, rules: dict[str, Any] | None = None) -> list[Record]:
    """The records in one raw message: from its body, its HTML part and its attachments."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise EmailParseError(
            _("The message is larger than %(limit)d MB.") % {"limit": MAX_MESSAGE_BYTES >> 20}
        )
    read_with = _Rules.from_dict(rules)
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # policy.default always builds one
    try:
        parts = list(_limited_walk(message))
        records: list[Record] = []
        body_record = _body_record(message, read_with)
        if body_record:
            records.append({**body_record, **_meta_labels(message)})
        for part in parts:
            kind = _attachment_kind(part)
            if kind == "csv":
                records.extend(_csv_records(part))
            elif kind == "vcard":
                records.extend(_vcard_records(part))
    except RecursionError as exc:
        raise EmailParseError(_("The message is nested too deeply.")) from exc
    return [read_with.apply(record) for record in records]


def iter_mbox(path: str) -> Iterator[bytes]:
    """The raw messages of an mbox file, one at a time (the file is never read whole)."""
    box = mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def _limited_walk(message: EmailMessage) -> Iterator[EmailMessage]:
    for count, part in enumerate(message.walk(), 1):
        if count > MAX_PARTS:
            raise EmailParseError(
                _("The message has more than %(limit)d parts.") % {"limit": MAX_PARTS}
            )
        if not part.is_multipart():
            yield part  # type: ignore[misc]


def _header(message: EmailMessage, name: str) -> Any:
    # A malformed header must not cost the lead: policy.default can raise on some of them.
    try:
        return message[name]
    except Exception:
        return None


def _meta_labels(message: EmailMessage) -> Record:
    sender = _header(message, "From")
    reply_to = _header(message, "Reply-To")
    date = _header(message, "Date")
    from_address, from_name = _first_address(sender)
    reply_address, _name = _first_address(reply_to)
    when = getattr(date, "datetime", None)
    return {
        "_from": from_address,
        "_from_name": from_name,
        "_reply_to": reply_address,
        "_subject": _clean(str(_header(message, "Subject") or "")),
        "_message_id": str(_header(message, "Message-ID") or "").strip(),
        "_date": when.isoformat() if when is not None else str(date or "").strip(),
    }


def _first_address(header: Any) -> tuple[str, str]:
    if header is None:
        return "", ""
    addresses = getattr(header, "addresses", ())
    if addresses:
        return addresses[0].addr_spec, addresses[0].display_name
    return str(header).strip(), ""


def _clean(text: str) -> str:
    return " ".join(text.split())


def _part_filename(part: EmailMessage) -> str:
    try:
        return (part.get_filename() or "").strip().lower()
    except Exception:  # a malformed parameter is no filename
        return ""


def _attachment_kind(part: EmailMessage) -> str:
    content_type = part.get_content_type()
    filename = _part_filename(part)
    if content_type in CSV_TYPES or filename.endswith(".csv"):
        return "csv"
    if content_type in VCARD_TYPES or filename.endswith((".vcf", ".vcard")):
        return "vcard"
    return ""


def _payload_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _decode(data: bytes, declared: str | None, *, trust_declared: bool) -> str:
    """Text from bytes: the declared charset (for bodies), UTF-8, or a detected charset."""
    declared = (declared or "").strip().lower()
    candidates = ["utf-8-sig"]
    if declared and declared not in ("us-ascii", "ascii", "utf-8", "utf8"):
        candidates.insert(0 if trust_declared else 1, declared)
    for charset in candidates:
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is not None:
        # On short Western text the detector ties cp1252 with cp1250/cp1257 ("Å" vs "Ĺ");
        # Excel in the Netherlands and Belgium writes cp1252, so a tie goes to it.
        for match in matches:
            if (
                "cp1252" in match.could_be_from_charset
                and match.chaos <= best.chaos
                and match.coherence >= best.coherence
            ):
                return data.decode("cp1252", errors="replace")
        return str(best)
    return data.decode("cp1252", errors="replace")


# --- Bodies --------------------------------------------------------------------------------------


def _body_record(message: EmailMessage, rules: _Rules) -> Record:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None and not _attachment_kind(plain):  # type: ignore[arg-type]
        text = _decode(_payload_bytes(plain), plain.get_content_charset(), trust_declared=True)  # type: ignore[arg-type]
        record = parse_labelled_text(rules.cut(text))
        if record:
            return record
    html = message.get_body(preferencelist=("html",))
    if html is None:
        return {}
    markup = _decode(_payload_bytes(html), html.get_content_charset(), trust_declared=True)  # type: ignore[arg-type]
    return parse_html(markup, cut=rules.cut)


def parse_labelled_text(text: str) -> Record:
    """ "Label: value" lines → a record; a value runs on until the next label or the signature."""
    record: Record = {}
    label = ""
    lines: list[str] = []

    def flush() -> None:
        value = "\n".join(lines).strip()
        if label and value:
            _add(record, label, value)

    # Only \n splits: str.splitlines() would also break on U+2028 and friends inside a value.
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _SIGNATURE.match(line):
            break
        match = _LABEL_LINE.match(line)
        if match:
            flush()
            label = match.group("label").strip()
            lines = [match.group("value") or ""]
        elif label:
            lines.append(line.strip())
    flush()
    return record


def _add(record: Record, label: str, value: str) -> None:
    # A label that comes twice (checkboxes, a repeated field) keeps both values.
    record[label] = f"{record[label]}\n{value}" if label in record else value


def parse_html(markup: str, *, cut: Any = None) -> Record:
    """Two-column table rows and "Label: value" text of an HTML body → a record."""
    if len(markup) > MAX_HTML_CHARS:
        raise EmailParseError(
            _("The HTML part is larger than %(limit)d MB.") % {"limit": MAX_HTML_CHARS // 1_000_000}
        )
    content = read_html(markup, error=EmailParseError)
    record: Record = {}
    for label, value in content.pairs:
        if value:
            _add(record, label, value)
    text = content.text
    for label, value in parse_labelled_text(cut(text) if cut else text).items():
        _add(record, label, value)
    return record


# --- Attachments ---------------------------------------------------------------------------------


def _too_many_records(part: EmailMessage) -> EmailParseError:
    return EmailParseError(
        _("The attachment %(name)s holds more than %(limit)d records.")
        % {"name": _part_filename(part) or part.get_content_type(), "limit": MAX_ATTACHMENT_RECORDS}
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
    text = _decode(_payload_bytes(part), part.get_content_charset(), trust_declared=False)
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
                % {"name": _part_filename(part) or "csv"}
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
    text = _decode(_payload_bytes(part), part.get_content_charset(), trust_declared=False)
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


# --- Rules ---------------------------------------------------------------------------------------


class _Rules:
    """A source's parsing rules (see the module docstring), checked once per message."""

    def __init__(
        self,
        *,
        start: Any = None,
        end: Any = None,
        ignore: frozenset[str] = frozenset(),
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.start = start
        self.end = end
        self.ignore = ignore
        self.aliases = aliases or {}

    @classmethod
    def from_dict(cls, rules: dict[str, Any] | None) -> _Rules:
        if not rules:
            return cls()
        if not isinstance(rules, dict):
            raise EmailParseError(_("The e-mail rules must be an object."))
        ignore = rules.get("ignore_labels") or []
        aliases = rules.get("label_aliases") or {}
        if not isinstance(ignore, list) or not isinstance(aliases, dict):
            raise EmailParseError(
                _("ignore_labels must be a list and label_aliases an object of labels.")
            )
        return cls(
            start=_compile(rules, "body_start"),
            end=_compile(rules, "body_end"),
            ignore=frozenset(fold_label(str(label)) for label in ignore),
            aliases={fold_label(str(k)): str(v) for k, v in aliases.items()},
        )

    def cut(self, text: str) -> str:
        if self.start is not None:
            match = _search(self.start, text, "body_start")
            if match is None:
                return ""
            text = text[match.end() :]
        if self.end is not None:
            match = _search(self.end, text, "body_end")
            if match is not None:
                text = text[: match.start()]
        return text

    def apply(self, record: Record) -> Record:
        if not (self.ignore or self.aliases):
            return record
        result: Record = {}
        renamed: list[tuple[str, str]] = []
        for label, value in record.items():
            folded = fold_label(label)
            if folded in self.ignore:
                continue
            if folded in self.aliases:
                renamed.append((self.aliases[folded], value))
            else:
                result[label] = value
        for label, value in renamed:
            if not result.get(label):
                result[label] = value
        return result


# A rule is a regular expression typed by a person and run on mail from strangers: one with nested
# repeats ("(a|aa)+$") can take hours on a crafted body. The `regex` module stops a search after
# this many seconds.
RULE_TIMEOUT_SECONDS = 0.5


def _search(pattern: Any, text: str, name: str) -> Any:
    try:
        return pattern.search(text, timeout=RULE_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise EmailParseError(
            _("The rule %(name)s took too long on this message; simplify it.") % {"name": name}
        ) from exc


def _compile(rules: dict[str, Any], name: str) -> Any:
    pattern = rules.get(name)
    if not pattern:
        return None
    try:
        return regex.compile(str(pattern), regex.MULTILINE)
    except regex.error as exc:
        raise EmailParseError(
            _("The rule %(name)s is not a valid regular expression: %(error)s")
            % {"name": name, "error": exc}
        ) from exc
