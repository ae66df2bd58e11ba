"""Reads for the start page: what needs the viewer today, each scoped through lead_visibility.

Every query here names an indexed column next to the visibility filter and every count stops at
HOME_CAP, so the page stays as fast at a million leads as at a thousand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.selectors import lead_visibility, lead_visibility_within
from leadloop.leads.lifecycle import CLOSED, OWNED
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.selectors.fields import fields_shown_to, hide_fields

# A start page says "100+"; the exact number lives on the lead list.
HOME_CAP = 100
HOME_LIST = 8


@dataclass(frozen=True)
class Capped:
    """A count that stopped at `HOME_CAP`: `more` says the real number is larger."""

    value: int
    more: bool


@dataclass(frozen=True)
class SourceIntake:
    source_id: int
    name: str
    count: int


def _capped(qs: QuerySet[Lead]) -> Capped:
    total = qs.order_by().values("pk")[: HOME_CAP + 1].count()
    return Capped(min(total, HOME_CAP), total > HOME_CAP)


def end_of_today(now: dt.datetime) -> dt.datetime:
    """Midnight after `now` in the active time zone: "due today" includes this evening."""
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start + dt.timedelta(days=1)


def start_of_today(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def list_my_follow_ups_due(actor: User, *, now: dt.datetime) -> list[Lead]:
    """The viewer's own open leads whose next follow-up is due today or overdue, oldest first
    (index `lead_follow_up_owner`)."""
    return list(
        Lead.objects.filter(lead_visibility(actor))
        .filter(
            assigned_to_id=actor.pk,
            next_follow_up_at__lt=end_of_today(now),
            status__in=OWNED,
            merged_into__isnull=True,
        )
        .select_related("source")
        .order_by("next_follow_up_at", "id")[:HOME_LIST]
    )


def list_my_new_leads(actor: User) -> list[Lead]:
    """Leads assigned to the viewer and not contacted yet, newest first (index
    `lead_owner_created`)."""
    return list(
        Lead.objects.filter(lead_visibility(actor))
        .filter(assigned_to_id=actor.pk, status=LeadStatus.ASSIGNED, merged_into__isnull=True)
        .select_related("source")
        .order_by("-created_at", "-id")[:HOME_LIST]
    )


def count_unassigned(actor: Actor) -> Capped:
    """Open leads in the viewer's pools that nobody owns yet (index `lead_team_created`)."""
    pool = Q(assigned_to__isnull=True, team__isnull=False, merged_into__isnull=True)
    qs = Lead.objects.filter(lead_visibility_within(actor, pool)).exclude(status__in=CLOSED)
    return _capped(qs)


def count_overdue(actor: Actor, *, now: dt.datetime) -> Capped:
    """Owned leads the viewer may see whose follow-up time has passed (partial indexes
    `lead_follow_up_owner` and `lead_follow_up_team`)."""
    late = Q(next_follow_up_at__lt=now, status__in=OWNED)
    return _capped(Lead.objects.filter(lead_visibility_within(actor, late)))


def list_intake_today(actor: Actor, *, now: dt.datetime) -> list[SourceIntake]:
    """Leads created since midnight, per source, most first (index on `created_at`)."""
    rows = (
        Lead.objects.filter(lead_visibility(actor))
        .filter(created_at__gte=start_of_today(now), merged_into__isnull=True)
        .order_by()
        .values("source_id", "source__name")
        .annotate(n=Count("id"))
    )
    found = [SourceIntake(r["source_id"], r["source__name"], r["n"]) for r in rows]
    return sorted(found, key=lambda row: (-row.count, row.name))


def list_recent_leads(actor: Actor) -> list[Lead]:
    """The newest leads the viewer may see (a partner: its own, with what its list hides
    left blank), newest first."""
    leads = list(
        Lead.objects.filter(lead_visibility(actor))
        .filter(merged_into__isnull=True)
        .select_related("source")
        .order_by("-created_at", "-id")[:HOME_LIST]
    )
    hide_fields(leads, fields_shown_to(actor))
    return leads


def count_open(actor: Actor) -> Capped:
    """The viewer's visible leads that are not closed."""
    qs = Lead.objects.filter(lead_visibility(actor)).filter(merged_into__isnull=True)
    return _capped(qs.exclude(status__in=CLOSED))
