"""What a buyer receives and how its answer is read: pure functions over a lead row.

A buyer's field mapping names, for each of its fields, one of ours (`FIELDS`, or `extra.<key>`)
or a constant (`=value`). The mapped record is sent as a JSON object, as an XML document
(`<lead>` with one element per field) or as name-value pairs; a ping carries only the fields
the buyer chose, never contact data. The answer is read by the buyer's rules, each a test on
the status code, a dotted JSON path, an XPath (ElementTree's subset, over defusedxml) or a
regular expression; without a matching rule a 2xx is accepted, a 408, 429, 5xx or no answer
may be tried again, a 409 is a duplicate, anything else is a refusal; a 2xx JSON answer whose
"status" is "rejected" or "duplicate" is taken at its word.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import defusedxml.ElementTree as SafeET
from django.utils.translation import gettext as _


def _name(related: str) -> Callable[[Any], str]:
    def read(lead: Any) -> str:
        value = getattr(lead, related, None)
        return value.name if value is not None else ""

    return read


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda lead: getattr(lead, name)


FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": _attr("pk"),
    "first_name": _attr("first_name"),
    "last_name": _attr("last_name"),
    "email": _attr("email"),
    "phone": _attr("phone_e164"),
    "street": _attr("street"),
    "house_number": _attr("house_number"),
    "postal_code": _attr("postal_code"),
    "city": _attr("city"),
    "region": _attr("region"),
    "country": _attr("country"),
    "company": _attr("company_name"),
    "job_title": _attr("job_title"),
    "language": _attr("language"),
    "source": _name("source"),
    "campaign": _name("campaign"),
    "grade": _attr("fit_grade"),
    "priority": _attr("priority"),
    "created_at": lambda lead: lead.created_at.isoformat() if lead.created_at else "",
}
# Never in a ping: who the person is and how to reach them.
CONTACT_FIELDS = frozenset(
    {"first_name", "last_name", "email", "phone", "street", "house_number", "company"}
)
DEFAULT_MAP: list[list[str]] = [[name, name] for name in FIELDS]
DEFAULT_PING = ["id", "postal_code", "city", "country", "grade", "source", "created_at"]
EXTRA = re.compile(r"^extra\.[A-Za-z0-9_\-]{1,60}$")
THEIR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
MAX_MAP = 100

ACCEPTED, REJECTED, DUPLICATE, RETRY = "accepted", "rejected", "duplicate", "retry"
OUTCOMES = (ACCEPTED, REJECTED, DUPLICATE, RETRY)
TESTS = ("status", "json", "xpath", "regex")
MAX_RULES = 20


class FormatError(ValueError):
    """A mapping or answer rule that cannot be used; the message says why."""


def clean_map(rows: Any) -> list[list[str]]:
    """A field mapping as stored: each row [their name, our field or "=constant"]."""
    if rows in (None, "", []):
        return []
    if not isinstance(rows, list) or len(rows) > MAX_MAP:
        raise FormatError(_("The field mapping is a list of at most %(n)d rows.") % {"n": MAX_MAP})
    cleaned: list[list[str]] = []
    for row in rows:
        if not (isinstance(row, list | tuple) and len(row) == 2):
            raise FormatError(_("Each mapping row is a pair: their name and our field."))
        theirs, ours = str(row[0]).strip(), str(row[1]).strip()
        if not THEIR_NAME.match(theirs):
            raise FormatError(_("%(name)s cannot be a field name.") % {"name": theirs[:60]})
        if not (ours.startswith("=") or ours in FIELDS or EXTRA.match(ours)):
            raise FormatError(
                _("There is no field %(field)s to send. Known fields: %(known)s, extra.<name>.")
                % {"field": ours[:60], "known": ", ".join(FIELDS)}
            )
        cleaned.append([theirs, ours[:200]])
    return cleaned


def parse_map(text: str) -> list[list[str]]:
    """A mapping typed one row a line: `their_name = our_field` (or `= "constant"`)."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        theirs, sep, ours = line.partition("=")
        if not sep:
            raise FormatError(_("“%(line)s” is not “their name = our field”.") % {"line": line})
        ours = ours.strip()
        if ours.startswith('"') and ours.endswith('"') and len(ours) >= 2:
            ours = "=" + ours[1:-1]
        rows.append([theirs.strip(), ours])
    return clean_map(rows)


def map_as_text(rows: list[list[str]]) -> str:
    lines = []
    for theirs, ours in rows:
        lines.append(f'{theirs} = "{ours[1:]}"' if ours.startswith("=") else f"{theirs} = {ours}")
    return "\n".join(lines)


def clean_ping_fields(names: Any) -> list[str]:
    if names in (None, "", []):
        return []
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    cleaned = []
    for name in names:
        name = str(name).strip()
        if name in CONTACT_FIELDS:
            raise FormatError(
                _("%(field)s is contact data: a ping never carries it.") % {"field": name}
            )
        if not (name in FIELDS or EXTRA.match(name)):
            raise FormatError(_("There is no field %(field)s.") % {"field": name[:60]})
        cleaned.append(name)
    return cleaned


def value_of(lead: Any, ours: str) -> str:
    if ours.startswith("="):
        return ours[1:]
    if ours.startswith("extra."):
        value = (lead.extra or {}).get(ours[6:], "")
    else:
        value = FIELDS[ours](lead)
    return "" if value is None else str(value)


def record(lead: Any, field_map: list[list[str]]) -> dict[str, str]:
    """The lead as the buyer names its fields."""
    return {theirs: value_of(lead, ours) for theirs, ours in (field_map or DEFAULT_MAP)}


def ping_record(lead: Any, ping_fields: list[str]) -> dict[str, str]:
    """What a ping tells: the chosen fields, by our names, never contact data."""
    names = [n for n in (ping_fields or DEFAULT_PING) if n not in CONTACT_FIELDS]
    return {name: value_of(lead, name) for name in names}


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(value: str) -> str:
    return _XML_BAD.sub("", value)


def body(data: dict[str, str], method: str, *, key: str = "") -> tuple[bytes, str]:
    """The request body and its content type for a delivery method (json, xml, form)."""
    if method == "xml":
        root = ET.Element("lead")
        if key:
            root.set("key", key)
        for name, value in data.items():
            ET.SubElement(root, name).text = _xml_text(value)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True), "application/xml"
    if method == "form":
        return urlencode(data).encode(), "application/x-www-form-urlencoded"
    return json.dumps(data, ensure_ascii=False).encode(), "application/json"


def as_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            # A cell that a spreadsheet would run as a formula is quoted as text.
            writer.writerow(
                {k: ("'" + v if v[:1] in ("=", "+", "-", "@") else v) for k, v in row.items()}
            )
    return out.getvalue()


def as_vcard(lead: Any) -> str:
    import vobject

    card = vobject.vCard()
    card.add("n").value = vobject.vcard.Name(family=lead.last_name, given=lead.first_name)
    card.add("fn").value = (f"{lead.first_name} {lead.last_name}".strip()) or lead.email or "?"
    if lead.email:
        card.add("email").value = lead.email
    if lead.phone_e164:
        card.add("tel").value = lead.phone_e164
    if lead.company_name:
        card.add("org").value = [lead.company_name]
    if lead.city or lead.postal_code or lead.street:
        card.add("adr").value = vobject.vcard.Address(
            street=f"{lead.street} {lead.house_number}".strip(),
            city=lead.city,
            code=lead.postal_code,
            country=lead.country,
        )
    return str(card.serialize())


# Answers ---------------------------------------------------------------------------------


def clean_rules(rules: Any) -> list[dict[str, str]]:
    """Answer rules as stored: [{"test", "expr", "value", "outcome"}]."""
    if rules in (None, "", []):
        return []
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise FormatError(_("The answer rules are a list of at most %(n)d.") % {"n": MAX_RULES})
    cleaned = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise FormatError(_("Each answer rule has a test, an expression and an outcome."))
        test, expr = str(rule.get("test", "")), str(rule.get("expr", ""))[:300]
        value, outcome = str(rule.get("value", ""))[:200], str(rule.get("outcome", ""))
        if test not in TESTS:
            raise FormatError(_("A test is one of %(tests)s.") % {"tests": ", ".join(TESTS)})
        if outcome not in OUTCOMES:
            raise FormatError(_("An outcome is one of %(o)s.") % {"o": ", ".join(OUTCOMES)})
        if test == "regex":
            try:
                re.compile(expr)
            except re.error as exc:
                raise FormatError(
                    _("%(expr)s is not a regular expression.") % {"expr": expr}
                ) from exc
        if test == "status" and not re.fullmatch(r"[0-9x]{3}(,[0-9x]{3})*", expr):
            raise FormatError(_("A status test is like 200 or 4xx or 409,410."))
        cleaned.append({"test": test, "expr": expr, "value": value, "outcome": outcome})
    return cleaned


def parse_rules(text: str) -> list[dict[str, str]]:
    """Rules typed one a line: `json status = ok -> accepted`, `regex DUP -> duplicate`,
    `status 409 -> duplicate`, `xpath ./result = rejected -> rejected`."""
    rules = []
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        test_expr, arrow, outcome = line.rpartition("->")
        if not arrow:
            raise FormatError(_("“%(line)s” has no “-> outcome”.") % {"line": line[:80]})
        test, _sep, rest = test_expr.strip().partition(" ")
        expr, eq, value = rest.partition(" = ") if test in ("json", "xpath") else (rest, "", "")
        rules.append(
            {
                "test": test,
                "expr": expr.strip(),
                "value": value.strip() if eq else "",
                "outcome": outcome.strip(),
            }
        )
    return clean_rules(rules)


def rules_as_text(rules: list[dict[str, str]]) -> str:
    lines = []
    for rule in rules:
        value = f" = {rule['value']}" if rule.get("value") else ""
        lines.append(f"{rule['test']} {rule['expr']}{value} -> {rule['outcome']}")
    return "\n".join(lines)


def json_path(document: Any, path: str) -> Any:
    """`a.b.0.c` in a parsed JSON document; None where the path leads nowhere."""
    node = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _xml(text: str) -> Any:
    try:
        return SafeET.fromstring(text.encode())
    except Exception:
        return None


def _status_holds(expr: str, status: int | None) -> bool:
    if status is None:
        return False
    code = str(status)
    return any(
        all(p in ("x", c) for p, c in zip(pattern, code, strict=True))
        for pattern in expr.split(",")
    )


def _holds(rule: dict[str, str], status: int | None, text: str) -> tuple[bool, str]:
    test, expr, value = rule["test"], rule["expr"], rule.get("value", "")
    if test == "status":
        return _status_holds(expr, status), ""
    if test == "regex":
        found = re.search(expr, text)
        return found is not None, (found.group(1) if found and found.groups() else "")
    if test == "json":
        found = json_path(_json(text), expr)
    else:
        root = _xml(text)
        try:
            found = root.findtext(expr) if root is not None else None
        except SyntaxError:
            found = None
    if found is None:
        return False, ""
    if value:
        return str(found).strip().lower() == value.lower(), str(found)
    return True, str(found)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    reason: str = ""


def read_answer(rules: list[dict[str, str]], status: int | None, text: str) -> Verdict:
    """What the buyer's answer says: accepted, rejected, duplicate or retry."""
    for rule in rules:
        holds, found = _holds(rule, status, text)
        if holds:
            reason = _reason(text) if rule["outcome"] != ACCEPTED else ""
            return Verdict(rule["outcome"], reason or found)
    if status is None or status in (408, 429) or status >= 500:
        return Verdict(RETRY, _reason(text))
    if 200 <= status < 300:
        # Without rules, a JSON answer's own "status" (rejected, duplicate) is believed.
        document = _json(text)
        said = document.get("status") if isinstance(document, dict) else None
        if said in (REJECTED, DUPLICATE):
            return Verdict(said, _reason(text) or said)
        return Verdict(ACCEPTED)
    if status == 409:
        return Verdict(DUPLICATE, _reason(text))
    return Verdict(REJECTED, _reason(text) or f"HTTP {status}")


def _reason(text: str) -> str:
    document = _json(text)
    if isinstance(document, dict):
        for key in ("reason", "message", "error", "detail"):
            if isinstance(document.get(key), str):
                return " ".join(document[key].split())[:300]
    return ""


def read_bid(text: str, path: str) -> Decimal | None:
    """The price in a ping's answer at `path`; None when there is no usable price (no bid)."""
    found = json_path(_json(text), path or "price")
    if found is None or isinstance(found, bool):
        return None
    try:
        price = Decimal(str(found))
    except InvalidOperation:
        return None
    if not price.is_finite() or price <= 0 or price > Decimal("100000"):
        return None
    return price.quantize(Decimal("0.01"))
