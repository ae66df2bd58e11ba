"""Reads for routing: the rules in force (cached per process), drafts and versions, the teams'
capacity board and the decisions taken, each scoped to the viewer."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import PartnerOrganization, Role, Team, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.accounts.selectors import lead_visibility
from leadloop.core.expressions import indexed
from leadloop.distribution.models import (
    Absence,
    RepCapacity,
    RouteDecision,
    RuleDraft,
    RuleSet,
    TeamRouting,
)
from leadloop.errors import NotFound
from leadloop.leads.models import OPEN_STATUSES, Lead, LeadStatus

# The rules in force are read once per few seconds per process, like the scoring snapshot; the
# process that publishes forgets its copy at once.
TTL = 5.0
_lock = threading.Lock()
_active: tuple[float, RuleSet | None] | None = None


def active_rule_set() -> RuleSet | None:
    """The newest published version, or None while no rules were ever published (routing off)."""
    global _active
    held = _active
    if held is not None and time.monotonic() - held[0] < TTL:
        return held[1]
    with _lock:
        found = RuleSet.objects.order_by("-version").first()
        _active = (time.monotonic(), found)
        return found


def forget_active() -> None:
    global _active
    _active = None


def can_configure_routing(actor: Actor) -> bool:
    return can(actor, Permission.CONFIGURE_ROUTING)


def can_view_routing(actor: Actor) -> bool:
    return can(actor, Permission.VIEW_ROUTING)


def get_draft_row() -> RuleDraft:
    """The draft, or a new one holding the version in force (not saved)."""
    draft = RuleDraft.objects.filter(pk=1).first()
    if draft is not None:
        return draft
    current = active_rule_set()
    return RuleDraft(
        pk=1,
        rules=list(current.rules) if current else [],
        default=dict(current.default) if current else {},
        based_on=current.version if current else None,
        updated_at=timezone.now(),
    )


def get_draft_for(actor: Actor) -> RuleDraft:
    require(actor, Permission.VIEW_ROUTING)
    return get_draft_row()


def list_versions(actor: Actor) -> QuerySet[RuleSet]:
    require(actor, Permission.VIEW_ROUTING)
    return RuleSet.objects.order_by("-version")


def get_version_for(actor: Actor, version: int) -> RuleSet:
    found = list_versions(actor).filter(version=version).first() if 0 < version < 2**31 else None
    if found is None:
        raise NotFound(_("No version %(n)s.") % {"n": version})
    return found


def team_sales_members(team: Team) -> QuerySet[User]:
    """The active reps and managers of `team`: the people a push can reach."""
    return User.objects.filter(
        team=team, is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
    )


def reps_who_had(lead_id: int) -> frozenset[int]:
    """The reps routing gave this lead to before."""
    return frozenset(
        RouteDecision.objects.filter(lead_id=lead_id, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )


def routable() -> Q:
    """Leads routing may still place: sales-ready, nobody's, in no pool, not held or merged."""
    return Q(
        status=LeadStatus.SALES_READY,
        assigned_to__isnull=True,
        owner_partner__isnull=True,
        team__isnull=True,
        hold__isnull=True,
        merged_into__isnull=True,
        erased_at__isnull=True,
        sold_at__isnull=True,
    )


def list_waiting(actor: Actor) -> QuerySet[Lead]:
    """Sales-ready leads that no rule placed yet (routing off, or a target that failed)."""
    return (
        Lead.objects.filter(lead_visibility(actor))
        .filter(routable())
        .order_by("-priority", "created_at", "id")
    )


def list_decisions_for(actor: Actor, lead_id: int) -> QuerySet[RouteDecision]:
    """The routing decisions about one lead the actor may see; NotFound otherwise."""
    if not (0 < lead_id < 2**63) or not (
        Lead.objects.filter(lead_visibility(actor)).filter(pk=lead_id).exists()
    ):
        raise NotFound(_("No such lead."))
    return RouteDecision.objects.filter(lead_id=lead_id).select_related("user", "team", "partner")


def list_recent_decisions(actor: Actor, *, limit: int = 50) -> list[RouteDecision]:
    require(actor, Permission.VIEW_ROUTING)
    decisions = RouteDecision.objects.select_related("user", "team", "partner").order_by(
        "-at", "-id"
    )
    if not can(actor, Permission.SEE_ALL_LEADS) and isinstance(actor, User):
        teams = list(actor.managed_teams.values_list("pk", flat=True))
        decisions = decisions.filter(Q(team_id__in=teams) | Q(user_id=actor.pk))
    return list(decisions[:limit])


def can_manage_team_routing(actor: Actor, team: Team) -> bool:
    """Marketing and admins set every team's routing; a manager their own teams'."""
    if can(actor, Permission.CONFIGURE_ROUTING):
        return True
    return (
        isinstance(actor, User)
        and actor.is_active
        and actor.role == Role.SALES_MANAGER
        and Team.objects.filter(pk=team.pk, manager=actor).exists()
    )


def list_routing_teams(actor: Actor) -> QuerySet[Team]:
    """Teams whose routing `actor` may see: all for marketing and admins, a manager's own."""
    if isinstance(actor, SystemActor) or can(actor, Permission.CONFIGURE_ROUTING):
        return Team.objects.select_related("manager").order_by("name")
    if isinstance(actor, User) and actor.is_active and actor.role == Role.SALES_MANAGER:
        return Team.objects.filter(manager=actor).select_related("manager").order_by("name")
    return Team.objects.none()


def get_routing_team_for(actor: Actor, team_id: int) -> Team:
    found = list_routing_teams(actor).filter(pk=team_id).first() if 0 < team_id < 2**63 else None
    if found is None:
        raise NotFound(_("No such team."))
    return found


def get_team_member_for(actor: Actor, user_id: int) -> User:
    """A sales member of a team whose routing `actor` sets; NotFound otherwise."""
    if 0 < user_id < 2**63:
        teams = list_routing_teams(actor).values("pk")
        found = (
            User.objects.filter(
                pk=user_id,
                team_id__in=teams,
                is_active=True,
                role__in=[Role.SALES_REP, Role.SALES_MANAGER],
            )
            .select_related("team")
            .first()
        )
        if found is not None:
            return found
    raise NotFound(_("No such team member."))


def list_routing_partners(actor: Actor) -> QuerySet[PartnerOrganization]:
    """Partner organisations whose routing (time to answer an offer) `actor` sets: all of them
    for marketing and admins, none for anyone else."""
    if not can_configure_routing(actor):
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.order_by("name")


def get_routing_partner_for(actor: Actor, partner_id: int) -> PartnerOrganization:
    """A partner whose routing `actor` sets; NotFound otherwise."""
    found = (
        list_routing_partners(actor).filter(pk=partner_id).first()
        if 0 < partner_id < 2**63
        else None
    )
    if found is None:
        raise NotFound(_("No such partner."))
    return found


def team_routing(team: Team) -> TeamRouting:
    """`team`'s push settings (the defaults while nobody set them)."""
    return TeamRouting.objects.filter(team=team).first() or TeamRouting(team=team)


def start_of_day(at: dt.datetime) -> dt.datetime:
    """Midnight of `at`'s day in the current time zone (the daily quota's window)."""
    local = timezone.localtime(at)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def open_counts(user_ids: list[int]) -> Counter[int]:
    rows = (
        Lead.objects.filter(indexed(Lead, "lead_open_owner"), assigned_to_id__in=user_ids)
        .values("assigned_to_id")
        .annotate(n=Count("id"))
    )
    return Counter({row["assigned_to_id"]: row["n"] for row in rows})


def pushed_since(user_ids: list[int], since: dt.datetime) -> Counter[int]:
    rows = (
        RouteDecision.objects.filter(user_id__in=user_ids, at__gte=since)
        .values("user_id")
        .annotate(n=Count("id"))
    )
    return Counter({row["user_id"]: row["n"] for row in rows})


def last_pushed(user_ids: list[int], team_id: int) -> dict[int, dt.datetime]:
    """When each rep last got a lead pushed by routing from `team_id` (round-robin's turn)."""
    from django.db.models import Max

    rows = (
        RouteDecision.objects.filter(user_id__in=user_ids, team_id=team_id)
        .values("user_id")
        .annotate(last=Max("at"))
    )
    return {row["user_id"]: row["last"] for row in rows}


def absences_on(user_ids: list[int], day: dt.date) -> dict[int, Absence]:
    found = Absence.objects.filter(user_id__in=user_ids, starts_on__lte=day, ends_on__gte=day)
    return {absence.user_id: absence for absence in found}


def capacities(user_ids: list[int]) -> dict[int, RepCapacity]:
    return {row.user_id: row for row in RepCapacity.objects.filter(user_id__in=user_ids)}


@dataclass(frozen=True)
class PushMember:
    """A team's sales member as a push weighs them (`capacity` unsaved when never set)."""

    user: User
    capacity: RepCapacity
    open_leads: int
    today: int
    last_pushed: dt.datetime | None
    absent: bool


def push_members(team: Team, *, since: dt.datetime, day: dt.date) -> list[PushMember]:
    """The active sales members of `team` with their capacity, open leads, leads pushed since
    `since`, when routing last pushed them one from `team`, and whether they are away on `day`.
    One statement however big the team (it runs for every pushed lead); the user rows come with
    their notification preference, so telling the chosen rep reads nothing more."""

    def per_rep(rows: QuerySet[Any], key: str, total: Any) -> Subquery:
        return Subquery(
            rows.filter(**{key: OuterRef("pk")})
            .order_by()
            .values(key)
            .annotate(v=total)
            .values("v")
        )

    members = (
        team_sales_members(team)
        .select_related("capacity", "notification_preference")
        .annotate(
            open_n=Coalesce(
                per_rep(
                    Lead.objects.filter(indexed(Lead, "lead_open_owner")),
                    "assigned_to_id",
                    Count("id"),
                ),
                0,
            ),
            today_n=Coalesce(
                per_rep(RouteDecision.objects.filter(at__gte=since), "user_id", Count("id")), 0
            ),
            last_at=per_rep(RouteDecision.objects.filter(team_id=team.pk), "user_id", Max("at")),
            away=Exists(
                Absence.objects.filter(user_id=OuterRef("pk"), starts_on__lte=day, ends_on__gte=day)
            ),
        )
    )
    return [
        PushMember(
            user=member,
            capacity=getattr(member, "capacity", None) or RepCapacity(user=member),
            open_leads=member.open_n,
            today=member.today_n,
            last_pushed=member.last_at,
            absent=member.away,
        )
        for member in members
    ]


@dataclass(frozen=True)
class MemberRow:
    user: User
    capacity: RepCapacity
    open_leads: int
    today: int
    absence: Absence | None
    upcoming: list[Absence]


def team_board(team: Team, *, at: dt.datetime | None = None) -> list[MemberRow]:
    """Each sales member of `team` with their capacity, open leads, leads pushed today and
    absences (today's and those to come)."""
    now = at or timezone.now()
    members = list(team_sales_members(team).order_by("first_name", "last_name", "username"))
    ids = [member.pk for member in members]
    caps = capacities(ids)
    opened = open_counts(ids)
    today = pushed_since(ids, start_of_day(now))
    day = timezone.localdate(now)
    upcoming: dict[int, list[Absence]] = {}
    for absence in Absence.objects.filter(user_id__in=ids, ends_on__gte=day):
        upcoming.setdefault(absence.user_id, []).append(absence)
    rows = []
    for member in members:
        mine = upcoming.get(member.pk, [])
        rows.append(
            MemberRow(
                user=member,
                capacity=caps.get(member.pk) or RepCapacity(user=member),
                open_leads=opened[member.pk],
                today=today[member.pk],
                absence=next((a for a in mine if a.starts_on <= day), None),
                upcoming=mine,
            )
        )
    return rows


@dataclass(frozen=True)
class RuleRow:
    index: int
    name: str
    conditions: list[str]
    target: str


def rule_rows(rules: list[dict[str, Any]]) -> list[RuleRow]:
    """The rules as the page lists them: conditions as text lines, the action in words."""
    from leadloop.distribution import actions, conditions

    return [
        RuleRow(
            index=index,
            name=rule["name"],
            conditions=[conditions.as_text(c) for c in rule["conditions"]],
            target=actions.describe(rule["action"]),
        )
        for index, rule in enumerate(rules)
    ]


def count_waiting(actor: Actor) -> int:
    return list_waiting(actor).count()


def in_pool(team_id: int) -> Q:
    """Leads waiting in `team_id`'s pool: the team's, nobody's, open, not held or merged."""
    return in_pools([team_id])


def in_pools(team_ids: list[int]) -> Q:
    """Leads waiting in the pools of these teams (`in_pool` of each)."""
    return Q(
        team_id__in=team_ids,
        assigned_to__isnull=True,
        owner_partner__isnull=True,
        status__in=OPEN_STATUSES,
        hold__isnull=True,
        merged_into__isnull=True,
        erased_at__isnull=True,
    )


def list_claim_teams(actor: Actor) -> list[Team]:
    """The teams whose pool `actor` may take leads from: a rep's own team, a manager's own
    and the teams they run."""
    if not isinstance(actor, User) or not actor.is_active:
        return []
    if actor.role == Role.SALES_REP:
        return [actor.team] if actor.team_id and actor.team else []
    if actor.role == Role.SALES_MANAGER:
        return list(Team.objects.filter(Q(manager=actor) | Q(pk=actor.team_id)).order_by("name"))
    return []


def list_pool(actor: Actor, team: Team) -> QuerySet[Lead]:
    """`team`'s pool by priority, for those who may take from it or manage it."""
    if team not in list_claim_teams(actor) and not can_manage_team_routing(actor, team):
        raise NotFound(_("No such pool."))
    return (
        Lead.objects.filter(in_pool(team.pk))
        .select_related("source")
        .order_by("-priority", "created_at", "id")
    )


def has_pool(actor: Any) -> bool:
    """Reps and managers in a team have a pool to take leads from."""
    return bool(list_claim_teams(actor))


def count_own_pool(actor: Any) -> int:
    """Leads waiting in the pools `actor` takes from (the menu badge; capped)."""
    from leadloop.core.navigation import BADGE_CAP

    ids = [team.pk for team in list_claim_teams(actor)]
    if not ids:
        return 0
    # In the `lead_pool` index's order, so PostgreSQL reads that index, which holds the pools'
    # leads only. Unordered it guessed a pool of 5% of all leads and scanned the table for the
    # first 1,001: 206 ms on every page of a rep at a million leads, 8 ms through the index.
    pooled = Lead.objects.filter(in_pools(ids))
    return pooled.order_by("team_id", "-priority", "created_at", "id")[: BADGE_CAP + 1].count()


def is_partner_user(actor: Any) -> bool:
    return isinstance(actor, User) and actor.role == Role.PARTNER and bool(actor.partner_id)
