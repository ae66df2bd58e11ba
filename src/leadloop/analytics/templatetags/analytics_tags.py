"""Figures as the reports show them, in the reader's language: ratios as percentages, money with
its currency and the amounts kept apart in other currencies, "—" for what cannot be computed,
a KPI's good or bad mark, and the change against the period before."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()
DASH = "—"


@register.filter
def pct(value: Decimal | None) -> str:
    """0.7512 → "75.1%" ("75,1%" in Dutch); None → "—"."""
    if value is None:
        return DASH
    return f"{number_format(Decimal(value) * 100, 1, use_l10n=True)}%"


@register.filter
def figure(value: Any, places: int = 0) -> str:
    """A count or an amount in the reader's notation, with grouping; None → "—"."""
    if value is None:
        return DASH
    return number_format(value, places, use_l10n=True, force_grouping=True)


@register.simple_tag
def amount(value: Decimal | None, currency: str, other: dict[str, str] | None = None) -> SafeString:
    """Money in the reporting currency, and below it what is in other currencies (never added)."""
    shown = DASH if value is None else f"{currency} {figure(value, 2)}"
    if not other:
        return format_html("{}", shown)
    extra = format_html_join(
        " ",
        '<span class="fig-other">+ {} {}</span>',
        ((c, figure(Decimal(a), 2)) for c, a in other.items()),
    )
    return format_html("{}<br>{}", shown, extra)


@register.simple_tag
def kpi_mark(kpi: dict[str, Any]) -> SafeString:
    """✓ meets the norm, ✗ misses it, nothing when there is nothing to measure; with words for
    screen readers."""
    meets = kpi.get("meets")
    if meets is None:
        return format_html('<span class="visually-hidden">{}</span>', _("no norm to compare"))
    if meets:
        return format_html(
            '<span class="kpi-mark kpi-mark--good" aria-hidden="true">✓</span>'
            '<span class="visually-hidden">{}</span>',
            _("meets the norm"),
        )
    return format_html(
        '<span class="kpi-mark kpi-mark--bad" aria-hidden="true">✗</span>'
        '<span class="visually-hidden">{}</span>',
        _("misses the norm"),
    )


@register.simple_tag
def kpi_value(name: str, kpi: dict[str, Any], currency: str = "") -> str:
    value = kpi.get("value")
    if name == "order_value":
        return DASH if value is None else f"{currency} {figure(value, 0)}"
    if name == "hours_to_contact":
        return DASH if value is None else f"{figure(value, 1)} h"
    return pct(value)


@register.simple_tag
def kpi_norm(name: str, kpi: dict[str, Any], currency: str = "") -> str:
    norm = kpi["norm"]
    if name == "order_value":
        return f"≥ {currency} {figure(norm, 0)}"
    if name == "hours_to_contact":
        return f"≤ {figure(norm, 0)} h"
    return f"{'≤' if name == 'overdue' else '≥'} {pct(norm)}"


@register.simple_tag
def change(now: Any, before: Any, *, ratio: bool = False) -> SafeString:
    """Against the period before: "+12" / "−3.5 pt" / "" when either side is unknown."""
    if now is None or before is None:
        return SafeString("")
    delta = Decimal(now) - Decimal(before)
    if ratio:
        text = f"{number_format(delta * 100, 1, use_l10n=True)} pt"
    else:
        text = number_format(delta, 0, use_l10n=True, force_grouping=True)
    sign = "+" if delta > 0 else ""
    return format_html(
        '<span class="fig-change" title="{}">{}{}</span>',
        _("against the period before"),
        sign,
        text,
    )


@register.filter
def kpi_label(name: str) -> str:
    """A KPI's name in the reader's language ("followed_up" → "Followed up")."""
    from leadloop.analytics.selectors.kpis import LABELS

    return str(LABELS.get(name, name))
