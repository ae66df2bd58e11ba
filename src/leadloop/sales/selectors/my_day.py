"""My day: what the viewer works today, and the open tasks behind it, scoped to what they see.

The order is the rep's day: tasks already overdue, then tasks due later today (the day of the
viewer's own time zone), then new leads nobody has called yet, each by lead priority; beside
them the leads they own without a next step. Every list is capped at DAY_LIST rows with a count
of the rest (capped at DAY_COUNT_CAP, as the start page does), and every query reads through
`lead_visibility(viewer)`: a task on a lead that went to someone else is not theirs any more.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Team, User
from leadloop.accounts.permissions import Permission, can, require
from leadloop.accounts.selectors import get_defaults, lead_visibility, list_assignable_teams
from leadloop.core.cursors import decode_cursor
from leadloop.core.expressions import indexed
from leadloop.errors import NotAllowed, NotFound
from leadloop.leads.models import CLOSED_STATUSES, OWNED_STATUSES, Lead, LeadStatus
from leadloop.sales.models import OPEN_TASK, ClockState, FirstContactClock, Task

# Rows per list on the page and in the API; the rest is a count ("and 12 more").
DAY_LIST = 50
# The count of the rest stops here: "and 500+ more" says enough.
DAY_COUNT_CAP = 500
TASK_PAGE = 100
TASK_PAGE_MAX = 500


def can_work_my_day(user: object) -> bool:
    """Reps, managers and admins work leads from My day; the menu shows it to them."""
    return can(user, Permission.FOLLOW_UP_LEADS)  # type: ignore[arg-type]


def via_lead(condition: Q) -> Q:
    """A filter on Lead as the same filter on a row's `lead` (a task's, a quote's)."""
    moved = Q()
    moved.connector = condition.connector
    moved.negated = condition.negated
    for child in condition.children:
        if isinstance(child, Q):
            moved.children.append(via_lead(child))
        else:
            name, value = child  # type: ignore[misc]
            moved.children.append((f"lead__{name}", value))
    return moved


def zone_of(user: User) -> zoneinfo.ZoneInfo:
    """The user's own time zone, else the deployment's."""
    try:
        return zoneinfo.ZoneInfo(user.time_zone or get_defaults().time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(get_defaults().time_zone)


def day_bounds(now: dt.datetime, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Midnight before and after `now` on the wall clock of `zone` (a day of 23 or 25 hours
    when the clocks change)."""
    local = now.astimezone(zone)
    start = dt.datetime.combine(local.date(), dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True)
class DayItem:
    """One row of My day: a lead, and the task that put it there (none for a lead row)."""

    lead: Lead
    task: Task | None = None
    # The lead's running first-contact clock, if it has one.
    clock: FirstContactClock | None = None

    @property
    def key(self) -> str:
        """The row's id in the page: the task's, or the lead's for a lead row."""
        return f"task-{self.task.pk}" if self.task is not None else f"lead-{self.lead.pk}"

    @property
    def has_no_next_step(self) -> bool:
        return self.lead.next_follow_up_at is None and self.lead.status in OWNED_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.lead.status in CLOSED_STATUSES


@dataclass(frozen=True)
class DayList:
    """At most DAY_LIST rows, and how many there are in all (up to DAY_COUNT_CAP)."""

    items: list[DayItem]
    total: int
    total_is_capped: bool = False

    @property
    def rest(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class MyDay:
    now: dt.datetime
    zone: zoneinfo.ZoneInfo
    day_starts: dt.datetime
    day_ends: dt.datetime
    overdue: DayList
    today: DayList
    new: DayList
    no_next_step: DayList
    clocks: dict[int, FirstContactClock] = field(default_factory=dict)


def _my_tasks(viewer: User) -> QuerySet[Task]:
    """The viewer's open tasks on leads they still see (index `task_open_owner`)."""
    return (
        Task.objects.filter(OPEN_TASK, owner_id=viewer.pk)
        .filter(via_lead(lead_visibility(viewer)))
        .filter(lead__merged_into__isnull=True)
    )


def _counted(qs: QuerySet[Task] | QuerySet[Lead], shown: int) -> tuple[int, bool]:
    if shown < DAY_LIST:
        return shown, False
    total = qs.order_by().values("pk")[: DAY_COUNT_CAP + 1].count()
    return min(total, DAY_COUNT_CAP), total > DAY_COUNT_CAP


def _task_list(qs: QuerySet[Task]) -> tuple[list[Task], int, bool]:
    rows = list(qs.select_related("lead").order_by("-lead__priority", "due_at", "id")[:DAY_LIST])
    return (rows, *_counted(qs, len(rows)))


def _lead_list(qs: QuerySet[Lead]) -> tuple[list[Lead], int, bool]:
    rows = list(qs.order_by("-priority", "created_at", "id")[:DAY_LIST])
    return (rows, *_counted(qs, len(rows)))


def running_clocks(lead_ids: Iterable[int]) -> dict[int, FirstContactClock]:
    """The running first-contact clocks of these leads, in one query."""
    ids = list(set(lead_ids))
    if not ids:
        return {}
    found = FirstContactClock.objects.filter(pk__in=ids, state=ClockState.RUNNING)
    return {clock.lead_id: clock for clock in found}


def get_my_day(viewer: User, *, now: dt.datetime) -> MyDay:
    """The viewer's day: overdue tasks, tasks due later today, new leads, leads without a next
    step; each list by lead priority, highest first."""
    require(viewer, Permission.FOLLOW_UP_LEADS)
    zone = zone_of(viewer)
    starts, ends = day_bounds(now, zone)
    tasks = _my_tasks(viewer)
    overdue = _task_list(tasks.filter(due_at__lt=now))
    today = _task_list(tasks.filter(due_at__gte=now, due_at__lt=ends))
    mine = Q(assigned_to_id=viewer.pk, merged_into__isnull=True)
    # A new lead whose call is already on the viewer's list today shows there, not twice. Not
    # correlated: the viewer's few open tasks are read once (`task_open_owner`), not per lead.
    listed_today = Q(
        pk__in=Task.objects.filter(OPEN_TASK, owner_id=viewer.pk, due_at__lt=ends).values("lead_id")
    )
    # The viewer's own leads lead the filter and visibility follows as a plain AND, so both
    # databases start from the owner's index entries (`lead_owner_created`, `lead_open_owner`)
    # rather than from every lead of a manager's teams.
    visible = lead_visibility(viewer)
    new = _lead_list(
        Lead.objects.filter(mine, status=LeadStatus.ASSIGNED, last_contacted_at__isnull=True)
        .filter(visible)
        .exclude(listed_today)
    )
    # Leads being worked with no open task (`lead_no_next_step`); a new lead is listed above,
    # where its next step is the first call.
    no_step = _lead_list(
        Lead.objects.filter(mine, indexed(Lead, "lead_no_next_step"))
        .filter(visible)
        .exclude(status=LeadStatus.ASSIGNED, last_contacted_at__isnull=True)
    )
    leads = [t.lead for t in overdue[0] + today[0]] + new[0] + no_step[0]
    clocks = running_clocks(lead.pk for lead in leads)

    def task_rows(found: tuple[list[Task], int, bool]) -> DayList:
        items = [DayItem(t.lead, t, clocks.get(t.lead_id)) for t in found[0]]
        return DayList(items, found[1], found[2])

    def lead_rows(found: tuple[list[Lead], int, bool]) -> DayList:
        return DayList([DayItem(x, None, clocks.get(x.pk)) for x in found[0]], found[1], found[2])

    return MyDay(
        now=now,
        zone=zone,
        day_starts=starts,
        day_ends=ends,
        overdue=task_rows(overdue),
        today=task_rows(today),
        new=lead_rows(new),
        no_next_step=lead_rows(no_step),
        clocks=clocks,
    )


def get_task_for(actor: Actor, task_id: int) -> Task:
    """A task on a lead `actor` may see (with its lead); NotFound otherwise."""
    task = (
        Task.objects.select_related("lead")
        .filter(via_lead(lead_visibility(actor)))
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("No such task."))
    return task


def get_day_item(actor: User, *, lead: Lead, task: Task | None = None) -> DayItem:
    """One row of My day again, after an action on it (the lead and task as they are now)."""
    return DayItem(lead, task, running_clocks([lead.pk]).get(lead.pk))


def team_in_scope(actor: Actor, team_id: int) -> Team:
    """A team whose tasks `actor` may list: a manager's own teams, any for admins."""
    if not can(actor, Permission.MANAGE_FOLLOW_UP):
        raise NotAllowed(_("Only sales managers and admins list a team's tasks."))
    team = list_assignable_teams(actor).filter(pk=team_id).first()
    if team is None:
        raise NotFound(_("No such team."))
    return team


def list_open_tasks(
    actor: User,
    *,
    now: dt.datetime,
    overdue: bool = False,
    team_id: int | None = None,
    cursor: str = "",
    limit: int = TASK_PAGE,
) -> tuple[list[Task], Task | None]:
    """Open tasks by due time: the viewer's own, or (managers) all of a team's leads; with
    `overdue` only those past due. A page, and its last row when another page follows."""
    require(actor, Permission.FOLLOW_UP_LEADS)
    if team_id is not None:
        team = team_in_scope(actor, team_id)
        qs = Task.objects.filter(OPEN_TASK, lead__team_id=team.pk).filter(
            via_lead(lead_visibility(actor))
        )
    else:
        qs = _my_tasks(actor)
    if overdue:
        qs = qs.filter(due_at__lt=now)
    if cursor:
        due, pk = decode_cursor(cursor, "datetime")
        qs = qs.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
    size = max(1, min(limit, TASK_PAGE_MAX))
    rows = list(qs.select_related("lead", "owner").order_by("due_at", "id")[: size + 1])
    last = rows[size - 1] if len(rows) > size else None
    return rows[:size], last


def find_team(name: str) -> Team | None:
    """The team called `name` (any case), for the operator's CLI."""
    return Team.objects.filter(name__iexact=name.strip()).first() if name.strip() else None


def list_overdue_tasks(
    actor: Actor, *, now: dt.datetime, team: Team | None = None
) -> QuerySet[Task]:
    """Every open task past due that `actor` may see, oldest first; of one team's leads."""
    qs = Task.objects.filter(OPEN_TASK, due_at__lt=now).filter(via_lead(lead_visibility(actor)))
    if team is not None:
        qs = qs.filter(lead__team_id=team.pk)
    return qs.select_related("lead", "lead__team", "owner").order_by("due_at", "id")


def span_text(span: dt.timedelta) -> str:
    """A length of time as a rep reads it: "2 d 3 h", "1 h 20 min", "5 min" (sign dropped)."""
    minutes = int(abs(span).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d min") % {"minutes": minutes}
