"""Changing the KPI norms marketing and sales agreed on (one row, audited)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.analytics.models import KpiNorms
from leadloop.analytics.selectors.norms import get_norms
from leadloop.errors import ValidationFailed
from leadloop.leads import services as lead_services

PERCENTS = ("followed_up_min", "overdue_max", "quoted_min", "won_min")
FIELDS = (*PERCENTS, "order_value_min", "first_contact_hours_max", "currency")


@transaction.atomic
def update_norms(*, by: Actor, **changes: Any) -> KpiNorms:
    """Set some of the norms; the others keep their values."""
    require(by, Permission.SET_KPI_NORMS)
    norms = get_norms()
    norms = KpiNorms.objects.select_for_update().get(pk=norms.pk)
    errors: dict[str, list[str]] = {}
    for name, value in changes.items():
        if name not in FIELDS:
            errors[name] = [_("Unknown norm.")]
        elif value is None:
            errors[name] = [_("Required.")]
        elif name in PERCENTS and not 0 <= int(value) <= 100:
            errors[name] = [_("A percentage from 0 to 100.")]
        elif name == "order_value_min" and Decimal(value) < 0:
            errors[name] = [_("Cannot be negative.")]
        elif name == "first_contact_hours_max" and not 0 < int(value) <= 1000:
            errors[name] = [_("From 1 to 1000 hours.")]
        elif name == "currency" and not (len(str(value)) == 3 and str(value).isalpha()):
            errors[name] = [_("A three-letter currency code, such as EUR.")]
        else:
            setattr(norms, name, str(value).upper() if name == "currency" else value)
    if errors:
        raise ValidationFailed(_("The norms are not valid."), errors=errors)
    norms.updated_at = timezone.now()
    norms.updated_by = lead_services.actor_label(by)
    norms.save()
    return norms
