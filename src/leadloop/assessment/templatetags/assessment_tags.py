"""The assessment panel on the lead page: findings per stage, device, readiness, the hold."""

from __future__ import annotations

from typing import Any

from django import template

from leadloop.accounts.selectors import is_staff_role
from leadloop.assessment.review.selectors import assessment_view
from leadloop.leads.models import Lead

register = template.Library()


@register.inclusion_tag("assessment/_panel.html", takes_context=True)
def assessment_panel(context: dict[str, Any], lead: Lead) -> dict[str, Any]:
    user = context["request"].user
    return {
        "lead": lead,
        "view": assessment_view(lead),
        "can_reassess": is_staff_role(user),
        "csrf_token": context.get("csrf_token"),
    }
