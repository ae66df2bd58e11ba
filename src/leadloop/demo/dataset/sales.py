"""The sales floor of the demo: first-contact clocks with their history (met, late, running,
breached), a next step on most leads being worked, and quotes on quoted and won leads.

Written per chunk beside the leads, in the shapes the sales services write: a clock's deadline
counted in the default team rules' business time, `next_follow_up_at` at the earliest open task,
the lead's potential revenue and probability at its current quote.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from leadloop.accounts.models import User
from leadloop.leads.models import ActivityKind
from leadloop.leads.services.bulk import RawTable
from leadloop.sales.business_time import BusinessCalendar
from leadloop.sales.models import (
    ClockState,
    FirstContactClock,
    Quote,
    QuoteState,
    SlaEvent,
    SlaEventKind,
    Task,
    TaskKind,
    TeamSla,
)
from leadloop.sales.services.rules import calendar_of, rules_of, target_for


@dataclass(frozen=True)
class _LeadView:
    """What a target reads of a lead, for a row not written yet."""

    source_id: int | None
    fit_grade: str


S_ASSIGNED, S_CONTACTED, S_QUOTED, S_WON = "assigned", "contacted", "quoted", "won"
WORKED = (S_ASSIGNED, S_CONTACTED, S_QUOTED)
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)
# Most deals are in euros; a few customers are quoted in their own currency.
CURRENCIES = (("EUR", 90), ("USD", 6), ("GBP", 4))
NEXT_STEP = {
    S_ASSIGNED: ((TaskKind.CALL, "First call"),),
    S_CONTACTED: (
        (TaskKind.CALL, "Follow-up call"),
        (TaskKind.MEETING, "Demo meeting"),
        (TaskKind.SEND_QUOTE, "Send the quote"),
        (TaskKind.EMAIL, "Send the brochure"),
    ),
    S_QUOTED: ((TaskKind.CALL, "Ask for an answer to the quote"),),
}


class SalesMaker:
    """Adds the sales rows of one lead, and holds a chunk's rows until they are inserted."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.calendars: dict[int, BusinessCalendar] = {}
        self.clocks = RawTable(FirstContactClock, with_pk=True)
        self.events = RawTable(SlaEvent, with_pk=False)
        self.tasks = RawTable(Task, with_pk=False)
        self.quotes = RawTable(Quote, with_pk=False)
        self.labels = dict(User.objects.values_list("pk", "first_name"))
        self.rows: dict[str, list[tuple[Any, ...]]] = {}
        self.clear()

    def _calendar(self, rules: TeamSla) -> BusinessCalendar:
        key = rules.team_id or 0
        if key not in self.calendars:
            self.calendars[key] = calendar_of(rules)
        return self.calendars[key]

    def clear(self) -> None:
        self.rows = {"clocks": [], "events": [], "tasks": [], "quotes": []}

    def insert(self) -> None:
        for name, table in (
            ("clocks", self.clocks),
            ("events", self.events),
            ("tasks", self.tasks),
            ("quotes", self.quotes),
        ):
            if self.rows[name]:
                table.insert(self.rows[name])
        self.clear()

    def add(self, rng: Any, values: dict[str, Any], events: list[Any]) -> None:
        """The sales rows of one lead; changes `values` where the services would have."""
        if values.get("first_contact_due_at") is not None and values.get("assigned_to_id"):
            self._clock(values, events)
        status = values["status"]
        if status in WORKED:
            self._next_step(rng, values)
        if status in (S_QUOTED, S_WON) and values.get("potential_revenue"):
            self._quote(rng, values)

    def _owner(self, values: dict[str, Any]) -> str:
        return self.labels.get(values.get("assigned_to_id") or 0, "")

    def _clock(self, values: dict[str, Any], events: list[Any]) -> None:
        lead_id = values["id"]
        # The history put the deadline 24 hours after the assignment; count it in business time.
        started = values["first_contact_due_at"] - dt.timedelta(hours=24)
        rules = rules_of(values.get("team_id"))
        calendar = self._calendar(rules)
        view = _LeadView(values.get("source_id"), values.get("fit_grade", ""))
        minutes = target_for(view, rules)
        due = calendar.add(started, dt.timedelta(minutes=minutes))
        share = minutes * rules.remind_at_percent // 100
        remind = calendar.add(started, dt.timedelta(minutes=share)) if share else due
        first = next(
            (at for at, kind, *_rest in events if kind in CONTACT_KINDS and at >= started), None
        )
        log = [(SlaEventKind.STARTED, started, {"target_minutes": minutes})]
        state, ended, breached, reminded = ClockState.RUNNING, None, None, None
        until = first or self.now
        if remind <= until:
            reminded = remind
            log.append((SlaEventKind.REMINDED, remind, {}))
        if due <= until:
            breached = due
            log.append((SlaEventKind.BREACHED, due, {}))
        if first is not None:
            state = ClockState.MET if first <= due else ClockState.LATE
            ended = first
            log.append((SlaEventKind(state), first, {}))
        elif values["status"] not in WORKED:
            state, ended = ClockState.STOPPED, values.get("status_changed_at") or started
            log.append((SlaEventKind.STOPPED, ended, {"status": values["status"]}))
        next_check = None
        if state == ClockState.RUNNING:
            next_check = remind if reminded is None else due if breached is None else None
        self.rows["clocks"].append(
            self.clocks.row(
                {
                    "lead_id": lead_id,
                    "team_id": values.get("team_id"),
                    "owner_id": values.get("assigned_to_id"),
                    "state": state,
                    "started_at": started,
                    "target_minutes": minutes,
                    "due_at": due,
                    "remind_at": remind,
                    "reminded_at": reminded,
                    "breached_at": breached,
                    "ended_at": ended,
                    "ended_by": self._owner(values) if first else "",
                    "next_check_at": next_check,
                }
            )
        )
        for kind, at, data in log:
            self.rows["events"].append(
                self.events.row(
                    {
                        "lead_id": lead_id,
                        "kind": kind,
                        "at": at,
                        "by": self._owner(values) if kind in ("met", "late") else "",
                        "data": json.dumps(data),
                    }
                )
            )
        values["first_contact_due_at"] = None if state == ClockState.STOPPED else due

    def _next_step(self, rng: Any, values: dict[str, Any]) -> None:
        """Most leads being worked have one open next step, due from three days ago to ten days
        ahead; one in twelve has none ("no next step")."""
        if rng.random() < 1 / 12 or not values.get("assigned_to_id"):
            values["next_follow_up_at"] = None
            return
        kind, title = rng.choice(NEXT_STEP[values["status"]])
        due = self.now + dt.timedelta(hours=rng.uniform(-72, 240))
        due = due.replace(minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
        values["next_follow_up_at"] = due
        self.rows["tasks"].append(
            self.tasks.row(
                {
                    "lead_id": values["id"],
                    "owner_id": values["assigned_to_id"],
                    "kind": kind,
                    "title": title,
                    "due_at": due,
                    "duration_minutes": 60 if kind == TaskKind.MEETING else 15,
                    "repeat_days": 3 if values["status"] == S_QUOTED else None,
                    "created_by": self._owner(values),
                    "created_at": min(self.now, values["updated_at"]),
                    "history": "[]",
                }
            )
        )

    def _quote(self, rng: Any, values: dict[str, Any]) -> None:
        currency = rng.choices([c for c, _w in CURRENCIES], weights=[w for _c, w in CURRENCIES])[0]
        amount = Decimal(values["potential_revenue"])
        won = values["status"] == S_WON
        probability = 100 if won else int(values.get("probability") or 50)
        close = (values.get("closed_at") or self.now).date() + dt.timedelta(
            days=0 if won else rng.randint(5, 100)
        )
        sent = values.get("status_changed_at") or values["created_at"]
        values["currency"] = currency
        self.rows["quotes"].append(
            self.quotes.row(
                {
                    "lead_id": values["id"],
                    "title": "Offer",
                    "amount": amount,
                    "currency": currency,
                    "expected_close_on": close,
                    "probability": probability,
                    "state": QuoteState.ACCEPTED if won else QuoteState.SENT,
                    "is_current": True,
                    "sent_at": sent,
                    "created_by": self._owner(values),
                    "created_at": sent,
                    "updated_at": sent,
                }
            )
        )


# What a rep may send from the lead page, in English and in Dutch.
EMAIL_TEMPLATES = (
    (
        "Introduction",
        "en",
        "Your request, {first_name}",
        "Hello {first_name},\n\nThank you for your interest. When would suit you for a short call "
        "about what you are looking for?\n\nKind regards,\n{sender_name}",
    ),
    (
        "Introduction",
        "nl",
        "Je aanvraag, {first_name}",
        "Hallo {first_name},\n\nBedankt voor je interesse. Wanneer komt een kort gesprek je uit "
        "om te horen waar je naar zoekt?\n\nMet vriendelijke groet,\n{sender_name}",
    ),
    (
        "Quote follow-up",
        "en",
        "The quote for {company}",
        "Hello {first_name},\n\nDid you have a chance to look at our quote? I am happy to go "
        "through it with you.\n\nKind regards,\n{sender_name}",
    ),
    (
        "Quote follow-up",
        "nl",
        "De offerte voor {company}",
        "Hallo {first_name},\n\nHeb je onze offerte al kunnen bekijken? Ik loop hem graag met je "
        "door.\n\nMet vriendelijke groet,\n{sender_name}",
    ),
)


def sales_setup() -> None:
    """The demo teams' follow-up rules: North puts a lead whose first contact is overdue back in
    its pool, South only alerts its manager; an A-grade lead must be reached within one business
    hour. And the e-mail templates."""
    from django.utils import timezone

    from leadloop.accounts.actors import SYSTEM
    from leadloop.accounts.models import Team
    from leadloop.sales.models import BreachAction, EmailTemplate, SlaTarget
    from leadloop.sales.services import rules

    for team in Team.objects.filter(name__in=("Sales North", "Sales South")):
        if not TeamSla.objects.filter(team=team).exists():
            on_breach = BreachAction.POOL if team.name == "Sales North" else BreachAction.ALERT
            rules.set_team_rules(team, {"on_breach": on_breach}, by=SYSTEM)
    if not SlaTarget.objects.filter(team=None, source=None, fit_grade="A").exists():
        rules.set_target(by=SYSTEM, business_minutes=60, fit_grade="A")
    now = timezone.now()
    for name, language, subject, body in EMAIL_TEMPLATES:
        EmailTemplate.objects.get_or_create(
            name=name,
            language=language,
            defaults={"subject": subject, "body": body, "updated_at": now},
        )
    rules.forget()
