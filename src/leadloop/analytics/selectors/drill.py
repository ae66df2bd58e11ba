"""The leads behind a number: the facts filtered as the report counted them, as leads the
viewer may open (a page at a time)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can
from leadloop.analytics.models import LeadFact
from leadloop.analytics.selectors.kpis import DAY_MINUTES, overdue
from leadloop.analytics.selectors.periods import Period
from leadloop.analytics.selectors.scope import fact_scope
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.models import Lead
from leadloop.leads.selectors import fields_shown_to, lead_label_for

PAGE = 100
# step → the condition a fact meets to be counted in it.
STEPS: dict[str, Q] = {
    "received": Q(),
    "duplicates": Q(is_duplicate=True),
    "valid": Q(is_duplicate=False),
    "sales_ready": Q(is_duplicate=False, sales_ready_at__isnull=False),
    "contacted": Q(is_duplicate=False, contacted_at__isnull=False),
    "quoted": Q(is_duplicate=False, quoted_at__isnull=False),
    "won": Q(is_duplicate=False, won_at__isnull=False),
    "within_24h": Q(first_contact_minutes__lte=DAY_MINUTES),
    "later": Q(first_contact_minutes__gt=DAY_MINUTES),
    "never": Q(contacted_at__isnull=True),
}
FILTERS = {
    "source": "source_id",
    "campaign": "campaign_id",
    "rep": "assigned_to_id",
    "team": "team_id",
    "partner": "owner_partner_id",
}


@dataclass(frozen=True)
class DrillPage:
    leads: list[Lead]
    total: int
    page: int
    pages: int


def leads_behind(
    actor: Actor,
    period: Period,
    *,
    step: str,
    basis: str = "received",
    now: dt.datetime,
    page: int = 1,
    **filters: int | None,
) -> DrillPage:
    """The leads counted in `step` of a report over `period`: by the day they were received
    (the source report) or handed to sales (`basis="sales_ready"`, the KPIs). Filters name a
    source, campaign, rep, team or partner id (0: those without one)."""
    if step == "overdue":
        condition = Q(is_duplicate=False) & overdue(now)
    elif step in STEPS:
        condition = STEPS[step]
    else:
        raise ValidationFailed(_("Unknown step."), errors={"step": [_("Unknown step.")]})
    if basis == "received":
        if not can(actor, Permission.SEE_SOURCE_ROI) and not can(actor, Permission.SEE_SALES_KPIS):
            raise NotAllowed(_("Your role has no sales figures."))
        when = Q(received_at__gte=period.start_at, received_at__lt=period.end_at)
    elif basis == "sales_ready":
        when = Q(
            is_duplicate=False,
            sales_ready_at__gte=period.start_at,
            sales_ready_at__lt=period.end_at,
        )
    else:
        raise ValidationFailed(_("Unknown basis."), errors={"basis": [_("Unknown basis.")]})
    facts = LeadFact.objects.filter(fact_scope(actor), when, condition)
    for name, value in filters.items():
        if value is None:
            continue
        column = FILTERS.get(name)
        if column is None:
            raise ValidationFailed(_("Unknown filter."), errors={name: [_("Unknown filter.")]})
        facts = facts.filter(**({f"{column}__isnull": True} if value == 0 else {column: value}))
    total = facts.count()
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 1), pages)
    ids = list(
        facts.order_by("-received_at", "-lead_id").values_list("lead_id", flat=True)[
            (page - 1) * PAGE : page * PAGE
        ]
    )
    by_id: dict[int, Any] = {
        lead.pk: lead
        for lead in Lead.objects.filter(pk__in=ids).select_related("source", "assigned_to")
    }
    return DrillPage(
        leads=[by_id[i] for i in ids if i in by_id], total=total, page=page, pages=pages
    )


def shown(actor: Actor, lead: Lead) -> tuple[str, str]:
    """The lead's name and source as `actor` may see them (a partner may be shown fewer
    fields: its number instead of the name, no source)."""
    view = fields_shown_to(actor)
    return lead_label_for(lead, view), lead.source.name if view.shows("source") else ""
