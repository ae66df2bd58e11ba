"""HTTP POST payloads: JSON, name-value pairs, multipart forms and XML (flat or ADF).

The content type decides the reader; a missing or wrong one is sniffed from the first bytes,
so a sender that says text/plain but posts JSON still gets its lead in.
"""

from __future__ import annotations

import json
import re
from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils.http import parse_header_parameters

from leadloop.intake.channels import ParseError, Record, register

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

HTTP_CHANNEL = "http"
MAX_FIELDS = 500
MAX_DEPTH = 8
# A bare "&" (not starting an entity) is the most common reason ADF from real senders is not
# well-formed; escaping it cannot change the meaning of a document that parses afterwards.
_BARE_AMP = re.compile(rb"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#x[0-9a-fA-F]+);)")


def media_type(content_type: str) -> tuple[str, dict[str, str]]:
    """'Application/JSON; charset=UTF-8' → ('application/json', {'charset': 'UTF-8'}).

    Django's header parser: quoted values (with ";" inside), RFC 2231 parameters, names in any
    case. The type is lower-cased; "" when there is none.
    """
    kind, params = parse_header_parameters(content_type)
    return kind.lower(), params


def sniff(body: bytes) -> str:
    """A best guess at the media type of a body that came without a usable one."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head in (b"{", b"["):
        return "application/json"
    if head == b"<":
        return "application/xml"
    if b"=" in body[:2000]:
        return "application/x-www-form-urlencoded"
    return ""


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(
            f"The body is not valid {charset or 'UTF-8'} text (byte {getattr(exc, 'start', '?')})."
        ) from exc


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(_scalar(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _flatten(data: dict[str, Any], prefix: str = "", depth: int = 0) -> Record:
    record: Record = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < MAX_DEPTH:
            record.update(_flatten(value, f"{name}.", depth + 1))
        else:
            record[name] = _scalar(value)
    return record


MAX_JSON_DEPTH = 32


def _nesting(text: str) -> int:
    """How deep brackets nest (strings ignored), checked before json.loads recurses into them."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json(body: bytes, charset: str | None = None) -> Record:
    """One lead as a JSON object (or {"lead": {...}}); nested objects become dotted labels."""
    text = _decode(body, charset)
    if _nesting(text) > MAX_JSON_DEPTH:
        raise ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"Malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from exc
    if isinstance(data, dict) and set(data) == {"lead"} and isinstance(data["lead"], dict):
        data = data["lead"]
    if not isinstance(data, dict):
        raise ParseError("Send one lead as a JSON object.")
    record = _flatten(data)
    if len(record) > MAX_FIELDS:
        raise ParseError(f"Too many fields (more than {MAX_FIELDS}).")
    return record


def parse_form(body: bytes, charset: str | None = None) -> Record:
    """Name-value pairs (application/x-www-form-urlencoded); a repeated name joins its values."""
    text = _decode(body, charset)
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
            encoding=charset or "utf-8",
            errors="strict",
        )
    except ValueError as exc:
        raise ParseError(f"Malformed name-value pairs: {exc}") from exc
    record: Record = {}
    for key, value in pairs:
        record[key] = (
            f"{record[key]}, {value}" if key in record and value else value or record.get(key, "")
        )
    return record


def parse_multipart(body: bytes, content_type: str) -> Record:
    """multipart/form-data: text fields become labels; an uploaded file is noted, not read."""
    message = BytesParser(policy=policy.default).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ParseError("The multipart body has no parts (is the boundary right?).")
    record: Record = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        if filename:
            record[f"_file.{name}"] = str(filename)
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        record[str(name)] = _decode(payload, part.get_content_charset())
        if len(record) > MAX_FIELDS:
            raise ParseError(f"Too many fields (more than {MAX_FIELDS}).")
    return record


def parse_xml_document(body: bytes) -> Element:
    """Parse untrusted XML safely: no DTDs, no entities, and a clear error when it is broken.

    Tolerated (safe) repairs: a byte-order mark or whitespace before the declaration, and bare
    ampersands. Anything else that is not well-formed is refused with the parser's position.
    """
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        return safe_fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ParseError(
            f"XML with a DTD or entities is refused for safety ({type(exc).__name__})."
        ) from exc
    except XMLSyntaxError as first:
        repaired = _BARE_AMP.sub(b"&amp;", text)
        if repaired == text:
            raise ParseError(f"Malformed XML: {first}.") from first
        try:
            return safe_fromstring(repaired, forbid_dtd=True)
        except (XMLSyntaxError, DefusedXmlException) as exc:
            raise ParseError(f"Malformed XML: {first}.") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _flat_xml(element: Element, prefix: str, record: Record, depth: int = 0) -> None:
    for child in element:
        name = f"{prefix}{_local(child.tag)}"
        if len(child) and depth < MAX_DEPTH:
            _flat_xml(child, f"{name}.", record, depth + 1)
        else:
            value = (child.text or "").strip()
            record[name] = f"{record[name]}, {value}" if name in record and value else value
        for attr, value in child.attrib.items():
            record[f"{name}@{_local(attr)}"] = value
        if len(record) > MAX_FIELDS:
            raise ParseError(f"Too many fields (more than {MAX_FIELDS}).")


def parse_xml(body: bytes) -> Record:
    """A flat XML lead (<lead><first_name>…</first_name>…</lead>) or an ADF document."""
    root = parse_xml_document(body)
    if _local(root.tag).lower() == "adf":
        return parse_adf(root)
    leads = [child for child in root if _local(child.tag).lower() == "lead"]
    if len(leads) > 1:
        raise ParseError("Send one lead per request.")
    record: Record = {}
    _flat_xml(leads[0] if leads else root, "", record)
    if not record:
        raise ParseError("The XML has no fields.")
    return record


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_adf(root: Element) -> Record:
    """ADF 1.0 (auto-lead data format): the prospect's contact becomes lead labels; vehicle,
    vendor, provider and any vendor extension are kept as dotted labels, never dropped."""
    prospects = root.findall("prospect")
    if len(prospects) != 1:
        raise ParseError("An ADF document must hold exactly one <prospect>.")
    prospect = prospects[0]
    record: Record = {}
    id_element = prospect.find("id")
    if id_element is not None:
        record["id"] = _text(id_element)
        if id_element.get("source"):
            record["adf.id_source"] = id_element.get("source", "")
    record["adf.requestdate"] = _text(prospect.find("requestdate"))
    for attr, value in prospect.attrib.items():
        record[f"adf.prospect@{attr}"] = value
    contact = prospect.find("customer/contact")
    if contact is not None:
        for name in contact.findall("name"):
            part = (name.get("part") or "full").lower()
            label = {"first": "first_name", "last": "last_name"}.get(part, "full name")
            record.setdefault(label, _text(name))
        emails = [_text(e) for e in contact.findall("email") if _text(e)]
        if emails:
            record["email"] = emails[0]
            for i, extra in enumerate(emails[1:], 2):
                record[f"adf.email{i}"] = extra
        phones = [(p.get("type", "voice"), _text(p)) for p in contact.findall("phone") if _text(p)]
        if phones:
            record["phone"] = phones[0][1]
            for i, (kind, number) in enumerate(phones[1:], 2):
                record[f"adf.phone{i}.{kind}"] = number
        address = contact.find("address")
        if address is not None:
            lines = [_text(s) for s in address.findall("street") if _text(s)]
            if lines:
                record["street"] = ", ".join(lines)
            for tag, label in (
                ("city", "city"),
                ("regioncode", "region"),
                ("postalcode", "postal code"),
                ("country", "country"),
            ):
                if _text(address.find(tag)):
                    record[label] = _text(address.find(tag))
    comments = _text(prospect.find("customer/comments"))
    if comments:
        record["comments"] = comments
    for section in prospect:
        tag = _local(section.tag)
        if tag in ("id", "requestdate", "customer"):
            continue
        _flat_xml(section, f"adf.{tag}.", record)
        if section.text and section.text.strip() and not len(section):
            record[f"adf.{tag}"] = section.text.strip()
    return {k: v for k, v in record.items() if v != "" or k == "adf.requestdate"}


@register(HTTP_CHANNEL)
def parse_http(submission: RawSubmission) -> list[Record]:
    """The one record of an HTTP POST, read by its content type (sniffed when missing)."""
    body = bytes(submission.body)
    if not body.strip():
        raise ParseError("The body is empty.")
    kind, params = media_type(submission.content_type)
    if kind not in READERS and kind != "multipart/form-data":
        kind = sniff(body)
    charset = params.get("charset")
    if kind == "multipart/form-data":
        return [parse_multipart(body, submission.content_type)]
    reader = READERS.get(kind)
    if reader is None:
        raise ParseError(
            "Unsupported content type "
            f"{submission.content_type or '(none)'!r}: send JSON, XML or name-value pairs."
        )
    return [reader(body, charset)]


READERS: dict[str, Any] = {
    "application/json": parse_json,
    "text/json": parse_json,
    "application/x-www-form-urlencoded": parse_form,
    "application/xml": lambda body, charset: parse_xml(body),
    "text/xml": lambda body, charset: parse_xml(body),
    "application/adf+xml": lambda body, charset: parse_xml(body),
}


def is_xml(content_type: str, body: bytes) -> bool:
    """Whether the caller spoke XML (and so gets its answer in XML)."""
    kind, _ = media_type(content_type)
    if kind in READERS or kind == "multipart/form-data":
        return kind.endswith("xml")
    return sniff(body) == "application/xml"
