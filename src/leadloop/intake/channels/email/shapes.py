"""The shapes real lead mails take that "Label: value" lines alone do not read.

- Lines as webmail clients forward or quote them: "> Name: Ann", "*Name:* Ann" (bold in a
  plain-text part); the parser also takes a non-breaking space after the colon.
- A forwarded message's own header block ("---------- Forwarded message ---------", then
  From/Date/Subject/To) is the forwarder's, not the lead's: it is skipped.
- Labels and values on lines of their own ("First name" / "Ann"), as a CRM's "request a demo"
  notification or an HTML mail of <strong>Label</strong><br>value turns into text.
- A body that is a lead XML document (ADF or a flat <lead>).
- The lead's address only in the message's Reply-To, or in a "From: Name <address>" line of
  the body (a website's contact form sends as itself and replies to the visitor).
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from leadloop.intake.channels import ParseError, Record
from leadloop.intake.channels.http.parser import parse_xml
from leadloop.intake.synonyms import field_for_label, fold_label

MAX_LABEL_CHARS = 60
MAX_XML_CHARS = 1_000_000

_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
# "*Name:* Ann", "**Name**: Ann", "_Name:_ Ann"
_BOLD_LABEL = re.compile(
    r"^[ \t]*(?P<mark>\*{1,2}|_{1,2})(?P<label>[^*_\n]{1,60}?)(?P<inside>:?)(?P=mark)(?P<after>:?)"
)
_FORWARD_START = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:forwarded message|original message|doorgestuurd bericht|"
    r"oorspronkelijk bericht|weitergeleitete nachricht|ursprüngliche nachricht|message transféré|"
    r"message d'origine)[ \t]*-{2,}|begin forwarded message:|begin doorgestuurd bericht:)[ \t]*$",
    re.IGNORECASE,
)
_FORWARD_HEADER = re.compile(
    r"^[ \t]*(?:from|sent|date|to|cc|bcc|subject|reply-to|van|verzonden|datum|aan|onderwerp|"
    r"von|gesendet|an|betreff|de|envoyé|à|objet)[ \t]*:",
    re.IGNORECASE,
)
# Labels whose value is a sender written as "Name <address>".
SENDER_LABELS = frozenset(
    fold_label(label)
    for label in ("from", "van", "sender", "afzender", "name and email", "naam en e-mail")
)
NAME_FIELDS = frozenset({"full_name", "first_name", "last_name"})


def clean_line(line: str) -> str:
    """A line as its sender wrote it: quote marks and bold marks taken away (values untouched)."""
    line = _QUOTE.sub("", line)
    match = _BOLD_LABEL.match(line)
    if match and (match.group("inside") or match.group("after")):
        line = f"{match.group('label').strip()}:{line[match.end() :]}"
    return line


def without_forwarded_headers(lines: list[str]) -> list[str]:
    """The lines with each forwarded message's own header block left out."""
    kept: list[str] = []
    skipping = False
    seen_header = False
    for line in lines:
        if _FORWARD_START.match(line):
            skipping, seen_header = True, False
            continue
        if skipping:
            if _FORWARD_HEADER.match(line):
                seen_header = True
                continue
            if not line.strip() and not seen_header:
                continue
            skipping = False
            if not line.strip():
                continue
        kept.append(line)
    return kept


def stacked_pairs(text: str) -> Record:
    """Known labels each on a line of their own, with the value on the next line."""
    lines = [clean_line(line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    record: Record = {}
    index = 0
    while index < len(lines) - 1:
        label = lines[index].rstrip(":").strip()
        value = lines[index + 1]
        if (
            len(label) <= MAX_LABEL_CHARS
            and field_for_label(label)
            and not field_for_label(value.rstrip(":"))
            and label not in record
        ):
            record[label] = value
            index += 2
        else:
            index += 1
    return record if len(record) >= 2 else {}


def has_contact_label(record: Record) -> bool:
    return any(field_for_label(label) in ("email", "phone") for label in record)


def xml_lead(text: str) -> Record:
    """The record of a body that is a lead XML document; empty when it is not one."""
    head = text.lstrip()[:200].lower()
    if not head.startswith("<") or len(text) > MAX_XML_CHARS:
        return {}
    if not (head.startswith("<?xml") or "<adf" in head or "<lead" in head):
        return {}
    try:
        return parse_xml(text.strip().encode("utf-8"))
    except ParseError:
        return {}


def with_contact_defaults(record: Record) -> Record:
    """Add "email" (and "name") when the record names no e-mail address of the lead.

    From a "From: Name <address>" line of the body first, else from the message's Reply-To
    when it differs from its From (the sending system's own address is never the lead's).
    """
    fields = {field_for_label(label) for label in record if not label.startswith("_")}
    if "email" in fields:
        return record
    added: Record = {}
    for label, value in record.items():
        if not label.startswith("_") and fold_label(label) in SENDER_LABELS:
            name, address = parseaddr(value)
            if "@" in address and "email" not in record:
                added["email"] = address
                if name and not fields & NAME_FIELDS and "name" not in record:
                    added["name"] = name
                break
    if not added:
        reply_to = record.get("_reply_to", "")
        if "@" in reply_to and reply_to.lower() != record.get("_from", "").lower():
            added["email"] = reply_to
    return {**record, **added}
