"""The privacy panel on the lead page: objections, the erasure tombstone, export and erase."""

from __future__ import annotations

from typing import Any

from django import template

from leadloop.leads.models import Lead
from leadloop.privacy import selectors
from leadloop.privacy.forms import ObjectionForm

register = template.Library()


@register.inclusion_tag("privacy/_lead_panel.html", takes_context=True)
def privacy_panel(context: dict[str, Any], lead: Lead) -> dict[str, Any]:
    user = context["request"].user
    return {
        "lead": lead,
        "form": ObjectionForm(),
        "can_object": selectors.can_record_objection(user),
        "can_export": selectors.can_export_person(user),
        "can_erase": selectors.can_erase_person(user),
        "csrf_token": context.get("csrf_token"),
    }
