"""Validate and normalise lead input before it reaches the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import ValidationFailed
from leadloop.leads import selectors
from leadloop.leads.models import (
    BantAnswer,
    FitGrade,
    Lead,
)
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_country,
    normalize_email,
    normalize_phone,
)

# Plain text fields a person or a sender may set, with the model's length limits.
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "job_title",
    "language",
    "company_name",
    "consent_purpose",
    "consent_text_version",
    "external_ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
)
CHOICE_FIELDS = {
    "fit_grade": FitGrade.values,
    "bant_budget": BantAnswer.values,
    "bant_authority": BantAnswer.values,
    "bant_need": BantAnswer.values,
    "bant_timeframe": BantAnswer.values,
}
_BANT_WORDS = {
    word: answer
    for answer, words in (
        (BantAnswer.MET, ("yes", "y", "ja", "j", "true", "1", "met", "oui", "si")),
        (BantAnswer.NOT_MET, ("no", "n", "nee", "false", "0", "not met", "non")),
    )
    for word in words
}
MONEY_FIELDS = ("potential_revenue", "order_value")
DATETIME_FIELDS = ("consent_at", "next_follow_up_at")
# Every input name `clean_lead_input` accepts. `phone` fills phone_raw and phone_e164.
INPUT_FIELDS = frozenset((*TEXT_FIELDS, *CHOICE_FIELDS, *MONEY_FIELDS, *DATETIME_FIELDS)) | {
    "phone",
    "probability",
    "currency",
    "organization_id",
    "campaign_id",
    "extra",
}


def _max_length(field: str) -> int | None:
    return Lead._meta.get_field(field).max_length  # type: ignore[union-attr]


def clean_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise InvalidValue(_("Expected text."))
    if "\x00" in value:
        raise InvalidValue(_("Contains a NUL character, which cannot be stored."))
    return value.strip()


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ".") if isinstance(value, str) else str(value))
    except InvalidOperation as exc:
        raise InvalidValue(_("Expected an amount like 1250.00.")) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise InvalidValue(_("Expected an amount between 0 and 999,999,999,999."))
    return amount.quantize(Decimal("0.01"))


def _datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise InvalidValue(_("Expected a date and time like 2026-05-01T09:30:00+02:00."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def clean_lead_input(
    data: Mapping[str, Any], *, default_region: str, by: Actor = SYSTEM
) -> dict[str, Any]:
    """Validate and normalise lead input into model values; ValidationFailed lists every bad field.

    Unknown names are an error, not silently dropped, so a sender learns about a typo at once.
    An organisation or campaign id must be one `by` may link to; one it cannot see gets the same
    answer as one that does not exist.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    unknown = sorted(set(data) - INPUT_FIELDS)
    for name in unknown:
        errors.setdefault(name, []).append(_("Unknown field."))

    def attempt(name: str, fn: Any) -> None:
        if name not in data:
            return
        try:
            values.update(fn(data[name]))
        except InvalidValue as exc:
            errors.setdefault(name, []).append(str(exc))

    for name in TEXT_FIELDS:

        def text_value(raw: Any, name: str = name) -> dict[str, Any]:
            text = clean_text(raw)
            limit = _max_length(name)
            if limit and len(text) > limit:
                raise InvalidValue(_("At most %(limit)d characters.") % {"limit": limit})
            return {name: text}

        attempt(name, text_value)
    attempt("email", lambda raw: {"email": normalize_email(clean_text(raw))})
    attempt("country", lambda raw: {"country": normalize_country(clean_text(raw))})
    region = values.get("country") or default_region or get_defaults().country

    def phone_value(raw: Any) -> dict[str, Any]:
        text = clean_text(raw)
        if len(text) > 64:
            raise InvalidValue(_("At most 64 characters."))
        return {"phone_raw": text, "phone_e164": normalize_phone(text, region=region)}

    attempt("phone", phone_value)
    for name, allowed in CHOICE_FIELDS.items():

        def choice_value(
            raw: Any, name: str = name, allowed: list[str] = allowed
        ) -> dict[str, Any]:
            text = clean_text(raw)
            if name.startswith("bant_"):
                # Forms and surveys answer yes/no (ja/nee); the lead stores met/not met.
                text = _BANT_WORDS.get(text.casefold(), text)
            if text not in allowed:
                choices = ", ".join(a or _("(empty)") for a in allowed)
                raise InvalidValue(_("Choose one of: %(choices)s.") % {"choices": choices})
            return {name: text}

        attempt(name, choice_value)
    for name in MONEY_FIELDS:
        attempt(name, lambda raw, name=name: {name: _decimal(raw)})
    for name in DATETIME_FIELDS:
        attempt(name, lambda raw, name=name: {name: _datetime(raw)})

    def probability_value(raw: Any) -> dict[str, Any]:
        if raw in (None, ""):
            return {"probability": None}
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidValue(_("Expected a whole percentage from 0 to 100.")) from exc
        if not 0 <= number <= 100:
            raise InvalidValue(_("Expected a whole percentage from 0 to 100."))
        return {"probability": number}

    attempt("probability", probability_value)

    def currency_value(raw: Any) -> dict[str, Any]:
        text = clean_text(raw).upper() or get_defaults().currency
        if len(text) != 3 or not text.isalpha():
            raise InvalidValue(_("Expected a three-letter currency code like EUR."))
        return {"currency": text}

    attempt("currency", currency_value)

    # The scoped querysets are built only when an id is given: imports clean every row here.
    def reference(field: str, linkable: Callable[[Actor], QuerySet[Any]], unknown: str) -> Any:
        def check(raw: Any) -> dict[str, Any]:
            if raw in (None, ""):
                return {field: None}
            if isinstance(raw, bool):
                raise InvalidValue(_("Expected an id."))
            try:
                pk = int(raw)
            except (TypeError, ValueError, OverflowError) as exc:
                raise InvalidValue(_("Expected an id.")) from exc
            if not -(2**63) <= pk < 2**63 or not linkable(by).filter(pk=pk).exists():
                raise InvalidValue(unknown)
            return {field: pk}

        return check

    attempt(
        "organization_id",
        reference(
            "organization_id", selectors.list_linkable_organizations, _("Unknown organisation.")
        ),
    )
    attempt(
        "campaign_id",
        reference("campaign_id", selectors.list_linkable_campaigns, _("Unknown campaign.")),
    )

    def extra_value(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {"extra": {}}
        if not isinstance(raw, dict):
            raise InvalidValue(_("Expected an object of extra fields."))
        return {"extra": raw}

    attempt("extra", extra_value)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return values
