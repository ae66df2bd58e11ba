"""Small presentational helpers shared by every page: badges, empty values, navigation."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.selectors import can_manage_configuration, is_staff_role
from leadloop.core import navigation
from leadloop.core.labels import decimal
from leadloop.intake.outcome import reason_text as outcome_reason_text
from leadloop.leads.models import Lead, LeadStatus

register = template.Library()


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    icon: str
    active: bool
    badge: int = 0
    badge_label: str = ""

    @property
    def badge_text(self) -> str:
        """The count as the menu shows it: "1,000+" past the cap a badge counts to."""
        if self.badge > navigation.BADGE_CAP:
            return number_format(navigation.BADGE_CAP, force_grouping=True) + "+"
        return number_format(self.badge, force_grouping=True)


@register.simple_tag(takes_context=True)
def nav_items(context: dict[str, Any]) -> list[NavItem]:
    """The navigation entries the current user may see (each app registers its own in
    `AppConfig.ready()`, see `leadloop.core.navigation`), the current section marked active."""
    request: HttpRequest = context["request"]
    user = request.user
    visible = [entry for entry in navigation.entries() if entry.visible(user)]
    # The longest matching prefix wins: /intake/imports/ is Imports, not Intake as well.
    prefixes = (entry.prefix for entry in visible if request.path.startswith(entry.prefix))
    active = max(prefixes, key=len, default="")
    return [
        NavItem(
            str(entry.label),
            reverse(entry.url_name),
            entry.icon,
            entry.prefix == active,
            entry.count_for(user),
            str(entry.badge_label),
        )
        for entry in visible
    ]


@register.filter
def can_configure(user: Any) -> bool:
    return can_manage_configuration(user)


@register.filter
def is_staff_user(user: Any) -> bool:
    return is_staff_role(user)


@register.simple_tag
def status_badge(status: str) -> str:
    """A coloured pill with the translated status label."""
    try:
        label = str(LeadStatus(status).label)
    except ValueError:
        label = status
    return format_html('<span class="badge badge--{}">{}</span>', status, label)


@register.simple_tag
def grade_badge(grade: str) -> str:
    """The fit grade A–D as a small square; an em dash when not graded."""
    if not grade:
        return format_html('<span class="muted" title="{}">—</span>', _("Not graded"))
    return format_html(
        '<span class="grade grade--{}" title="{}">{}</span>', grade.lower(), _("Fit grade"), grade
    )


@register.filter
def or_dash(value: Any) -> Any:
    """The value, or an em dash for an empty one (0 and False are values)."""
    if value is None or value == "":
        return "—"
    return value


@register.filter
def pretty_json(value: Any) -> str:
    """A JSON value as readable text (escaped by the template like any other string)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@register.filter
def initial(value: Any) -> str:
    text = str(value or "").strip()
    return text[:1].upper() if text else "?"


UTM_LABELS = {
    "utm_source": _("UTM source"),
    "utm_medium": _("UTM medium"),
    "utm_campaign": _("UTM campaign"),
    "utm_term": _("UTM term"),
    "utm_content": _("UTM content"),
    "phone_raw": _("Phone"),
    "organization_id": _("Organisation"),
    "campaign_id": _("Campaign"),
}


@register.filter
def lead_field_label(name: str) -> str:
    """The translated label of a lead field named in a timeline entry."""
    if name in UTM_LABELS:
        return str(UTM_LABELS[name])
    try:
        field = Lead._meta.get_field(name)
        return capfirst(str(getattr(field, "verbose_name", name)))
    except FieldDoesNotExist:
        return name


@register.filter
def change_value(value: Any) -> str:
    """An old or new value in a field change, as short text."""
    if value is None or value == "" or value == {}:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def reason_text(found: Any) -> str:
    """An intake reason's message in the reader's language (see intake.outcome.reason_text)."""
    return outcome_reason_text(found) if isinstance(found, dict) else str(found)


@register.simple_tag
def money(amount: Decimal | None, currency: str = "") -> str:
    """An amount with two decimals in the current language's notation, and its currency."""
    if amount is None:
        return "—"
    return f"{currency} {number_format(amount, 2, use_l10n=True, force_grouping=True)}".strip()


@register.simple_tag
def model_field(obj: Any, name: str, label: str = "") -> str:
    """One label/value row of a detail card; choices show their label, times the user's zone.
    Nothing at all for a field the reader is not shown (a partner's list, `lead.shown`)."""
    shown = getattr(obj, "shown", None)
    if shown is not None and name in shown.hidden_columns:
        return ""
    field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if getattr(field, "choices", None):
        text: Any = getattr(obj, f"get_{name}_display")() if value != "" else ""
    elif isinstance(value, dt.datetime):
        text = date_format(timezone.localtime(value), "j M Y, H:i")
    elif isinstance(value, Decimal):
        text = money(value, getattr(obj, "currency", ""))
    elif isinstance(value, bool):
        text = _("Yes") if value else _("No")
    elif isinstance(value, float):
        text = decimal(value, 3)
    else:
        text = "" if value is None else value
    if text == "" or text == "—":
        return format_html(
            '<div class="kv"><dt>{}</dt><dd class="muted">—</dd></div>',
            label or capfirst(str(field.verbose_name)),
        )
    return format_html(
        '<div class="kv"><dt>{}</dt><dd>{}</dd></div>',
        label or capfirst(str(field.verbose_name)),
        text,
    )
