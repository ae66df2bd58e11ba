"""Routing conditions: what a rule can test on a lead, how it reads as text, and how it is checked.

A condition is `{"field", "op", "value"}`. It reads and writes as one line of text, the way the
rules page shows it and a marketing manager types it:

    country = NL
    postal_code between 1000 and 1999
    grade in A, B
    priority >= 60
    extra.product = heat pump
    email is not empty

Pure Python over a lead row: no queries, so deciding is cheap however many rules there are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

TEXT, NUMBER = "text", "number"


@dataclass(frozen=True)
class Field:
    kind: str
    label: Any
    read: Callable[[Any], Any]


def _email_domain(lead: Any) -> str:
    return lead.email.rpartition("@")[2] if "@" in lead.email else ""


def _name_of(related: str) -> Callable[[Any], str]:
    def read(lead: Any) -> str:
        value = getattr(lead, related, None)
        return value.name if value is not None else ""

    return read


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda lead: getattr(lead, name)


def _age_hours(lead: Any) -> int | None:
    """Whole hours since the lead came in (a buyer's "lead age" filter)."""
    from django.utils import timezone

    created = getattr(lead, "created_at", None)
    return int((timezone.now() - created).total_seconds() // 3600) if created else None


FIELDS: dict[str, Field] = {
    "country": Field(TEXT, gettext_lazy("country (ISO code)"), _attr("country")),
    "postal_code": Field(TEXT, gettext_lazy("postal code"), _attr("postal_code")),
    "city": Field(TEXT, gettext_lazy("city"), _attr("city")),
    "region": Field(TEXT, gettext_lazy("region"), _attr("region")),
    "language": Field(TEXT, gettext_lazy("language"), _attr("language")),
    "source": Field(TEXT, gettext_lazy("source (name)"), _name_of("source")),
    "campaign": Field(TEXT, gettext_lazy("campaign (name)"), _name_of("campaign")),
    "grade": Field(TEXT, gettext_lazy("fit grade (A–D)"), _attr("fit_grade")),
    "company": Field(TEXT, gettext_lazy("company"), _attr("company_name")),
    "job_title": Field(TEXT, gettext_lazy("job title"), _attr("job_title")),
    "email": Field(TEXT, gettext_lazy("e-mail"), _attr("email")),
    "email_domain": Field(TEXT, gettext_lazy("e-mail domain"), _email_domain),
    "phone": Field(TEXT, gettext_lazy("phone"), _attr("phone_e164")),
    "utm_source": Field(TEXT, "utm_source", _attr("utm_source")),
    "utm_medium": Field(TEXT, "utm_medium", _attr("utm_medium")),
    "utm_campaign": Field(TEXT, "utm_campaign", _attr("utm_campaign")),
    "priority": Field(NUMBER, gettext_lazy("priority"), _attr("priority")),
    "engagement_score": Field(NUMBER, gettext_lazy("engagement score"), _attr("engagement_score")),
    "predictive_score": Field(NUMBER, gettext_lazy("predictive score"), _attr("predictive_score")),
    "fraud_score": Field(NUMBER, gettext_lazy("fraud score"), _attr("fraud_score")),
    "age_hours": Field(NUMBER, gettext_lazy("lead age (hours)"), _age_hours),
    "potential_revenue": Field(
        NUMBER, gettext_lazy("potential revenue"), _attr("potential_revenue")
    ),
}
EXTRA_PREFIX = "extra."
EXTRA_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,60}$")

# Operators as typed, longest first so "is not empty" is not read as "is empty".
OPS: dict[str, str] = {
    "is not empty": "not_empty",
    "is empty": "empty",
    "starts with": "starts_with",
    "not in": "not_in",
    "between": "between",
    "contains": "contains",
    "in": "in",
    "!=": "ne",
    ">=": "gte",
    "<=": "lte",
    "=": "eq",
    ">": "gt",
    "<": "lt",
}
TEXT_OF_OP = {code: text for text, code in OPS.items()}
LIST_OPS = frozenset({"in", "not_in", "starts_with"})
NUMBER_OPS = frozenset({"gte", "lte", "gt", "lt"})
NO_VALUE_OPS = frozenset({"empty", "not_empty"})
MAX_VALUES = 500
MAX_TEXT = 200

_LINE = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+)?)\s*"
    r"(?P<op>is not empty|is empty|starts with|not in|between|contains|in|!=|>=|<=|=|>|<)"
    r"(?:\s+|(?<=[=<>])\s*|$)(?P<value>.*?)\s*$",
    re.IGNORECASE,
)
_RANGE = re.compile(r"^\s*(\S+)\s*(?:and|en|–|—|-|\.\.)\s*(\S+)\s*$", re.IGNORECASE)


class ConditionError(ValueError):
    """A condition that cannot be used, with a message for the person who wrote it."""


def field_kind(name: str) -> str:
    """TEXT or NUMBER for a known field; extra fields are text. ConditionError for the rest."""
    if name.startswith(EXTRA_PREFIX):
        if not EXTRA_KEY.match(name[len(EXTRA_PREFIX) :]):
            raise ConditionError(_("%(field)s is not a valid extra field name.") % {"field": name})
        return TEXT
    found = FIELDS.get(name)
    if found is None:
        raise ConditionError(
            _("There is no field %(field)s. Known fields: %(known)s, or extra.<name>.")
            % {"field": name, "known": ", ".join(FIELDS)}
        )
    return found.kind


def _number(text: Any) -> Decimal:
    try:
        value = Decimal(str(text).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ConditionError(_("%(value)s is not a number.") % {"value": text}) from exc
    if not value.is_finite():
        raise ConditionError(_("%(value)s is not a number.") % {"value": text})
    return value


def clean(condition: Any) -> dict[str, Any]:
    """A condition checked and normalised: known field, an operator that fits it, a value of the
    right shape. ConditionError says what is wrong."""
    if not isinstance(condition, dict):
        raise ConditionError(_("A condition is a field, an operator and a value."))
    name = str(condition.get("field", "")).strip()
    if name.startswith(EXTRA_PREFIX):
        name = EXTRA_PREFIX + name[len(EXTRA_PREFIX) :]
    else:
        name = name.lower()
    op = str(condition.get("op", "")).strip().lower()
    op = OPS.get(op, op)
    kind = field_kind(name)
    if op not in TEXT_OF_OP:
        raise ConditionError(_("%(op)s is not an operator.") % {"op": condition.get("op")})
    if op in NUMBER_OPS and kind != NUMBER and name != "postal_code":
        raise ConditionError(
            _("%(field)s is text: use =, in, starts with or contains.") % {"field": name}
        )
    if op in ("contains", "starts_with") and kind == NUMBER:
        raise ConditionError(
            _("%(field)s is a number: use =, >=, <= or between.") % {"field": name}
        )
    value = condition.get("value")
    if op in NO_VALUE_OPS:
        return {"field": name, "op": op, "value": None}
    if op == "between":
        low, high = _bounds(value)
        return {"field": name, "op": op, "value": [str(low), str(high)]}
    if op in LIST_OPS:
        items = value if isinstance(value, list) else str(value or "").split(",")
        values = [str(item).strip()[:MAX_TEXT] for item in items if str(item).strip()]
        if not values:
            raise ConditionError(_("Give at least one value after %(op)s.") % {"op": op})
        if len(values) > MAX_VALUES:
            raise ConditionError(_("At most %(n)d values in one condition.") % {"n": MAX_VALUES})
        return {"field": name, "op": op, "value": values}
    text = str(value if value is not None else "").strip()[:MAX_TEXT]
    if not text:
        raise ConditionError(_("Give a value after %(op)s.") % {"op": TEXT_OF_OP[op]})
    if kind == NUMBER or op in NUMBER_OPS:
        text = str(_number(text))
    return {"field": name, "op": op, "value": text}


def _bounds(value: Any) -> tuple[Decimal, Decimal]:
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = _number(value[0]), _number(value[1])
    else:
        found = _RANGE.match(str(value or ""))
        if not found:
            raise ConditionError(_("Write a range as: between 1000 and 1999."))
        low, high = _number(found.group(1)), _number(found.group(2))
    if low > high:
        raise ConditionError(
            _("The range %(low)s–%(high)s is empty: the first number must be the lower one.")
            % {"low": low, "high": high}
        )
    return low, high


def parse_line(line: str) -> dict[str, Any]:
    """One line of text ("postal_code between 1000 and 1999") as a clean condition."""
    found = _LINE.match(line)
    if not found:
        raise ConditionError(
            _("Write a condition as: field operator value (for example: country = NL).")
        )
    return clean(
        {
            "field": found.group("field"),
            "op": found.group("op").lower(),
            "value": found.group("value"),
        }
    )


def parse_text(text: str) -> list[dict[str, Any]]:
    """Conditions typed one per line; the error names the line."""
    conditions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            conditions.append(parse_line(line))
        except ConditionError as exc:
            raise ConditionError(_("Line %(n)d: %(error)s") % {"n": number, "error": exc}) from exc
    return conditions


def as_text(condition: dict[str, Any]) -> str:
    """The condition as one line, the way `parse_line` reads it back."""
    op = condition["op"]
    value: Any = condition.get("value")
    words = TEXT_OF_OP[op]
    if op in NO_VALUE_OPS:
        return f"{condition['field']} {words}"
    if op == "between":
        return f"{condition['field']} between {value[0]} and {value[1]}"
    if op in LIST_OPS:
        return f"{condition['field']} {words} {', '.join(value)}"
    return f"{condition['field']} {words} {value}"


def read(lead: Any, name: str) -> Any:
    """The value of field `name` on `lead` ('' or None when it has none)."""
    if name.startswith(EXTRA_PREFIX):
        extra = lead.extra if isinstance(lead.extra, dict) else {}
        value = extra.get(name[len(EXTRA_PREFIX) :])
        return "" if value is None else str(value)
    return FIELDS[name].read(lead)


_LEADING_NUMBER = re.compile(r"^\s*(\d+)")


def _as_number(value: Any, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if field == "postal_code":
        # "1234 AB" sits in 1000–1999: a postal-code range compares the leading digits.
        found = _LEADING_NUMBER.match(str(value))
        return Decimal(found.group(1)) if found else None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def holds(condition: dict[str, Any], lead: Any) -> bool:
    """Whether `lead` meets the (clean) condition. A missing value meets only `is empty`
    and `!=`/`not in`."""
    field, op = condition["field"], condition["op"]
    want: Any = condition.get("value")
    value = read(lead, field)
    if op == "empty":
        return value is None or str(value).strip() == ""
    if op == "not_empty":
        return value is not None and str(value).strip() != ""
    if op == "between" or op in NUMBER_OPS or (field_kind(field) == NUMBER):
        number = _as_number(value, field=field)
        if op == "ne":
            return number is None or number != Decimal(want)
        if number is None:
            return False
        if op == "between":
            return Decimal(want[0]) <= number <= Decimal(want[1])
        if op in ("eq", "in"):
            options = want if isinstance(want, list) else [want]
            return any(number == _as_number(option, field="") for option in options)
        if op == "not_in":
            return all(number != _as_number(option, field="") for option in want)
        return {
            "gte": number >= Decimal(want),
            "lte": number <= Decimal(want),
            "gt": number > Decimal(want),
            "lt": number < Decimal(want),
        }.get(op, False)
    text = str(value if value is not None else "").strip().casefold()
    if op == "eq":
        return text == str(want).casefold()
    if op == "ne":
        return text != str(want).casefold()
    if op == "in":
        return text in {item.casefold() for item in want}
    if op == "not_in":
        return text not in {item.casefold() for item in want}
    if op == "contains":
        return str(want).casefold() in text
    if op == "starts_with":
        return any(text.startswith(item.casefold()) for item in want)
    return False


def describe_value(lead: Any, field: str) -> str:
    """The lead's value of `field` for an explanation ("–" when it has none)."""
    value = read(lead, field)
    return "–" if value is None or str(value) == "" else str(value)
