"""What processing a submission comes to, decided before anything is written.

`intake.services.decide(submission)` returns one of these values with no lock held; one
`intake.services.apply(submission, outcome)` writes it in a short transaction. The batch import
shares the rule that keeps a lead whose one value is bad (`clean_keeping_lead`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils.translation import gettext

from leadloop.core.labels import match_reasons
from leadloop.errors import ValidationFailed

if TYPE_CHECKING:
    from leadloop.accounts.actors import Actor
    from leadloop.assessment.context import Context

# {"code", "message", "field"?, "t"?, "p"?}: "t" is the English message id and "p" its
# parameters, kept so that `reason_text` shows the reason in the reader's language.
Reason = dict[str, Any]
T = TypeVar("T")


def reason(code: str, message: str, field: str = "", **params: Any) -> Reason:
    """One reason on a submission or an import row: a code, a message, maybe the field.

    With `params` (or a message without placeholders marked with gettext_noop), `message` is an
    English message id: it is stored filled in the active language and kept with its parameters,
    so each reader sees it in their own language (`reason_text`).
    """
    shown = _fill(gettext(message), params)
    found: Reason = {"code": code, "message": shown}
    if params or shown != message:
        found["t"] = message
    if params:
        found["p"] = params
    if field:
        found["field"] = field
    return found


def reason_text(found: Mapping[str, Any]) -> str:
    """The reason's message in the active language.

    A reason stored with its message id is filled again; an older one (only a message) is
    looked up as a message id, which translates the English ones the pipeline stored.
    """
    template = found.get("t")
    stored = found.get("p")
    params: dict[str, Any] = stored if isinstance(stored, dict) else {}
    if isinstance(template, str) and template:
        if isinstance(params.get("why"), str):  # the duplicate matcher's reasons
            params = {**params, "why": match_reasons(params["why"])}
        return _fill(gettext(template), params)
    message = str(found.get("message", ""))
    return gettext(message) if message else message


def _fill(text: str, params: Mapping[str, Any]) -> str:
    if not params:
        return text
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        return text


@dataclass(frozen=True)
class Quarantined:
    """The payload could not be read or mapped: kept for a person to fix and reprocess."""

    reasons: list[Reason]


@dataclass(frozen=True)
class HeldForReview:
    """Refused by the rules (a bad value, too little contact), but from a sender that never sends
    again: kept in quarantine for a person to correct and reprocess, with the values as sent."""

    reasons: list[Reason]


@dataclass(frozen=True)
class Rejected:
    """Read, but refused (no contact, invalid, fraud): the sender hears the reasons."""

    reasons: list[Reason]


@dataclass(frozen=True)
class Repeated:
    """The same lead was submitted before (same reference, or the same bytes lately)."""

    lead_id: int | None
    reasons: list[Reason]


@dataclass(frozen=True)
class FannedOut:
    """Many records in one payload: one child submission (and lead) each."""

    records: list[dict[str, str]]


@dataclass(frozen=True)
class Created:
    """A new lead, assessed and not yet saved (`verdict.lead`)."""

    verdict: Context
    by: Actor
    warnings: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class Merged:
    """The same person as an existing lead (`verdict.duplicate`): folded into its timeline."""

    verdict: Context
    by: Actor
    warnings: list[Reason] = field(default_factory=list)


Outcome = Quarantined | HeldForReview | Rejected | Repeated | FannedOut | Created | Merged


def clean_keeping_lead(
    data: Mapping[str, Any],
    clean: Callable[[dict[str, Any]], T],
    *,
    has_contact: Callable[[Mapping[str, Any]], bool] | None = None,
) -> tuple[T | None, list[Reason]]:
    """Clean `data`; a bad value must not cost the lead.

    When `clean` raises ValidationFailed for some fields, those values are set aside in
    `extra` ("invalid.<field>") and the rest is cleaned again, as long as what is left still
    meets `has_contact` (the source's minimum contact; default: an e-mail or a phone). Returns
    (cleaned, set-aside warnings), or (None, every reason) when the lead is refused.
    """
    if has_contact is None:
        has_contact = _email_or_phone
    current = dict(data)
    warnings: list[Reason] = []
    for attempt in range(2):
        try:
            return clean(current), warnings
        except ValidationFailed as exc:
            problems = [
                reason("invalid", message, name)
                for name, messages in exc.errors.items()
                for message in messages
            ] or [reason("invalid", exc.detail)]
            kept = {k: v for k, v in current.items() if k not in exc.errors}
            if not exc.errors or attempt or not has_contact(kept):
                return None, warnings + problems
            extra = dict(kept.get("extra") or {})
            for name in exc.errors:
                if name in current:
                    extra[f"invalid.{name}"] = str(current[name])
            current = {**kept, "extra": extra}
            warnings = [{**p, "code": "set_aside"} for p in problems]
    raise AssertionError("unreachable")  # pragma: no cover


def _email_or_phone(data: Mapping[str, Any]) -> bool:
    return bool(data.get("email") or data.get("phone"))
