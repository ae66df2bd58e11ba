"""Forms of the review pages: a person's correction of a submission, and a source's mapping.

Both have rows a person adds and removes, so they read the POST's parallel lists themselves; every
row also works without JavaScript (the fix as "label: value" lines, the mapping with blank rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.http import QueryDict
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.intake.mapping import (
    CAMPAIGN,
    COMMENTS,
    EXTRA,
    FULL_NAME,
    IGNORE,
    TARGETS,
    validate_mapping,
)
from leadloop.leads.models import Lead

MAX_LABEL = 200
MAX_VALUE = 10_000
MAX_ROWS = 500
SPECIAL_TARGETS = {
    FULL_NAME: _("Full name (split into first and last)"),
    COMMENTS: _("Comments"),
    EXTRA: _("Keep as extra field"),
    IGNORE: _("Ignore"),
    CAMPAIGN: _("Campaign (by name)"),
}
# Offered in the editor; any other `date:<format>` is accepted too.
TRANSFORM_CHOICES = (
    "upper", "lower", "strip", "digits", "title",
    "date:%d-%m-%Y", "date:%Y-%m-%d", "date:%d/%m/%Y", "date:%m/%d/%Y", "date:%d-%m-%Y %H:%M",
)  # fmt: skip


def target_label(name: str) -> str:
    """A mapping target as people read it: the lead field's label, or what the special one does."""
    if name in SPECIAL_TARGETS:
        return str(SPECIAL_TARGETS[name])
    try:
        return capfirst(str(getattr(Lead._meta.get_field(name), "verbose_name", name)))
    except FieldDoesNotExist:
        return name.replace("_", " ").capitalize()


def target_choices() -> list[tuple[str, str]]:
    """Every target, the lead's own fields first (alphabetical by label), the special ones last."""
    own = sorted((t for t in TARGETS if t not in SPECIAL_TARGETS), key=target_label)
    special = [t for t in SPECIAL_TARGETS if t in TARGETS]
    return [(t, f"{target_label(t)} ({t})") for t in [*own, *special]]


# --- Fix and reprocess ---------------------------------------------------------------------------


class FixForm(forms.Form):
    """Corrected fields of one submission: rows of label and value, or "label: value" lines."""

    fields_text = forms.CharField(
        label=_("Fields, one “label: value” per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )

    def __init__(self, data: QueryDict | None = None, *, record: dict[str, str] | None = None):
        self.rows: list[tuple[str, str]] = list((record or {}).items())
        initial = {"fields_text": "\n".join(f"{k}: {_one_line(v)}" for k, v in self.rows)}
        super().__init__(data, initial=initial)
        if data is not None and "label" in data:
            # The row table (with JavaScript): keep what was typed to show it again on errors.
            self.rows = list(zip(data.getlist("label"), data.getlist("value"), strict=False))
        self.corrected: dict[str, str] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "label" in self.data:
            pairs = [(k.strip(), v.strip()) for k, v in self.rows if k.strip() or v.strip()]
        else:
            pairs = []
            text = cleaned.get("fields_text", "")
            for number, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                label, colon, value = line.partition(":")
                if not colon:
                    self.add_error(
                        "fields_text",
                        gettext("Line %(n)d has no “label: value”.") % {"n": number},
                    )
                    continue
                pairs.append((label.strip(), value.strip()))
            self.rows = pairs
        if len(pairs) > MAX_ROWS:
            raise forms.ValidationError(gettext("At most %(n)d fields.") % {"n": MAX_ROWS})
        for label, value in pairs:
            if not label:
                self.add_error(
                    None, gettext("The value “%(value)s” has no label.") % {"value": value[:60]}
                )
            elif len(label) > MAX_LABEL or len(value) > MAX_VALUE:
                self.add_error(
                    None, gettext("The field “%(label)s” is too long.") % {"label": label[:60]}
                )
            elif label in self.corrected:
                self.add_error(
                    None, gettext("The label “%(label)s” appears twice.") % {"label": label}
                )
            else:
                self.corrected[label] = value
        if not pairs and not self.errors:
            raise forms.ValidationError(gettext("Give at least one field."))
        return cleaned

    def apply_service_error(self, exc: LeadloopError) -> None:
        self.add_error(None, exc.detail)


def _one_line(value: str) -> str:
    return " ".join(str(value).splitlines())


# --- Field mapping -------------------------------------------------------------------------------


@dataclass
class Row:
    """One editable row of a mapping section: a key (label or target) and its setting."""

    key: str = ""
    value: str = ""
    errors: list[str] = field(default_factory=list)


# section → (POST name of the key, POST name of the value)
SECTIONS = {
    "fields": ("field_label", "field_target"),
    "transforms": ("transform_target", "transform_how"),
    "value_maps": ("vmap_target", "vmap_lines"),
    "constants": ("const_target", "const_value"),
}
BLANK_ROWS = {"fields": 2, "transforms": 1, "value_maps": 1, "constants": 1}


class MappingForm:
    """A source's field mapping as four sections of rows, read from and written to its JSON."""

    def __init__(
        self, data: QueryDict | None = None, *, initial: dict[str, Any] | None = None
    ) -> None:
        self.is_bound = data is not None
        self.errors: list[str] = []
        self.rows: dict[str, list[Row]] = {}
        if data is not None:
            for section, (key_name, value_name) in SECTIONS.items():
                keys, values = data.getlist(key_name), data.getlist(value_name)
                self.rows[section] = [
                    Row(k.strip(), v.strip() if section != "value_maps" else v)
                    for k, v in zip(keys, values, strict=False)
                    if k.strip() or v.strip()
                ][:MAX_ROWS]
        else:
            mapping = initial or {}
            self.rows["fields"] = [Row(k, str(v)) for k, v in (mapping.get("fields") or {}).items()]
            self.rows["transforms"] = [
                Row(k, str(v)) for k, v in (mapping.get("transforms") or {}).items()
            ]
            self.rows["value_maps"] = [
                Row(k, "\n".join(f"{a}={b}" for a, b in table.items()))
                for k, table in (mapping.get("value_maps") or {}).items()
                if isinstance(table, dict)
            ]
            self.rows["constants"] = [
                Row(k, str(v)) for k, v in (mapping.get("constants") or {}).items()
            ]
        self.mapping: dict[str, Any] = {}
        self._checked = False

    def sections_with_blanks(self) -> dict[str, list[Row]]:
        """The rows to show: the filled ones and a few blank ones to add more (works without JS)."""
        return {s: [*rows, *(Row() for _ in range(BLANK_ROWS[s]))] for s, rows in self.rows.items()}

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(r.errors for rows in self.rows.values() for r in rows)

    def is_valid(self) -> bool:
        """Build the mapping document; row problems are put next to their rows."""
        if self._checked:
            return not self.has_errors
        self._checked = True
        mapping: dict[str, Any] = {s: {} for s in SECTIONS}
        for section, rows in self.rows.items():
            for row in rows:
                if not row.key:
                    row.errors.append(gettext("Fill in the name on the left."))
                    continue
                if not row.value.strip() and section != "constants":
                    row.errors.append(gettext("Fill in the setting on the right."))
                    continue
                if row.key in mapping[section]:
                    row.errors.append(gettext("“%(name)s” is set twice.") % {"name": row.key})
                    continue
                if section == "value_maps":
                    table = self._value_map(row)
                    if table is not None:
                        mapping[section][row.key] = table
                else:
                    mapping[section][row.key] = row.value
        self.mapping = mapping
        # The mapping's own rules (known targets, transforms), next to the rows they are about.
        self.apply_errors(validate_mapping(mapping))
        return not self.has_errors

    @staticmethod
    def _value_map(row: Row) -> dict[str, str] | None:
        table: dict[str, str] = {}
        for number, line in enumerate(row.value.splitlines(), 1):
            if not line.strip():
                continue
            incoming, equals, outgoing = line.partition("=")
            if not equals:
                row.errors.append(gettext("Line %(n)d is not “incoming=outgoing”.") % {"n": number})
                continue
            table[incoming.strip()] = outgoing.strip()
        return None if row.errors else table

    def problems(self) -> list[str]:
        """Every problem as one line ("Naam klant: Unknown target …"), for the preview panel."""
        lines = list(self.errors)
        for rows in self.rows.values():
            for row in rows:
                lines.extend(f"{row.key or '—'}: {message}" for message in row.errors)
        return lines

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        """Put validation errors ("fields.<label>", "constants.<target>", …) next to their rows."""
        for key, messages in errors.items():
            section, _dot, name = key.partition(".")
            row = next((r for r in self.rows.get(section, []) if r.key == name), None)
            if row is None:
                self.errors.extend(f"{key}: {m}" for m in messages)
            else:
                row.errors.extend(messages)

    def apply_service_error(self, exc: LeadloopError) -> None:
        if isinstance(exc, ValidationFailed) and exc.errors:
            self.apply_errors(exc.errors)
        else:
            self.errors.append(exc.detail)
