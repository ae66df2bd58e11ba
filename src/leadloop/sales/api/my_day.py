"""/api/v1/sales/my-day, /sales/tasks and /sales/calendar-feed: the viewer's day, their open
tasks (a manager's team's too), and their private calendar address."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Schema, Status
from pydantic import BaseModel, Field

from leadloop.accounts.models import User
from leadloop.core.cursors import encode_cursor
from leadloop.errors import NotAllowed
from leadloop.leads.models import Lead
from leadloop.sales.api.base import sales_router
from leadloop.sales.models import FirstContactClock, Task
from leadloop.sales.selectors import my_day as day
from leadloop.sales.services import clocks, feeds


def _user(request: HttpRequest) -> User:
    from leadloop.accounts.actors import actor_from_request

    actor = actor_from_request(request)
    if not isinstance(actor, User):
        raise NotAllowed("Only the sales team has a day to plan.")
    return actor


class DayLeadOut(BaseModel):
    id: int
    name: str
    status: str
    priority: int
    fit_grade: str
    company_name: str
    phone: str = Field(description="E.164, for a tel: link; empty when unknown.")
    email: str
    next_follow_up_at: dt.datetime | None
    last_contacted_at: dt.datetime | None
    no_next_step: bool
    first_contact_due_at: dt.datetime | None
    first_contact_left_minutes: int | None = Field(
        description="Business minutes left for the first contact (negative: overdue), while "
        "its clock runs."
    )


class DayTaskOut(BaseModel):
    id: int
    kind: str
    title: str
    due_at: dt.datetime
    duration_minutes: int
    snoozes: int


class DayItemOut(BaseModel):
    task: DayTaskOut | None
    lead: DayLeadOut


class DayListOut(BaseModel):
    items: list[DayItemOut]
    total: int = Field(description="How many in all, counted up to 500.")
    total_is_capped: bool


class MyDayOut(BaseModel):
    now: dt.datetime
    time_zone: str
    day_ends_at: dt.datetime
    overdue: DayListOut
    today: DayListOut
    new: DayListOut
    no_next_step: DayListOut


class TaskOut(Schema):
    id: int
    lead_id: int
    lead_name: str
    owner_id: int
    owner_name: str
    kind: str
    title: str
    due_at: dt.datetime
    duration_minutes: int
    snoozes: int
    is_overdue: bool


class TaskPageOut(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskQuery(Schema):
    overdue: bool = False
    team: int | None = Field(None, description="A team's tasks (managers, admins).")
    cursor: str = ""
    limit: int = Field(day.TASK_PAGE, ge=1, le=day.TASK_PAGE_MAX)


class FeedOut(Schema):
    url: str = Field(description="The calendar address with its token, shown this once.")
    created_at: dt.datetime


def _minutes_left(clock: FirstContactClock | None, now: dt.datetime) -> int | None:
    summary = clocks.summary(clock, now=now) if clock is not None else None
    left = summary["left"] if summary else None
    return int(left.total_seconds() // 60) if left is not None else None


def _lead(lead: Lead, clock: FirstContactClock | None, now: dt.datetime) -> DayLeadOut:
    return DayLeadOut(
        id=lead.pk,
        name=str(lead),
        status=lead.status,
        priority=lead.priority,
        fit_grade=lead.fit_grade,
        company_name=lead.company_name,
        phone=lead.phone_e164,
        email=lead.email,
        next_follow_up_at=lead.next_follow_up_at,
        last_contacted_at=lead.last_contacted_at,
        no_next_step=day.DayItem(lead).has_no_next_step,
        first_contact_due_at=lead.first_contact_due_at,
        first_contact_left_minutes=_minutes_left(clock, now),
    )


def _task(task: Task) -> DayTaskOut:
    return DayTaskOut(
        id=task.pk,
        kind=task.kind,
        title=task.title,
        due_at=task.due_at,
        duration_minutes=task.duration_minutes,
        snoozes=task.snoozes,
    )


def _list(part: day.DayList, now: dt.datetime) -> DayListOut:
    items = [
        DayItemOut(
            task=_task(item.task) if item.task else None, lead=_lead(item.lead, item.clock, now)
        )
        for item in part.items
    ]
    return DayListOut(items=items, total=part.total, total_is_capped=part.total_is_capped)


@sales_router.get("/my-day", response=MyDayOut, url_name="sales-my-day")
def get_my_day(request: HttpRequest) -> MyDayOut:
    """Your day: overdue tasks, tasks due later today (your time zone), new leads, and leads
    without a next step; each by lead priority, 50 at most with the total."""
    now = timezone.now()
    found = day.get_my_day(_user(request), now=now)
    return MyDayOut(
        now=now,
        time_zone=found.zone.key,
        day_ends_at=found.day_ends,
        overdue=_list(found.overdue, now),
        today=_list(found.today, now),
        new=_list(found.new, now),
        no_next_step=_list(found.no_next_step, now),
    )


@sales_router.get("/tasks", response=TaskPageOut, url_name="sales-tasks")
def list_open_tasks(request: HttpRequest, query: Query[TaskQuery]) -> TaskPageOut:
    """Open tasks by due time: yours, or with `team` (managers, admins) every task on that
    team's leads; `overdue=true` only those past due. Page on with `cursor`."""
    now = timezone.now()
    rows, last = day.list_open_tasks(
        _user(request),
        now=now,
        overdue=query.overdue,
        team_id=query.team,
        cursor=query.cursor,
        limit=query.limit,
    )
    items = [
        TaskOut(
            id=t.pk,
            lead_id=t.lead_id,
            lead_name=str(t.lead),
            owner_id=t.owner_id,
            owner_name=t.owner.display_name,
            kind=t.kind,
            title=t.title,
            due_at=t.due_at,
            duration_minutes=t.duration_minutes,
            snoozes=t.snoozes,
            is_overdue=t.due_at < now,
        )
        for t in rows
    ]
    next_cursor = encode_cursor(last.due_at, last.pk) if last else None
    return TaskPageOut(items=items, next_cursor=next_cursor)


@sales_router.post("/calendar-feed", response={201: FeedOut}, url_name="sales-calendar-feed")
def create_calendar_feed(request: HttpRequest) -> Status:
    """A new private calendar address (iCalendar), replacing any old one; shown this once."""
    user = _user(request)
    url = feeds.feed_url(feeds.issue_feed(user))
    feed = feeds.get_feed(user)
    return Status(201, FeedOut(url=url, created_at=feed.created_at if feed else timezone.now()))


@sales_router.delete("/calendar-feed", response={204: None}, url_name="sales-calendar-feed-revoke")
def revoke_calendar_feed(request: HttpRequest) -> Status:
    """End your calendar address at once (204 also when there was none)."""
    feeds.revoke_feed(_user(request))
    return Status(204, None)
