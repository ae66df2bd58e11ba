"""The manager's view of a team: its open leads, what is overdue or has no next step, the
first-contact clocks that ran out this week or are running late now, and each rep's workload.

A sales manager sees the teams they manage and their own; marketing and admins any team; reps
and partners none. Every measure is one query over the whole team (grouped by owner where the
reps' table needs it), never one per rep, and each reads an index made for it: overdue by
`lead_follow_up_team`, no next step by `lead_no_next_step`, breaches by `clock_breached`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, Team, User
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import lead_visibility
from leadloop.core.expressions import indexed
from leadloop.errors import NotAllowed, NotFound
from leadloop.leads.models import OWNED_STATUSES, Lead, LeadStatus
from leadloop.sales.models import OPEN_TASK, ClockState, FirstContactClock, SlaTarget, Task, TeamSla

# How many leads each list on the page shows (the counts above them are exact).
LIST_CAP = 50
DEFAULT_ZONE = "Europe/Amsterdam"
MAX_ID = 2**63


def can_view_teams(actor: Actor) -> bool:
    """Sales managers, marketing and admins look at teams; reps and partners do not."""
    return can(actor, Permission.MANAGE_FOLLOW_UP) or can(actor, Permission.SEE_ALL_LEADS)


def manages_follow_up(actor: Actor) -> bool:
    """Sales managers and admins: the menu's "Team" entry."""
    return can(actor, Permission.MANAGE_FOLLOW_UP)


def require_team_viewer(actor: Actor) -> None:
    if not can_view_teams(actor):
        raise NotAllowed(_("Only sales managers, marketing and admins see a team's follow-up."))


def list_viewable_teams(actor: Actor) -> QuerySet[Team]:
    """Teams `actor` may look at: every team for marketing, admins and the system; a sales
    manager the teams they manage and their own."""
    teams = Team.objects.select_related("manager").order_by("name")
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_ALL_LEADS):
        return teams
    if isinstance(actor, User) and actor.is_active and actor.role == Role.SALES_MANAGER:
        own = Q(pk=actor.team_id) if actor.team_id else Q(pk__in=[])
        return teams.filter(Q(manager=actor) | own)
    return teams.none()


def get_team_for(actor: Actor, team_id: int | None = None) -> Team | None:
    """The team `actor` asked for, or their first one (None when they have none); NotAllowed
    for a role that sees no team, NotFound for a team that is not theirs."""
    require_team_viewer(actor)
    teams = list_viewable_teams(actor)
    if team_id is None:
        if isinstance(actor, User) and actor.team_id:
            own = teams.filter(pk=actor.team_id).first()
            if own is not None:
                return own
        return teams.first()
    found = teams.filter(pk=team_id).first() if 0 < team_id < MAX_ID else None
    if found is None:
        raise NotFound(_("No such team."))
    return found


def _team_leads(actor: Actor, team: Team) -> QuerySet[Lead]:
    """The leads `actor` may view, for queries that each name the team themselves (`owned`,
    `overdue`, ...). Whoever may view a team sees all its leads (staff every lead, a manager
    their teams'), so within the team the visibility filter adds nothing but an OR that kept
    SQLite from the team's indexes; it stays for any other team. The team is not filtered here
    as well: PostgreSQL takes `team_id = 1 AND team_id = 1` for two independent conditions and
    guesses the rows too few."""
    if list_viewable_teams(actor).filter(pk=team.pk).exists():
        return Lead.objects.all()
    return Lead.objects.filter(lead_visibility(actor))


def can_manage_team(actor: Actor, team: Team | None) -> bool:
    """Whether `actor` may change `team`'s follow-up rules and targets: admins (and the
    system) any team's and the rules for every team (`team` None); a sales manager only a team
    they manage."""
    if isinstance(actor, SystemActor):
        return True
    if not can(actor, Permission.MANAGE_FOLLOW_UP) or not isinstance(actor, User):
        return False
    if actor.role == Role.ADMIN:
        return True
    if team is None or not actor.is_active:
        return False
    return Team.objects.filter(pk=team.pk, manager=actor).exists()


def team_zone(team_id: int | None) -> ZoneInfo:
    """The time zone the team works in (its rules', else Amsterdam)."""
    name = (
        TeamSla.objects.filter(team_id=team_id).values_list("time_zone", flat=True).first()
        if team_id
        else None
    )
    return ZoneInfo(name or DEFAULT_ZONE)


def week_of(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 of `now`'s ISO week in `zone`, and the Monday after (both aware)."""
    day = now.astimezone(zone).date()
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=zone)


def day_of(now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Midnight of `now`'s day in `zone`, and the next midnight."""
    day = now.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def owned(team_id: int) -> Q:
    """The team's leads someone is working (assigned, contacted, quoted): each needs a next
    step. The board's index condition, written as its DDL has it (core.expressions), so that
    with `next_follow_up_at IS NULL` SQLite reads `lead_no_next_step`."""
    return Q(team_id=team_id) & indexed(Lead, "lead_board")


def overdue(team_id: int, now: dt.datetime) -> Q:
    """Owned leads whose next step is past (read through `lead_follow_up_team`)."""
    return owned(team_id) & Q(next_follow_up_at__isnull=False, next_follow_up_at__lt=now)


def no_next_step(team_id: int) -> Q:
    """Owned leads without an open task (`next_follow_up_at` empty; `lead_no_next_step`)."""
    return Q(next_follow_up_at__isnull=True) & owned(team_id)


def breached_between(team_id: int, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(
        team_id=team_id, breached_at__isnull=False, breached_at__gte=start, breached_at__lt=end
    )


@dataclass(frozen=True)
class RepLoad:
    """One person's work in the team: open leads, overdue, without next step, not contacted
    yet (assigned), and open tasks due today."""

    user: User
    open_leads: int
    overdue: int
    no_next_step: int
    not_contacted: int
    tasks_today: int
    is_member: bool = True


@dataclass(frozen=True)
class BreachRow:
    lead: Lead
    breached_at: dt.datetime
    due_at: dt.datetime
    state: str


@dataclass(frozen=True)
class TeamBoard:
    """What the manager's page and `GET /sales/team` show for one team at `now`."""

    team: Team | None
    now: dt.datetime
    week_start: dt.datetime
    open_leads: int = 0
    pool: int = 0
    owned: int = 0
    overdue: int = 0
    no_next_step: int = 0
    breached_this_week: int = 0
    late_now: int = 0
    reps: list[RepLoad] = field(default_factory=list)
    overdue_leads: list[Lead] = field(default_factory=list)
    no_next_step_leads: list[Lead] = field(default_factory=list)
    breached_leads: list[BreachRow] = field(default_factory=list)

    @property
    def overdue_percent(self) -> int:
        """Share of the owned leads that are overdue; the norm is 0%."""
        return round(100 * self.overdue / self.owned) if self.owned else 0

    @property
    def followed_up_percent(self) -> int:
        """Share of the owned leads with a next step; the norm is 100%."""
        return round(100 * (self.owned - self.no_next_step) / self.owned) if self.owned else 100

    @property
    def meets_overdue_norm(self) -> bool:
        return self.overdue == 0

    @property
    def meets_follow_up_norm(self) -> bool:
        return self.no_next_step == 0


def _per_owner(rows: QuerySet[Any, Any]) -> Counter[int | None]:
    """`{owner id: n}` of a `values("assigned_to_id").annotate(n=...)` query; None: the pool."""
    counts: Counter[int | None] = Counter()
    for row in rows:
        counts[row["assigned_to_id"]] += row["n"]
    return counts


def team_board(
    actor: Actor, team: Team | None, *, now: dt.datetime | None = None, cap: int = LIST_CAP
) -> TeamBoard:
    """The measures, the reps' workload and the lists of one team `actor` may view (from
    `get_team_for`). Lists hold the `cap` most urgent leads, highest priority first."""
    now = now or timezone.now()
    if team is None:
        return TeamBoard(team=None, now=now, week_start=now)
    zone = team_zone(team.pk)
    week_start, week_end = week_of(now, zone)
    day_start, day_end = day_of(now, zone)
    leads = _team_leads(actor, team)

    by_status: dict[tuple[int | None, str], int] = {}
    for row in (
        leads.filter(Q(team_id=team.pk) & indexed(Lead, "lead_team_open"))
        .values("assigned_to_id", "status")
        .annotate(n=Count("*"))
        .order_by()
    ):
        by_status[(row["assigned_to_id"], row["status"])] = row["n"]
    late_counts = _per_owner(
        leads.filter(overdue(team.pk, now))
        .values("assigned_to_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    bare_counts = _per_owner(
        leads.filter(no_next_step(team.pk))
        .values("assigned_to_id")
        .annotate(n=Count("*"))
        .order_by()
    )
    open_counts: Counter[int | None] = Counter()
    owned_total = 0
    waiting: Counter[int | None] = Counter()
    for (owner, status), n in by_status.items():
        open_counts[owner] += n
        if status in OWNED_STATUSES:
            owned_total += n
        if status == LeadStatus.ASSIGNED:
            waiting[owner] += n

    members = list(
        User.objects.filter(
            team_id=team.pk, is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
        )
    )
    known = {member.pk for member in members}
    others = {
        owner
        for owner in (*open_counts, *late_counts, *bare_counts)
        if owner is not None and owner not in known
    }
    people = members + (list(User.objects.filter(pk__in=others)) if others else [])
    tasks_today = Counter(
        {
            row["owner_id"]: row["n"]
            for row in Task.objects.filter(
                OPEN_TASK,
                owner_id__in=[person.pk for person in people],
                due_at__gte=day_start,
                due_at__lt=day_end,
            )
            .values("owner_id")
            .annotate(n=Count("*"))
            .order_by()
        }
    )
    reps = sorted(
        (
            RepLoad(
                user=person,
                open_leads=open_counts[person.pk],
                overdue=late_counts[person.pk],
                no_next_step=bare_counts[person.pk],
                not_contacted=waiting[person.pk],
                tasks_today=tasks_today[person.pk],
                is_member=person.pk in known,
            )
            for person in people
        ),
        key=lambda rep: (not rep.is_member, rep.user.display_name.casefold(), rep.user.pk),
    )

    clocks = FirstContactClock.objects.filter(team_id=team.pk)
    late_now = (
        clocks.filter(indexed(FirstContactClock, "clock_late_running"), due_at__lt=now).count()
        + FirstContactClock.objects.filter(
            next_check_at__isnull=False,
            next_check_at__lte=now,
            team_id=team.pk,
            breached_at__isnull=True,
            state=ClockState.RUNNING,
            due_at__lt=now,
        ).count()
    )
    breached = clocks.filter(breached_between(team.pk, week_start, week_end))
    breach_rows = [
        BreachRow(
            lead=clock.lead, breached_at=clock.breached_at, due_at=clock.due_at, state=clock.state
        )
        for clock in breached.select_related("lead", "lead__assigned_to").order_by(
            "-lead__priority", "breached_at", "lead_id"
        )[:cap]
        if clock.breached_at is not None
    ]
    listed = leads.select_related("assigned_to")
    return TeamBoard(
        team=team,
        now=now,
        week_start=week_start,
        open_leads=sum(open_counts.values()),
        pool=open_counts[None],
        owned=owned_total,
        overdue=sum(late_counts.values()),
        no_next_step=sum(bare_counts.values()),
        breached_this_week=breached.count(),
        late_now=late_now,
        reps=reps,
        overdue_leads=list(
            listed.filter(overdue(team.pk, now)).order_by("-priority", "next_follow_up_at", "id")[
                :cap
            ]
        ),
        no_next_step_leads=list(
            listed.filter(no_next_step(team.pk)).order_by("-priority", "status_changed_at", "id")[
                :cap
            ]
        ),
        breached_leads=breach_rows,
    )


def list_team_members(team: Team) -> QuerySet[User]:
    """Who leads of `team` can be handed to: its active reps and managers, by name."""
    return User.objects.filter(
        team_id=team.pk, is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
    ).order_by("first_name", "last_name", "username")


def list_team_leads_by_ids(actor: Actor, team: Team, ids: Iterable[int]) -> list[Lead]:
    """The leads among `ids` that belong to `team` and that `actor` may see: a reassignment
    from the team's page acts on these only."""
    wanted = [i for i in dict.fromkeys(ids) if 0 < i < MAX_ID][:500]
    return list(
        Lead.objects.filter(lead_visibility(actor))
        .filter(team_id=team.pk, pk__in=wanted)
        .select_related("assigned_to", "team")
        .order_by("pk")
    )


# --- First-contact clocks and targets ------------------------------------------------------------


def _clock_scope(actor: Actor) -> Q:
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_ALL_LEADS):
        return Q()
    return Q(team_id__in=list_viewable_teams(actor).values("pk"))


def list_breaches(actor: Actor, *, since: dt.datetime, limit: int = 500) -> list[FirstContactClock]:
    """First-contact clocks that ran out since `since`, newest first, of the teams `actor`
    may view (every team for marketing and admins)."""
    require_team_viewer(actor)
    return list(
        FirstContactClock.objects.filter(_clock_scope(actor))
        .filter(breached_at__isnull=False, breached_at__gte=since)
        .select_related("lead", "lead__assigned_to", "team")
        .order_by("-breached_at", "-lead_id")[:limit]
    )


@dataclass(frozen=True)
class RunningClocks:
    running: int
    late: int
    clocks: list[FirstContactClock]


def list_running_clocks(
    actor: Actor, *, team: Team | None = None, now: dt.datetime | None = None, limit: int = 100
) -> RunningClocks:
    """Clocks still waiting for a first contact (optionally of one team), soonest deadline
    first, with how many run and how many of those are past their deadline at `now`."""
    require_team_viewer(actor)
    now = now or timezone.now()
    clocks = FirstContactClock.objects.filter(_clock_scope(actor)).filter(state=ClockState.RUNNING)
    if team is not None:
        clocks = clocks.filter(team_id=team.pk)
    rows = clocks.select_related("lead", "lead__assigned_to", "team").order_by("due_at", "lead_id")
    return RunningClocks(
        running=clocks.count(),
        late=clocks.filter(due_at__lt=now).count(),
        clocks=list(rows[:limit]),
    )


def find_team(actor: Actor, ref: str) -> Team:
    """The team `ref` names (its id or its name, any case) among those `actor` may view."""
    teams = list_viewable_teams(actor)
    ref = ref.strip()
    found = teams.filter(pk=int(ref)).first() if ref.isdigit() and len(ref) < 19 else None
    if found is None and ref:
        found = teams.filter(name__iexact=ref).first()
    if found is None:
        raise NotFound(_("No team %(ref)r.") % {"ref": ref})
    return found


def _targets(actor: Actor, team: Team | None) -> QuerySet[SlaTarget]:
    require_team_viewer(actor)
    targets = SlaTarget.objects.select_related("team", "source")
    if team is not None:
        return targets.filter(Q(team_id=team.pk) | Q(team__isnull=True))
    if isinstance(actor, SystemActor) or can(actor, Permission.SEE_ALL_LEADS):
        return targets
    return targets.filter(
        Q(team__isnull=True) | Q(team_id__in=list_viewable_teams(actor).values("pk"))
    )


def list_targets(actor: Actor, *, team: Team | None = None) -> list[SlaTarget]:
    """First-contact targets `actor` may see: every one for marketing and admins; a manager
    those of their teams and those for every team. With `team` (one `actor` may view): those
    that apply to its leads."""
    return list(_targets(actor, team).order_by("team__name", "source__name", "fit_grade", "id"))


def get_target_for(actor: Actor, target_id: int) -> SlaTarget:
    """One target `actor` may see; NotFound otherwise."""
    found = _targets(actor, None).filter(pk=target_id).first() if 0 < target_id < MAX_ID else None
    if found is None:
        raise NotFound(_("No such target."))
    return found
