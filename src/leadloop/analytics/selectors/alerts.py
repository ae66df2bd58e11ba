"""The alert rules a viewer may see, each with the subjects breaching it now: marketing and
admins every rule; a sales manager the team rules and the rules that tell them; nobody else."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, Team, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.analytics.models import AlertKind, AlertRule, AlertState
from leadloop.errors import NotFound, ValidationFailed

MAX_ID = 2**63


def can_manage_alerts(actor: Actor) -> bool:
    return can(actor, Permission.SET_KPI_NORMS)


def list_rules_for(actor: Actor) -> QuerySet[AlertRule]:
    require(actor, Permission.SET_KPI_NORMS)
    rules = AlertRule.objects.select_related("owner", "source", "team").prefetch_related(
        Prefetch(
            "states",
            queryset=AlertState.objects.filter(breached_at__isnull=False).order_by("subject_name"),
            to_attr="breaching",
        )
    )
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_SOURCE_ROI):
        return rules
    return rules.filter(Q(kind=AlertKind.OVERDUE_ABOVE) | Q(owner_id=actor.pk))  # type: ignore[union-attr]


def get_rule_for(actor: Actor, rule_id: int) -> AlertRule:
    found = list_rules_for(actor).filter(pk=rule_id).first() if 0 < rule_id < MAX_ID else None
    if found is None:
        raise NotFound(_("No such alert."))
    return found


def list_owner_choices(actor: Actor) -> QuerySet[User]:
    """Who an alert may tell: active marketing users, admins and sales managers."""
    require(actor, Permission.SET_KPI_NORMS)
    return User.objects.filter(
        is_active=True, role__in=[Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER]
    ).order_by("username")


def get_owner_choice(actor: Actor, user_id: int) -> User:
    found = list_owner_choices(actor).filter(pk=user_id).first() if 0 < user_id < MAX_ID else None
    if found is None:
        raise ValidationFailed(
            _("Choose who is told."), errors={"owner_id": [_("Not a user an alert can tell.")]}
        )
    return found


def list_team_choices(actor: Actor) -> QuerySet[Team]:
    """Teams an overdue alert may watch: every team for marketing and admins, a sales
    manager's own and managed ones."""
    require(actor, Permission.SET_KPI_NORMS)
    teams = Team.objects.order_by("name")
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_ALL_LEADS):
        return teams
    if isinstance(actor, User):
        return teams.filter(Q(manager=actor) | Q(pk=actor.team_id or 0))
    return teams.none()


def get_team_choice(actor: Actor, team_id: int) -> Team:
    found = list_team_choices(actor).filter(pk=team_id).first() if 0 < team_id < MAX_ID else None
    if found is None:
        raise ValidationFailed(_("Choose a team."), errors={"team_id": [_("No such team.")]})
    return found
