"""Whose figures a viewer sees, as a filter on `LeadFact` (which names its scoping columns as
`Lead` does): marketing and admins every lead's; a sales manager their teams' and their own
(`lead_visibility`); a rep only the leads they own (not the team's unassigned pool); a partner
its organisation's. Agents and source keys see no figures."""

from __future__ import annotations

from django.db.models import Q

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.accounts.selectors import lead_visibility, manager_team_ids


def can_see_analytics(actor: Actor) -> bool:
    """The menu's "Analytics" entry."""
    return can(actor, Permission.SEE_SALES_KPIS)


def can_see_source_roi(actor: Actor) -> bool:
    return can(actor, Permission.SEE_SOURCE_ROI)


def fact_scope(actor: Actor) -> Q:
    """The facts `actor` may count (NotAllowed for a role that sees none)."""
    require(actor, Permission.SEE_SALES_KPIS)
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_ALL_LEADS):
        return Q()
    if not isinstance(actor, User) or not actor.is_active:
        return Q(pk__in=[])
    if actor.role == Role.SALES_REP:
        return Q(assigned_to_id=actor.pk)
    if actor.role == Role.PARTNER:
        return Q(owner_partner_id=actor.partner_id) if actor.partner_id else Q(pk__in=[])
    return lead_visibility(actor)


def manager_teams(actor: Actor) -> tuple[list[int], Q] | None:
    """For a sales manager, what `lead_visibility` lets them see, in two parts: the teams whose
    every lead they see (their day totals can be read), and a filter on the facts for the rest
    (their own leads in other teams, or in none). None for any other viewer."""
    if not isinstance(actor, User) or actor.role != Role.SALES_MANAGER or not actor.is_active:
        return None
    teams = manager_team_ids(actor)
    return teams, Q(assigned_to_id=actor.pk) & ~Q(team_id__in=teams)


def own_rep(actor: Actor) -> int | None:
    """A sales rep's id (their figures are those of the leads assigned to them); None for any
    other viewer."""
    if isinstance(actor, User) and actor.role == Role.SALES_REP and actor.is_active:
        return actor.pk
    return None
