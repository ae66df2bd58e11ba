"""The simulator: a workflow run by the live engine on a simulated clock, against real leads or a
scenario table, with nothing sent and nothing written.

A scenario says what a lead does and when, in days after it enters: "opened@2" (opens a mail on
day 2), "clicked@2.5", "answered@3" or "answered:12=quote@3" (question 12 answered "quote"),
"bounced@0.1", "unsubscribed@4", "call:qualified@10" (a call list's final outcome). The engine
wakes at each scenario event as it wakes live when an open, an answer, a bounce or a call
outcome is recorded (`nudge`), and at each step's due time otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from leadloop.errors import ValidationFailed
from leadloop.leads.models import Lead
from leadloop.nurture.workflows.services.definition import (
    EVENTS,
    FIELDS,
    Condition,
    Definition,
    Step,
)
from leadloop.nurture.workflows.services.engine import Moved, Position, advance

HORIZON = dt.timedelta(days=366)
MAX_LEADS = 500
_EVENT = re.compile(r"^(?P<event>[a-z_]+)(?::(?P<arg>[^@]+))?@(?P<day>\d+(?:\.\d+)?)$")
SIM_FIELDS = FIELDS


@dataclass(frozen=True)
class SimEvent:
    event: str
    at_day: float
    question: int | None = None
    answer: str | None = None
    outcome: str = ""

    def at(self, start: dt.datetime) -> dt.datetime:
        return start + dt.timedelta(days=self.at_day)


@dataclass(frozen=True)
class Scenario:
    name: str
    events: tuple[SimEvent, ...] = ()


def parse_scenario(name: str, text: str) -> Scenario:
    """`name` and its events written as "opened@2 answered:12=quote@3" (spaces or commas)."""
    events = []
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        match = _EVENT.match(token.strip().lower())
        if not match or match["event"] not in (*EVENTS, "call"):
            message = _(
                "Scenario “%(name)s”: “%(token)s” is not an event such as opened@2, "
                "answered:12=quote@3 or call:qualified@10."
            ) % {"name": name, "token": token[:40]}
            raise ValidationFailed(message, errors={"scenarios": [message]})
        event, arg = match["event"], match["arg"] or ""
        question, answer, outcome = None, None, ""
        if event == "answered" and arg:
            q, _sep, a = arg.partition("=")
            if not q.isdigit():
                message = _(
                    "Scenario “%(name)s”: write an answer as answered:<question id>=<answer>@<day>."
                ) % {"name": name}
                raise ValidationFailed(message, errors={"scenarios": [message]})
            question, answer = int(q), a or None
        if event in ("call", "call_outcome"):
            event, outcome = "call_outcome", arg
        events.append(
            SimEvent(event, float(match["day"]), question=question, answer=answer, outcome=outcome)
        )
    return Scenario(
        name=name[:80] or _("Scenario"), events=tuple(sorted(events, key=lambda e: e.at_day))
    )


@dataclass
class SimLead:
    label: str
    fields: dict[str, Any]
    events: tuple[SimEvent, ...] = ()
    lead_id: int | None = None


@dataclass
class SimFacts:
    lead: SimLead
    start: dt.datetime
    mails: list[dt.datetime] = field(default_factory=list)

    def leaving(self) -> str:
        status = str(self.lead.fields.get("status") or "nurturing")
        return "" if status == "nurturing" else status

    def field(self, name: str) -> Any:
        return self.lead.fields.get(name)

    def _mail_between(self, mails_since: dt.datetime, until: dt.datetime) -> bool:
        return any(mails_since <= sent <= until for sent in self.mails)

    def happened(
        self,
        condition: Condition,
        *,
        since: dt.datetime,
        until: dt.datetime,
        mails_since: dt.datetime,
    ) -> bool:
        for event in self.lead.events:
            at = event.at(self.start)
            if not since <= at <= until:
                continue
            kind = condition.event
            if kind in ("opened", "clicked", "bounced"):
                fits = event.event == kind or (kind == "opened" and event.event == "clicked")
                if fits and self._mail_between(mails_since, at):
                    return True
            elif kind == "answered" and event.event == "answered":
                if condition.question is None or (
                    event.question == condition.question
                    and (
                        condition.answer is None
                        or str(condition.answer).casefold() == (event.answer or "").casefold()
                    )
                ):
                    return True
            elif (kind == "unsubscribed" and event.event == "unsubscribed") or (
                kind == "call_outcome"
                and event.event == "call_outcome"
                and (not condition.outcomes or event.outcome in condition.outcomes)
            ):
                return True
        return False

    def unsubscribed_by(self, now: dt.datetime) -> bool:
        return any(e.event == "unsubscribed" and e.at(self.start) <= now for e in self.lead.events)


@dataclass
class SimActions:
    facts: SimFacts

    def run(self, step: Step, *, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        fields = self.facts.lead.fields
        if step.type in ("send_email", "send_survey"):
            if (
                self.facts.unsubscribed_by(now)
                or not fields.get("email")
                or not fields.get("may_mail", True)
            ):
                return "skipped", _("no marketing mail to this lead (no consent or suppressed)")
            self.facts.mails.append(now)
            return "queued", str(step.params["template"])
        if step.type == "add_to_call_list":
            return "added", str(step.params["call_list"])
        if step.type == "set_field":
            fields[step.params["field"]] = step.params["value"]
            return "set", f"{step.params['field']} = {step.params['value']}"
        if step.type == "set_status":
            fields["status"] = step.params["status"]
            return "set", str(step.params["status"])
        if step.type == "route_to_sales":
            fields["status"] = "sales_ready"
            return "routed", ""
        if step.type == "disqualify":
            fields["status"] = "disqualified"
            return "disqualified", str(step.params.get("reason") or "")
        if step.type == "notify":
            return "notified", str(step.params["user"])
        raise AssertionError(step.type)


@dataclass
class LeadRun:
    label: str
    lead_id: int | None
    path: list[Moved]
    ended: str
    outcome: str
    at_step: str


@dataclass
class Simulation:
    runs: list[LeadRun]
    # (step id, outcome) → how many leads; and each end → how many leads.
    branches: dict[tuple[str, str], int]
    endings: dict[str, int]


def run_lead(definition: Definition, lead: SimLead, *, start: dt.datetime, tz: ZoneInfo) -> LeadRun:
    facts = SimFacts(lead, start)
    actions = SimActions(facts)
    position = Position(step=definition.first, started_at=start)
    now = start
    path: list[Moved] = []
    wakes = sorted({e.at(start) for e in lead.events})
    while True:
        result = advance(definition, position, now=now, facts=facts, actions=actions, tz=tz)
        path.extend(result.path)
        if result.ended:
            return LeadRun(lead.label, lead.lead_id, path, result.ended, result.outcome, "")
        assert result.due_at is not None
        # Live, a recorded open, answer, bounce or call outcome nudges the lead's enrolment.
        upcoming = [at for at in wakes if now < at < result.due_at]
        now = upcoming[0] if upcoming else result.due_at
        if now - start > HORIZON:
            return LeadRun(lead.label, lead.lead_id, path, "", _("still waiting"), position.step)


def lead_fields(lead: Lead) -> dict[str, Any]:
    return {name: getattr(lead, name, None) for name in SIM_FIELDS}


def simulate(
    definition: Definition,
    leads: Iterable[SimLead],
    *,
    start: dt.datetime,
    tz: ZoneInfo,
) -> Simulation:
    runs = [run_lead(definition, lead, start=start, tz=tz) for lead in leads]
    branches: Counter[tuple[str, str]] = Counter()
    endings: Counter[str] = Counter()
    for run in runs:
        for moved in run.path:
            branches[(moved.step, moved.outcome)] += 1
        endings[run.outcome if run.ended else _("still waiting")] += 1
    return Simulation(runs=runs, branches=dict(branches), endings=dict(endings))


def scenario_leads(scenarios: Sequence[Scenario], base: Mapping[str, Any]) -> list[SimLead]:
    """One hypothetical lead per scenario, with the fields given (nurturing, with an address)."""
    fields = {"status": "nurturing", "email": "lead@example.com", **base}
    return [SimLead(label=s.name, fields=dict(fields), events=s.events) for s in scenarios]


def real_leads(leads: Iterable[Lead], scenario: Scenario | None) -> list[SimLead]:
    """Real leads with their own fields (and whether mail may go to them today), each doing
    what `scenario` says (nothing, if none)."""
    from leadloop.nurture.mail.services import sending

    events = scenario.events if scenario else ()
    return [
        SimLead(
            label=lead.full_name or f"#{lead.pk}",
            fields={
                **lead_fields(lead),
                "status": "nurturing",
                "may_mail": sending.may_send_to(lead),
            },
            events=events,
            lead_id=lead.pk,
        )
        for lead in leads
    ]
