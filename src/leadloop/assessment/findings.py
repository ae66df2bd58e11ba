"""A finding: one thing a stage noticed about a lead, with the points it is worth and why.

Findings are stored on the lead (`Lead.assessment["findings"]`) as plain dicts and shown on the
lead page, so every score, hold and rejection explains itself. The message is rendered when the
finding is made (in English, the pipeline's language) and again in the reader's language from
`code` and `data` when a template for the code is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext


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


def render(found: dict[str, Any]) -> str:
    """The finding's message in the active language (falls back to the stored message)."""
    data = found.get("data") or {}
    template = data.get("_t")
    if not isinstance(template, str):
        return str(found.get("message", ""))
    return _fill(gettext(template), data)
