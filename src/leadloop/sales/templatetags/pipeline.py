"""Money on the pipeline board: whole units with the currency's sign, several currencies side
by side ("€ 12,000 + $ 3,000"), never added together."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.numbers import get_currency_symbol
from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language, to_locale

register = template.Library()


def _symbol(currency: str) -> str:
    try:
        locale = Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return str(get_currency_symbol(currency, locale=locale))


@register.simple_tag
def amount(value: Decimal | None, currency: str) -> str:
    """`value` in whole units with the currency's sign in the reader's language: "€ 12,000";
    an em dash for no value."""
    if value is None:
        return "—"
    whole = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{_symbol(currency)} {number_format(whole, 0, use_l10n=True, force_grouping=True)}"


@register.simple_tag
def amounts(totals: Iterable[Any]) -> str:
    """Sums per currency side by side, "€ 12,000 + $ 3,000"; an em dash when there are none."""
    parts = [amount(total.value, total.currency) for total in totals]
    return " + ".join(parts) if parts else "—"
