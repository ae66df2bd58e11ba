"""Lead mails: one raw RFC 5322 message → records (the sender's labels → values).

Where the records come from, in this order:

1. The text body, read as "Label: value" lines. A value continues on the lines that follow
   until the next "Label:" line; a line "--" or "-- " starts the signature, which is ignored.
2. When there is no text/plain part or it holds no labels: the HTML part, read with the
   stdlib `html.parser` (never rendered, scripts never run): two-column table rows
   (`<td>Label</td><td>Value</td>`, `<th>Label</th><td>Value</td>`) and "Label: value" text.
3. Attachments (`attachments.py`): a CSV file gives one record per row (header row = labels);
   a vCard file one record per card.

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

import mailbox
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any

import regex
from django.utils.translation import gettext as _

from leadloop.intake.channels import Record, register
from leadloop.intake.channels.email.attachments import (
    MAX_ATTACHMENT_RECORDS,
    attachment_kind,
    attachment_records,
)
from leadloop.intake.channels.email.mime import EmailParseError, decode_text, payload_bytes
from leadloop.intake.channels.email.shapes import (
    clean_line,
    has_contact_label,
    stacked_pairs,
    with_contact_defaults,
    without_forwarded_headers,
    xml_lead,
)
from leadloop.intake.channels.html import read_html
from leadloop.intake.synonyms import field_for_label, fold_label

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

EMAIL_CHANNEL = "email"

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_HTML_CHARS = 5_000_000
MAX_PARTS = 1_000
MAX_LABEL_CHARS = 60

# A label starts a line, begins with a letter and holds no "/" or ":" (so prose such as
# "Should create a multipart/mixed: …" and URLs are not labels); the colon is followed by a
# space (a non-breaking one too, as webmail writes it) or the end of the line.
_LABEL_LINE = re.compile(
    r"^(?P<label>[^\W\d_][\w .'’()&?#*+-]{0,"
    + str(MAX_LABEL_CHARS - 1)
    + r"}?)[ \t\xa0]*:(?:[ \t\xa0\u202f]+(?P<value>.*)|[ \t\xa0\u202f]*)$"
)
_SIGNATURE = re.compile(r"^--[ \t]?$")


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
            records.append(with_contact_defaults({**body_record, **_meta_labels(message)}))
        for part in parts:
            records.extend(attachment_records(part))
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


# --- Bodies --------------------------------------------------------------------------------------


def _body_record(message: EmailMessage, rules: _Rules) -> Record:
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None and not attachment_kind(plain):  # type: ignore[arg-type]
        text = decode_text(payload_bytes(plain), plain.get_content_charset(), trust_declared=True)  # type: ignore[arg-type]
        record = xml_lead(text) or parse_labelled_text(rules.cut(text))
        if not has_contact_label(record):
            for label, value in stacked_pairs(rules.cut(text)).items():
                record.setdefault(label, value)
        if record:
            return record
    html = message.get_body(preferencelist=("html",))
    if html is None:
        return {}
    markup = decode_text(payload_bytes(html), html.get_content_charset(), trust_declared=True)  # type: ignore[arg-type]
    return parse_html(markup, cut=rules.cut)


def parse_labelled_text(text: str) -> Record:
    """ "Label: value" lines → a record.

    A value runs on until the next label or the signature; a blank line ends it too, unless the
    label is a message (comments), which may hold paragraphs. Quoted (">") and bold ("*Label:*")
    lines are read as written, and a forwarded message's own header block is skipped.
    """
    record: Record = {}
    label = ""
    free_text = False
    lines: list[str] = []

    def flush() -> None:
        value = "\n".join(lines).strip()
        if label and value:
            _add(record, label, value)

    # Only \n splits: str.splitlines() would also break on U+2028 and friends inside a value.
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line in without_forwarded_headers([clean_line(line) for line in raw_lines]):
        if _SIGNATURE.match(line):
            break
        match = _LABEL_LINE.match(line)
        if match:
            flush()
            label = match.group("label").strip()
            free_text = field_for_label(label) == "comments"
            lines = [match.group("value") or ""]
        elif label:
            if not line.strip() and not free_text and "".join(lines).strip():
                flush()
                label, lines = "", []
                continue
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
    text = cut(content.text) if cut else content.text
    for label, value in parse_labelled_text(text).items():
        _add(record, label, value)
    if not has_contact_label(record):
        for label, value in stacked_pairs(text).items():
            record.setdefault(label, value)
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


__all__ = ["MAX_ATTACHMENT_RECORDS", "EmailParseError", "iter_mbox", "parse_message"]
