"""A sales floor for the manager's view, built through the real services with a controlled clock.

Team North (managed by `manager`, who is also in it) and team South. "Now" is Thursday
5 November 2026, 12:00 in Amsterdam; the ISO week began on Monday 2 November.

    overdue   contacted, rep, next step Wednesday 15:00 (and a call Thursday 17:00)
    bare      assigned, rep, no next step; first contact due Tuesday 10:00, breached at 10:05
    planned   contacted, teammate, next step Thursday 16:00
    old       contacted late, teammate, breached last week, next step next week
    pooled    in North's pool, nobody's
    closed    disqualified (not counted)
    south     South's, other_rep, overdue (never visible to North's manager)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import time_machine

from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.sales.services import clocks, contact, steps, sweep
from tests.factories.leads import make_lead

AMS = ZoneInfo("Europe/Amsterdam")


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


NOW = ams(2026, 11, 5, 12, 0)


@dataclass
class World:
    overdue: Lead
    bare: Lead
    planned: Lead
    old: Lead
    pooled: Lead
    closed: Lead
    south: Lead


def _at(moment: dt.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def build(*, source, team, rep, teammate, other_rep) -> World:
    with _at(ams(2026, 10, 28, 10, 0)):
        old = make_lead(source, assigned_to=teammate, last_name="Old")
        clocks.follow([old.pk])
    with _at(ams(2026, 10, 29, 10, 5)):
        sweep.check()
    with _at(ams(2026, 10, 30, 9, 0)):
        contact.log_call(old, by=teammate, outcome="reached")
        steps.add_task(old, by=teammate, kind="call", due_at=ams(2026, 11, 10, 9, 0))

    with _at(ams(2026, 11, 2, 9, 0)):
        overdue = make_lead(source, assigned_to=rep, last_name="Overdue")
        planned = make_lead(source, assigned_to=teammate, last_name="Planned")
        closed = make_lead(source, assigned_to=rep, last_name="Closed")
        south = make_lead(source, assigned_to=other_rep, last_name="South")
        clocks.follow([overdue.pk, planned.pk, closed.pk, south.pk])
    with _at(ams(2026, 11, 2, 9, 30)):
        contact.log_call(overdue, by=rep, outcome="reached")
        contact.log_call(planned, by=teammate, outcome="reached")
        contact.log_call(south, by=other_rep, outcome="reached")
        steps.add_task(overdue, by=rep, kind="call", due_at=ams(2026, 11, 4, 15, 0))
        steps.add_task(overdue, by=rep, kind="call", due_at=ams(2026, 11, 5, 17, 0))
        steps.add_task(planned, by=teammate, kind="email", due_at=ams(2026, 11, 5, 16, 0))
        steps.add_task(south, by=other_rep, kind="call", due_at=ams(2026, 11, 3, 9, 0))
        lead_services.transition(closed, to=LeadStatus.DISQUALIFIED, by=rep)
        clocks.follow([closed.pk])
    with _at(ams(2026, 11, 2, 10, 0)):
        bare = make_lead(source, assigned_to=rep, last_name="Bare")
        clocks.follow([bare.pk])
    with _at(ams(2026, 11, 3, 10, 5)):
        sweep.check()
    with _at(ams(2026, 11, 5, 11, 0)):
        pooled = make_lead(source, team=team, last_name="Pooled")
    return World(
        overdue=overdue,
        bare=bare,
        planned=planned,
        old=old,
        pooled=pooled,
        closed=closed,
        south=south,
    )
