"""Reads about users, and the one rule for which leads an actor may see."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.defaults import Defaults as Defaults
from leadloop.accounts.defaults import get_defaults as get_defaults
from leadloop.accounts.lead_fields import ALL_FIELDS, FieldView
from leadloop.accounts.models import ApiKey, PartnerOrganization, Role, Team, User
from leadloop.accounts.permissions import ROLES, Permission, can, require
from leadloop.errors import NotFound, ValidationFailed

NOTHING = Q(pk__in=[])

# Roles whose leads an upper app decides: the telemarketing agent sees the leads on its call
# lists (`nurture.calls`), which accounts cannot import. Filled from that app's AppConfig.ready();
# a role without a registered rule sees nothing.
_ROLE_RULES: dict[str, Callable[[User], Q]] = {}


def register_lead_visibility(role: str, rule: Callable[[User], Q]) -> None:
    """Let an upper app say which leads users of `role` see: `rule(user)` is a filter on Lead
    (a subquery, so that it composes with every other filter)."""
    _ROLE_RULES[role] = rule


def lead_visibility(actor: Actor) -> Q:
    """Which leads `actor` may see and change, as a filter on Lead.

    Reps: their own leads and their team's unassigned pool. Managers: their teams' leads and their
    own. Marketing and admins: all. Partner users: only leads routed to their organisation.
    Telemarketing agents: the leads on the call lists they are a member of (the rule
    `nurture.calls` registers). A source key sees nothing (it may only submit).
    """
    if isinstance(actor, SystemActor):
        return Q()
    if isinstance(actor, SourceActor) or not actor.is_active:
        return NOTHING
    role = actor.role
    if role in ROLES[Permission.SEE_ALL_LEADS]:
        return Q()
    if role == Role.SALES_MANAGER:
        return Q(team_id__in=manager_team_ids(actor)) | Q(assigned_to_id=actor.pk)
    if role == Role.SALES_REP:
        mine = Q(assigned_to_id=actor.pk)
        if actor.team_id:
            return mine | Q(team_id=actor.team_id, assigned_to__isnull=True)
        return mine
    if role == Role.PARTNER and actor.partner_id:
        return Q(owner_partner_id=actor.partner_id)
    rule = _ROLE_RULES.get(role)
    if rule is not None:
        return rule(actor)
    return NOTHING


def lead_fields_for(actor: Actor) -> FieldView:
    """Which of a visible lead's fields `actor` is shown: every field, except for a partner
    user, who sees what their organisation's list says (`lead_fields`). The organisation is read
    once per actor object (Django caches it on the user), so lists stay at a flat query count."""
    if isinstance(actor, User) and actor.role == Role.PARTNER and actor.partner is not None:
        return actor.partner.field_view
    return ALL_FIELDS


def manager_team_ids(manager: User) -> list[int]:
    """The teams whose every lead a sales manager sees: those they manage and their own."""
    team_ids = set(manager.managed_teams.values_list("pk", flat=True))
    if manager.team_id:
        team_ids.add(manager.team_id)
    return sorted(team_ids)


def lead_visibility_within(actor: Actor, subset: Q) -> Q:
    """`lead_visibility(actor) & subset`, with `subset` repeated inside each alternative.

    Same rows, another shape: SQLite plans each side of an OR on its own and uses a partial
    index (`WHERE hold IS NOT NULL`) only when that side names the index's condition itself.
    Without it a rep's held-lead count walked every lead of the team (0.6 s at a million leads).
    """
    visibility = lead_visibility(actor)
    if visibility.connector != Q.OR or visibility.negated:
        return visibility & subset
    return reduce(
        operator.or_,
        (Q(child) & subset for child in visibility.children),
    )


def can_see_all_leads(actor: Actor) -> bool:
    """Marketing and admins see the whole database (no ownership filter needed)."""
    return can(actor, Permission.SEE_ALL_LEADS)


def is_staff_role(actor: Actor) -> bool:
    """Everyone but partner users and source keys works for the company itself."""
    return can(actor, Permission.STAFF_WORK)


def can_manage_configuration(actor: Actor) -> bool:
    """Sources, campaigns and mappings are set up by marketing and admins (and the operator CLI)."""
    return can(actor, Permission.CONFIGURE_SOURCES)


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
    if isinstance(actor, User) and actor.role in (Role.PARTNER, Role.AGENT, Role.BUYER):
        return users.none()
    return users.order_by("first_name", "last_name")


def can_route_to_partners(actor: Actor) -> bool:
    """Routing a lead to a channel partner is a decision for managers, marketing and admins."""
    return can(actor, Permission.ROUTE_TO_PARTNERS)


def list_assignable_teams(actor: Actor) -> QuerySet[Team]:
    """Team pools `actor` may put a lead in: a rep their own, a manager the teams they run."""
    if isinstance(actor, SystemActor) or can_see_all_leads(actor):
        return Team.objects.all()
    if not isinstance(actor, User) or actor.role in (Role.PARTNER, Role.AGENT, Role.BUYER):
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


# --- API keys ------------------------------------------------------------------------------------


def sees_all_api_keys(actor: Actor) -> bool:
    """Admins (and the operator's CLI) see and revoke everyone's API keys; others their own."""
    return can(actor, Permission.MANAGE_ALL_API_KEYS)


def list_api_keys(actor: Actor, *, user_id: int | None = None) -> QuerySet[ApiKey]:
    """The API keys `actor` may see, newest first: their own, or for an admin everyone's
    (optionally one user's). Revoked keys are listed too, marked by `revoked_at`."""
    keys = ApiKey.objects.select_related("user").order_by("-created_at", "-id")
    if sees_all_api_keys(actor):
        return keys.filter(user_id=user_id) if user_id is not None else keys
    if not isinstance(actor, User) or not actor.is_active:
        return keys.none()
    if user_id is not None and user_id != actor.pk:
        return keys.none()
    return keys.filter(user_id=actor.pk)


def get_api_key_for(actor: Actor, key_id: int, *, user_id: int | None = None) -> ApiKey:
    """One API key `actor` may see (of `user_id` only, if given); NotFound otherwise, with no
    hint that it exists."""
    keys = list_api_keys(actor, user_id=user_id)
    key = keys.filter(pk=key_id).first() if -(2**63) <= key_id < 2**63 else None
    if key is None:
        raise NotFound(_("No such API key."))
    return key


def find_api_key(actor: Actor, ref: str) -> ApiKey:
    """The key `ref` names: its id, or its prefix as the list shows it (`llu_AbCd1234`, with or
    without the trailing …). NotFound when none or several match."""
    ref = ref.strip().rstrip("…").rstrip(".")
    keys = list_api_keys(actor)
    matches = list(keys.filter(pk=int(ref))[:2]) if ref.isdigit() and len(ref) < 19 else []
    if not matches and ref:
        matches = list(keys.filter(prefix=ref)[:2])
    if len(matches) != 1:
        raise NotFound(_("No single API key matches %(ref)r.") % {"ref": ref})
    return matches[0]


def list_api_key_owners(actor: Actor) -> QuerySet[User]:
    """Users whose API keys `actor` manages: themselves, or for an admin every user."""
    users = User.objects.order_by("username")
    if sees_all_api_keys(actor):
        return users
    if isinstance(actor, User) and actor.is_active:
        return users.filter(pk=actor.pk)
    return users.none()


def list_active_api_key_owners(actor: Actor) -> QuerySet[User]:
    """Users `actor` may make a new API key for (inactive users cannot have one)."""
    return list_api_key_owners(actor).filter(is_active=True)


def get_api_key_owner(actor: Actor, user_id: int, *, field: str) -> User:
    """The user `user_id` if `actor` may make keys for them; the same field error for a user that
    does not exist and one `actor` may not manage."""
    user = (
        list_active_api_key_owners(actor).filter(pk=user_id).first()
        if -(2**63) <= user_id < 2**63
        else None
    )
    if user is None:
        message = _("Unknown user.")
        raise ValidationFailed(message, errors={field: [message]})
    return user


def get_user_by_username(actor: Actor, username: str) -> User:
    """The user called `username` whose keys `actor` may manage; NotFound otherwise."""
    user = list_api_key_owners(actor).filter(username=username).first()
    if user is None:
        raise NotFound(_("No user called %(name)r.") % {"name": username})
    return user


USERS_PER_PAGE = 50


def can_manage_users(actor: Actor) -> bool:
    """Whether `actor` sees the settings pages (users, teams, partners): active admins."""
    return can(actor, Permission.MANAGE_USERS)


def list_users(actor: Actor) -> QuerySet[User]:
    """Every user, active first, by username; admins only (NotAllowed otherwise)."""
    require(actor, Permission.MANAGE_USERS)
    return User.objects.select_related("team", "partner").order_by("-is_active", "username")


def get_user_for_admin(actor: Actor, user_id: int) -> User:
    """One user to manage; NotFound for anyone but an admin, as for an unknown id."""
    user = list_users(actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such user."))
    return user


def list_partners(actor: Actor) -> QuerySet[PartnerOrganization]:
    """Every partner organisation, for an admin's choice lists."""
    if not can_manage_users(actor):
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.order_by("name")


def list_all_teams(actor: Actor) -> QuerySet[Team]:
    """Every team with its manager, for the settings pages; admins only."""
    if not can_manage_users(actor):
        raise NotFound(_("Page not found."))
    return Team.objects.select_related("manager").order_by("name")


def get_team_for_admin(actor: Actor, team_id: int) -> Team:
    """One team to manage; NotFound for anyone but an admin, as for an unknown id."""
    team = list_all_teams(actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."))
    return team


def get_partner_for_admin(actor: Actor, partner_id: int) -> PartnerOrganization:
    """One partner organisation to manage; NotFound for anyone but an admin."""
    partner = list_partners(actor).filter(pk=partner_id).first()
    if partner is None:
        raise NotFound(_("No such partner organisation."))
    return partner


def get_partner_by_name(actor: Actor, name: str) -> PartnerOrganization:
    """The partner organisation called `name` (any case) to manage; NotFound otherwise."""
    partner = list_partners(actor).filter(name__iexact=name.strip()).first() if name else None
    if partner is None:
        raise NotFound(_("No partner organisation called %(name)r.") % {"name": name})
    return partner


def list_team_candidates(actor: Actor) -> QuerySet[User]:
    """Active staff users an admin may put in a team (partner users belong to none)."""
    if not can_manage_users(actor):
        return User.objects.none()
    return User.objects.filter(is_active=True).exclude(role=Role.PARTNER).order_by("username")
