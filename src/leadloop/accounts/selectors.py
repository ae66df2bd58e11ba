"""Reads about users, and the one rule for which leads an actor may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import PartnerOrganization, Role, Team, User

NOTHING = Q(pk__in=[])


def lead_visibility(actor: Actor) -> Q:
    """Which leads `actor` may see and change, as a filter on Lead.

    Reps: their own leads and their team's unassigned pool. Managers: their teams' leads and their
    own. Marketing and admins: all. Partner users: only leads routed to their organisation.
    A source key sees nothing (it may only submit).
    """
    if isinstance(actor, SystemActor):
        return Q()
    if isinstance(actor, SourceActor) or not actor.is_active:
        return NOTHING
    role = actor.role
    if role in (Role.ADMIN, Role.MARKETING):
        return Q()
    if role == Role.SALES_MANAGER:
        team_ids = list(actor.managed_teams.values_list("pk", flat=True))
        if actor.team_id:
            team_ids.append(actor.team_id)
        return Q(team_id__in=team_ids) | Q(assigned_to_id=actor.pk)
    if role == Role.SALES_REP:
        mine = Q(assigned_to_id=actor.pk)
        if actor.team_id:
            return mine | Q(team_id=actor.team_id, assigned_to__isnull=True)
        return mine
    if role == Role.PARTNER and actor.partner_id:
        return Q(owner_partner_id=actor.partner_id)
    return NOTHING


def can_see_all_leads(actor: Actor) -> bool:
    """Marketing and admins see the whole database (no ownership filter needed)."""
    return isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.role in (Role.ADMIN, Role.MARKETING)
    )


def is_staff_role(actor: Actor) -> bool:
    """Everyone but partner users and source keys works for the company itself."""
    return isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.role != Role.PARTNER
    )


def can_manage_configuration(actor: Actor) -> bool:
    """Sources, campaigns and mappings are set up by marketing and admins (and the operator CLI)."""
    return isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.role in (Role.ADMIN, Role.MARKETING)
    )


def list_assignable_users(actor: Actor) -> QuerySet[User]:
    """Users `actor` may assign a lead to: active sales staff (a rep only themselves)."""
    users = User.objects.filter(
        is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
    ).select_related("team")
    if isinstance(actor, SystemActor):
        return users
    if isinstance(actor, User) and actor.role == Role.SALES_REP:
        return users.filter(pk=actor.pk)
    if isinstance(actor, User) and actor.role == Role.SALES_MANAGER:
        teams = list(actor.managed_teams.values_list("pk", flat=True))
        return users.filter(Q(team_id__in=teams) | Q(pk=actor.pk))
    if isinstance(actor, User) and actor.role == Role.PARTNER:
        return users.none()
    return users.order_by("first_name", "last_name")


def can_route_to_partners(actor: Actor) -> bool:
    """Routing a lead to a channel partner is a decision for managers, marketing and admins."""
    return isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.role in (Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)
    )


def list_assignable_teams(actor: Actor) -> QuerySet[Team]:
    """Team pools `actor` may put a lead in: a rep their own, a manager the teams they run."""
    if isinstance(actor, SystemActor) or can_see_all_leads(actor):
        return Team.objects.all()
    if not isinstance(actor, User) or actor.role == Role.PARTNER:
        return Team.objects.none()
    own = Q(pk=actor.team_id) if actor.team_id else NOTHING
    if actor.role == Role.SALES_MANAGER:
        return Team.objects.filter(Q(manager=actor) | own)
    return Team.objects.filter(own)


def list_assignable_partners(actor: Actor) -> QuerySet[PartnerOrganization]:
    """Partner organisations `actor` may route leads to."""
    if not can_route_to_partners(actor):
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.filter(is_active=True)


def find_user_by_username(username: str) -> User | None:
    """The user who logs in as `username`, if any (the login page's audit of a failed try)."""
    if not username or len(username) > 150:
        return None
    return User.objects.filter(username=username).first()


def list_teams(actor: Actor) -> QuerySet[Team]:
    """Teams `actor` may filter on."""
    if not is_staff_role(actor):
        return Team.objects.none()
    return Team.objects.all()
