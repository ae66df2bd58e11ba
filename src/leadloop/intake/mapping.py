"""Turn a record (the sender's labels → values) into lead input, with the source's mapping.

A source's `field_mapping` (JSON, edited in the UI and the API) may hold:

    {"fields": {"Naam klant": "full_name", "Nieuwsbrief": "extra", "Intern": "ignore"},
     "transforms": {"consent_at": "date:%d-%m-%Y", "postal_code": "upper"},
     "value_maps": {"country": {"Nederland": "NL", "België": "BE"}},
     "constants": {"language": "nl"}}

A label the mapping does not name is looked up among the English/Dutch synonyms; what is still
unknown is kept in the lead's `extra` fields, never dropped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from leadloop.intake.synonyms import field_for_label
from leadloop.leads.services import INPUT_FIELDS

# Targets beyond the lead's own input fields.
FULL_NAME = "full_name"
COMMENTS = "comments"
EXTRA = "extra"
IGNORE = "ignore"
CAMPAIGN = "campaign"
TARGETS = frozenset(INPUT_FIELDS - {"extra", "organization_id"}) | {
    FULL_NAME,
    COMMENTS,
    EXTRA,
    IGNORE,
    CAMPAIGN,
}
TRANSFORMS = ("upper", "lower", "strip", "digits", "title", "date:<format>")


class MappingError(ValueError):
    """The mapping cannot turn this record into a lead; a person fixes the mapping or the data."""


@dataclass
class Candidate:
    """Lead input made from one record, and how each value got there (for the preview)."""

    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    campaign_name: str = ""
    trace: list[tuple[str, str, str]] = field(default_factory=list)  # (label, target, value)

    def lead_input(self) -> dict[str, Any]:
        data = dict(self.values)
        if self.extra:
            data["extra"] = dict(self.extra)
        return data


def validate_mapping(
    mapping: dict[str, Any], *, targets: frozenset[str] = TARGETS
) -> dict[str, list[str]]:
    """Field errors in a mapping document (empty when it is usable).

    `targets` are the columns' possible targets: a file import may also set the outcome.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(mapping, dict):
        return {"mapping": ["Expected an object."]}
    for label, target in (mapping.get("fields") or {}).items():
        if target not in targets:
            errors.setdefault(f"fields.{label}", []).append(f"Unknown target {target!r}.")
    for target, transform in (mapping.get("transforms") or {}).items():
        if not isinstance(transform, str) or not (
            transform in TRANSFORMS[:-1] or transform.startswith("date:")
        ):
            errors.setdefault(f"transforms.{target}", []).append(
                f"Unknown transform {transform!r}; use one of {', '.join(TRANSFORMS)}."
            )
    for target, table in (mapping.get("value_maps") or {}).items():
        if not isinstance(table, dict):
            errors.setdefault(f"value_maps.{target}", []).append("Expected an object.")
    for target in mapping.get("constants") or {}:
        if target not in TARGETS:
            errors.setdefault(f"constants.{target}", []).append(f"Unknown target {target!r}.")
    return errors


def split_name(full: str) -> tuple[str, str]:
    """'Jan de Vries' → ('Jan', 'de Vries'); 'Vries, Jan de' → ('Jan de', 'Vries')."""
    full = " ".join(full.split())
    if "," in full:
        last, _, first = full.partition(",")
        return first.strip(), last.strip()
    first, _, last = full.partition(" ")
    return first, last


def _transform(value: str, how: str) -> str:
    if how == "upper":
        return value.upper()
    if how == "lower":
        return value.lower()
    if how == "strip":
        return value.strip()
    if how == "title":
        return value.title()
    if how == "digits":
        return "".join(ch for ch in value if ch.isdigit())
    if how.startswith("date:"):
        try:
            # Naive on purpose: the lead's validation reads it in the current time zone.
            parsed = dt.datetime.strptime(value.strip(), how[5:])  # noqa: DTZ007
            return parsed.isoformat()
        except ValueError as exc:
            raise MappingError(f"{value!r} does not match the date format {how[5:]!r}.") from exc
    return value


def map_record(record: dict[str, str], mapping: dict[str, Any] | None) -> Candidate:
    """Lead input from one record; raises MappingError when the mapping cannot be applied."""
    mapping = mapping or {}
    explicit: dict[str, str] = mapping.get("fields") or {}
    transforms: dict[str, str] = mapping.get("transforms") or {}
    value_maps: dict[str, dict[str, str]] = mapping.get("value_maps") or {}
    candidate = Candidate()
    full_name = ""
    for label, raw_value in record.items():
        value = raw_value.strip() if isinstance(raw_value, str) else str(raw_value)
        target = explicit.get(label)
        if target is None and not label.startswith("_"):
            target = field_for_label(label)
        if target == IGNORE:
            continue
        if target is None or target == EXTRA:
            if value:
                candidate.extra[label] = value
            candidate.trace.append((label, EXTRA, value))
            continue
        if not value:
            continue
        if target in value_maps:
            value = value_maps[target].get(value, value)
        if target in transforms:
            value = _transform(value, transforms[target])
        candidate.trace.append((label, target, value))
        if target == FULL_NAME:
            full_name = value
        elif target == COMMENTS:
            candidate.extra[COMMENTS] = value
        elif target == CAMPAIGN:
            candidate.campaign_name = value
        elif target not in candidate.values:
            candidate.values[target] = value
        else:
            candidate.extra[label] = value
    if full_name and not (candidate.values.get("first_name") or candidate.values.get("last_name")):
        first, last = split_name(full_name)
        candidate.values["first_name"], candidate.values["last_name"] = first, last
    elif full_name:
        candidate.extra.setdefault("full_name", full_name)
    for target, value in (mapping.get("constants") or {}).items():
        if target == CAMPAIGN:
            candidate.campaign_name = candidate.campaign_name or str(value)
        elif target in INPUT_FIELDS and not candidate.values.get(target):
            candidate.values[target] = value
    return candidate
