"""A finding: one thing a stage noticed about a lead, with the points it is worth and why.

Findings are stored on the lead (`Lead.assessment["findings"]`) as plain dicts and shown on the
lead page, so every score, hold and rejection explains itself. The message is rendered when the
finding is made (in English, the pipeline's language) and again in the reader's language from
`code` and `data` when a template for the code is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language, gettext

from leadloop.core.labels import decimal, label, labels, match_reasons
from leadloop.leads.normalize import country_name


@dataclass(frozen=True)
class Finding:
    """`stage` ran and found `code`; `points` count towards the score that stage feeds."""

    stage: str
    code: str
    message: str
    points: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The stored form. The message is left out when its template is kept in `data`
        (`render` fills it again): it was a third of the lead's assessment document, and the
        document is written with every lead at intake."""
        found: dict[str, Any] = {"stage": self.stage, "code": self.code}
        if "_t" not in self.data:
            found["message"] = self.message
        if self.points:
            found["points"] = self.points
        if self.data:
            found["data"] = self.data
        return found


def finding(stage: str, code: str, template: str, points: int = 0, /, **data: Any) -> Finding:
    """A finding whose message is `template` (a message id marked with gettext_noop) filled
    with `data`; the template is kept so the page can show it again in the reader's language."""
    # Stored in English (gettext per finding cost more than a stage's own work); `render` shows
    # it in the reader's language from the kept template.
    return Finding(stage, code, _fill(template, data), points, {**data, "_t": template})


def _fill(text: str, data: dict[str, Any]) -> str:
    if "%(" not in text:
        return text
    try:
        return text % data
    except (KeyError, ValueError, TypeError):
        return text


# Message ids changed so that a number can be shown in the reader's notation: a finding stored
# with the old id is shown with the new one.
_RENAMED = {
    "possible duplicate of lead #%(lead_id)d (%(score).2f): %(reasons)s": (
        "possible duplicate of lead #%(lead_id)d (%(score)s): %(reasons)s"
    ),
    "looks like lead #%(lead_id)d (%(score).2f): %(reasons)s": (
        "looks like lead #%(lead_id)d (%(score)s): %(reasons)s"
    ),
}


def _country(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper():
        return country_name(value, (get_language() or "en").split("-")[0])
    return value


def _engagement_event(value: Any) -> Any:
    """An engagement event was stored by its English label: shown by its label in the reader's
    language."""
    from django.utils import translation

    from leadloop.assessment.models import EngagementEvent

    with translation.override("en"):
        by_english = {str(choice.label): choice for choice in EngagementEvent}
    choice = by_english.get(str(value))
    return str(choice.label) if choice is not None else value


# How a stored value is shown: stable English values and codes become words of the reader's
# language, numbers take its decimal notation.
_SHOWN: dict[str, Any] = {
    "line_type": lambda v: label("line_type", v),
    "kind": lambda v: label("line_type", v),
    "email_kind": lambda v: label("email_kind", v),
    "reasons": lambda v: match_reasons(v) if isinstance(v, str) else v,
    "score": lambda v: decimal(v) if isinstance(v, float) else v,
    "country": _country,
    "field": lambda v: label("grading_field", v),
    "event": _engagement_event,
    "operator": lambda v: label("operator", v),
}


def shown_data(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with each value as the reader should see it (see `_SHOWN`)."""
    shown = {key: _SHOWN[key](value) if key in _SHOWN else value for key, value in data.items()}
    if data.get("field") == "email kind" and isinstance(data.get("value"), str):
        shown["value"] = labels("email_kind", data["value"])
    region = data.get("region")
    if isinstance(region, str) and region and "country" in data:
        shown["country"] = _country(region)
    return shown


def render(found: dict[str, Any]) -> str:
    """The finding's message in the active language (falls back to the stored message)."""
    data = found.get("data") or {}
    template = data.get("_t")
    if not isinstance(template, str):
        return str(found.get("message", ""))
    template = _RENAMED.get(template, template)
    return _fill(gettext(template), shown_data(data))
