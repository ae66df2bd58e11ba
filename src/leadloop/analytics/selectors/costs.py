"""The costs marketing entered, newest first, for the costs page."""

from __future__ import annotations

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.leads.models import CostEntry

RECENT = 50


def list_recent_costs(actor: Actor, *, limit: int = RECENT) -> list[CostEntry]:
    require(actor, Permission.SEE_SOURCE_ROI)
    return list(
        CostEntry.objects.select_related("campaign__source").order_by("-incurred_on", "-pk")[:limit]
    )
