"""A workflow's definition: its trigger and steps as JSON, read and checked before saving.

    {"trigger": {"on": "nurturing", "sources": [3], "conditions": [...]},
     "steps": [
        {"id": "brochure", "type": "send_email", "template": "Brochure"},
        {"id": "week", "type": "wait", "days": 7},
        {"id": "opened", "type": "wait_for", "event": "opened", "days": 7,
         "then": "call", "else": "discard"},
        ...]}

Steps run in list order; a step goes to the next one unless it names `next`, and a `branch` or
`wait_for` goes to `then` or `else` (a step id, or "end"). The last step, or `end`, ends the
workflow. `parse` refuses, naming the step, a definition with an unknown step type or a missing
setting, a jump to a step that does not exist, a branch without both exits, a step no path
reaches, or a loop in which nothing waits (which would run forever in one go).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from leadloop.errors import ValidationFailed

END = "end"

WAITS = frozenset({"wait", "wait_for"})
BRANCHES = frozenset({"branch", "wait_for"})
STEP_TYPES = (
    "wait",
    "send_email",
    "send_survey",
    "wait_for",
    "branch",
    "add_to_call_list",
    "set_field",
    "set_status",
    "route_to_sales",
    "disqualify",
    "notify",
    "end",
)
EVENTS = ("opened", "clicked", "answered", "bounced", "unsubscribed", "call_outcome")
# What a `wait_for` can wait for: a thing that happens (an unsubscribe ends the mail, not a wait).
WAIT_EVENTS = ("opened", "clicked", "answered", "bounced", "call_outcome")
OPERATORS = ("eq", "ne", "in", "empty", "not_empty", "gte", "lte")
TRIGGERS = ("nurturing", "created", "manual")
# Statuses a workflow may set: the ones marketing owns (sales-ready goes through route_to_sales).
SETTABLE_STATUSES = ("nurturing", "disqualified")
# Lead fields a workflow may fill or test (what a survey may fill, and BANT).
FIELDS = (
    "bant_budget",
    "bant_authority",
    "bant_need",
    "bant_timeframe",
    "job_title",
    "company_name",
    "city",
    "postal_code",
    "country",
    "language",
    "status",
    "fit_grade",
    "engagement_score",
    "priority",
    "email",
    "phone_e164",
    "source_id",
    "utm_campaign",
)
SETTABLE_FIELDS = frozenset(
    {"bant_budget", "bant_authority", "bant_need", "bant_timeframe", "job_title", "company_name"}
)
BANT_VALUES = ("met", "not_met", "")
MAX_STEPS = 60
MAX_WAIT_DAYS = 400
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Condition:
    """A test on the lead: an event since the step began, or a field's value."""

    event: str = ""
    field: str = ""
    op: str = "eq"
    value: Any = None
    # `answered`: which question and answer (a choice key or a value); any answer when empty.
    question: int | None = None
    answer: Any = None
    # `call_outcome`: which call list, and which final outcomes count.
    call_list: str = ""
    outcomes: tuple[str, ...] = ()
    # Count only what happened since this step was done (say, the survey mail was sent).
    since: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.event:
            out["event"] = self.event
            if self.question is not None:
                out["question"] = self.question
            if self.answer is not None:
                out["answer"] = self.answer
            if self.call_list:
                out["call_list"] = self.call_list
            if self.outcomes:
                out["outcomes"] = list(self.outcomes)
            if self.since:
                out["since"] = self.since
        else:
            out.update(field=self.field, op=self.op)
            if self.op not in ("empty", "not_empty"):
                out["value"] = self.value
        return out


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    next: str = ""
    then: str = ""
    otherwise: str = ""
    condition: Condition | None = None

    @property
    def exits(self) -> tuple[str, ...]:
        if self.type in BRANCHES:
            return (self.then, self.otherwise)
        return (self.next,)

    def wait_delta(self) -> dt.timedelta:
        p = self.params
        return dt.timedelta(
            days=int(p.get("days") or 0),
            hours=int(p.get("hours") or 0),
            minutes=int(p.get("minutes") or 0),
        )


@dataclass(frozen=True)
class Trigger:
    on: str = "manual"
    sources: tuple[int, ...] = ()
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Definition:
    trigger: Trigger
    steps: tuple[Step, ...]

    @property
    def first(self) -> str:
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def names(self, kind: str) -> set[str]:
        """Templates, call lists or users the steps name (checked against the database)."""
        key = {"template": "template", "call_list": "call_list", "user": "user"}[kind]
        found = {str(s.params[key]) for s in self.steps if s.params.get(key)}
        if kind == "call_list":
            found |= {
                s.condition.call_list for s in self.steps if s.condition and s.condition.call_list
            }
        return found


def _fail(step: str, message: str) -> ValidationFailed:
    text = (
        _("Step “%(step)s”: %(message)s") % {"step": step, "message": message} if step else message
    )
    return ValidationFailed(text, errors={"definition": [text]})


def _int(raw: Any, *, step: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _fail(step, _("%(name)s must be a whole number.") % {"name": name}) from None
    if not low <= value <= high:
        raise _fail(
            step,
            _("%(name)s must be between %(low)d and %(high)d.")
            % {"name": name, "low": low, "high": high},
        )
    return value


def _duration(raw: Mapping[str, Any], *, step: str, required: bool) -> dict[str, int]:
    out = {}
    for unit, high in (("days", MAX_WAIT_DAYS), ("hours", 24 * 31), ("minutes", 60 * 24)):
        if raw.get(unit) not in (None, "", 0, "0"):
            out[unit] = _int(raw[unit], step=step, name=unit, low=0, high=high)
    if required and not any(out.values()):
        raise _fail(step, _("say how long to wait (days, hours or minutes)."))
    return out


def _condition(raw: Any, *, step: str, waiting: bool) -> Condition:
    if not isinstance(raw, Mapping):
        raise _fail(step, _("the condition is missing."))
    events = WAIT_EVENTS if waiting else EVENTS
    if raw.get("event"):
        event = str(raw["event"])
        if event not in events:
            raise _fail(step, _("unknown event “%(event)s”.") % {"event": event[:40]})
        question = raw.get("question")
        outcomes = raw.get("outcomes") or ()
        if isinstance(outcomes, str):
            outcomes = [outcomes]
        if event == "call_outcome" and not raw.get("call_list"):
            raise _fail(step, _("name the call list whose outcome counts."))
        return Condition(
            event=event,
            question=_int(question, step=step, name="question", low=1, high=2**31)
            if question not in (None, "")
            else None,
            answer=raw.get("answer") if raw.get("answer") not in ("",) else None,
            call_list=str(raw.get("call_list") or "")[:120],
            outcomes=tuple(str(o)[:40] for o in outcomes),
            since=str(raw.get("since") or "")[:40],
        )
    name = str(raw.get("field") or "")
    if name not in FIELDS:
        raise _fail(
            step,
            _("test an event or one of the lead fields %(fields)s.")
            % {"fields": ", ".join(FIELDS)},
        )
    op = str(raw.get("op") or "eq")
    if op not in OPERATORS:
        raise _fail(step, _("unknown comparison “%(op)s”.") % {"op": op[:20]})
    value = raw.get("value")
    if op == "in" and not isinstance(value, list):
        raise _fail(step, _("“in” needs a list of values."))
    if op in ("eq", "ne", "gte", "lte") and value in (None, ""):
        raise _fail(step, _("the comparison needs a value."))
    return Condition(field=name, op=op, value=value)


def _step(raw: Any, index: int) -> Step:
    if not isinstance(raw, Mapping):
        raise _fail(f"#{index + 1}", _("a step is an object with an id and a type."))
    step_id = str(raw.get("id") or "").strip()
    if not _ID.match(step_id) or step_id == END:
        raise _fail(
            step_id or f"#{index + 1}",
            _("an id is 1–40 lower-case letters, digits, - or _ (and not “end”)."),
        )
    kind = str(raw.get("type") or "")
    if kind not in STEP_TYPES:
        raise _fail(step_id, _("unknown step type “%(type)s”.") % {"type": kind[:40]})
    params: dict[str, Any] = {}
    condition = None
    if kind == "wait":
        if raw.get("until"):
            until = raw["until"]
            if not isinstance(until, Mapping) or not _TIME.match(str(until.get("time") or "")):
                raise _fail(step_id, _("“until” needs a time as HH:MM."))
            days = until.get("weekdays") or []
            if not isinstance(days, list) or not all(str(d) in "0123456" for d in days if d != ""):
                raise _fail(step_id, _("weekdays are numbers 0 (Monday) to 6 (Sunday)."))
            params["until"] = {
                "time": str(until["time"]),
                "weekdays": sorted({int(d) for d in days}),
            }
        else:
            params.update(_duration(raw, step=step_id, required=True))
    elif kind in ("send_email", "send_survey"):
        if not str(raw.get("template") or "").strip():
            raise _fail(step_id, _("name the e-mail template to send."))
        params["template"] = str(raw["template"]).strip()[:100]
    elif kind == "wait_for":
        params.update(_duration(raw, step=step_id, required=True))
        condition = _condition(raw, step=step_id, waiting=True)
    elif kind == "branch":
        condition = _condition(raw.get("if"), step=step_id, waiting=False)
    elif kind == "add_to_call_list":
        if not str(raw.get("call_list") or "").strip():
            raise _fail(step_id, _("name the call list."))
        params["call_list"] = str(raw["call_list"]).strip()[:120]
    elif kind == "set_field":
        if raw.get("field") not in SETTABLE_FIELDS:
            raise _fail(
                step_id,
                _("a workflow may set %(fields)s.")
                % {"fields": ", ".join(sorted(SETTABLE_FIELDS))},
            )
        params["field"] = str(raw["field"])
        params["value"] = str(raw.get("value") or "")[:200]
        if params["field"].startswith("bant_") and params["value"] not in BANT_VALUES:
            raise _fail(step_id, _("a BANT answer is “met”, “not_met” or empty."))
    elif kind == "set_status":
        if raw.get("status") not in SETTABLE_STATUSES:
            raise _fail(
                step_id,
                _("a workflow may set the status to %(statuses)s; use “route to sales” for sales.")
                % {"statuses": ", ".join(SETTABLE_STATUSES)},
            )
        params["status"] = str(raw["status"])
    elif kind == "disqualify":
        params["reason"] = str(raw.get("reason") or "")[:200]
    elif kind == "notify":
        if not str(raw.get("user") or "").strip():
            raise _fail(step_id, _("name the user to notify."))
        params["user"] = str(raw["user"]).strip()[:150]
        params["message"] = str(raw.get("message") or "")[:300]
    step = Step(
        id=step_id,
        type=kind,
        params=params,
        next=str(raw.get("next") or ""),
        then=str(raw.get("then") or ""),
        otherwise=str(raw.get("else") or ""),
        condition=condition,
    )
    if kind in BRANCHES and not (step.then and step.otherwise):
        raise _fail(step_id, _("a branch needs both exits: “then” and “else”."))
    return step


def _resolve_fallthrough(steps: list[Step]) -> list[Step]:
    """Give each step its explicit next: the following step, or the end after the last one."""
    out = []
    for index, step in enumerate(steps):
        if step.type == "end":
            out.append(Step(step.id, step.type, step.params, next=END))
        elif step.type not in BRANCHES and not step.next:
            following = steps[index + 1].id if index + 1 < len(steps) else END
            out.append(
                Step(
                    step.id,
                    step.type,
                    step.params,
                    following,
                    step.then,
                    step.otherwise,
                    step.condition,
                )
            )
        else:
            out.append(step)
    return out


def _check_graph(steps: list[Step]) -> None:
    ids = [step.id for step in steps]
    by_id = {step.id: step for step in steps}
    for step in steps:
        if step.condition is not None and step.condition.since not in ("", *by_id):
            raise _fail(
                step.id,
                _("counts from “%(since)s”, which is not a step.")
                % {"since": step.condition.since},
            )
        for target in step.exits:
            if target != END and target not in by_id:
                raise _fail(
                    step.id,
                    _("goes to “%(target)s”, which is not a step.") % {"target": target[:40]},
                )
    reached = {ids[0]}
    todo = [ids[0]]
    while todo:
        for target in by_id[todo.pop()].exits:
            if target != END and target not in reached:
                reached.add(target)
                todo.append(target)
    for step_id in ids:
        if step_id not in reached:
            raise _fail(step_id, _("no path leads to this step."))
    # A loop is fine when something in it waits; without, it would run forever in one go.
    state: dict[str, int] = {}

    def visit(step_id: str) -> str | None:
        state[step_id] = 1
        for target in by_id[step_id].exits:
            if target == END or by_id[target].type in WAITS:
                continue
            if state.get(target) == 1:
                return target
            if not state.get(target):
                found = visit(target)
                if found:
                    return found
        state[step_id] = 2
        return None

    for step in steps:
        if step.type not in WAITS and not state.get(step.id):
            looped = visit(step.id)
            if looped:
                raise _fail(looped, _("is part of a loop with no wait in it."))


def _trigger(raw: Any) -> Trigger:
    raw = raw if isinstance(raw, Mapping) else {}
    on = str(raw.get("on") or "manual")
    if on not in TRIGGERS:
        raise _fail("", _("Unknown trigger “%(on)s”.") % {"on": on[:40]})
    sources = raw.get("sources") or []
    if not isinstance(sources, list):
        raise _fail("", _("The trigger's sources are a list of source ids."))
    try:
        source_ids = tuple(sorted({int(s) for s in sources}))
    except (TypeError, ValueError):
        raise _fail("", _("The trigger's sources are a list of source ids.")) from None
    conditions = raw.get("conditions") or []
    if not isinstance(conditions, list):
        raise _fail("", _("The trigger's conditions are a list."))
    parsed = []
    for item in conditions:
        condition = _condition(item, step=_("trigger"), waiting=False)
        if condition.event:
            raise _fail(_("trigger"), _("a trigger tests lead fields, not events."))
        parsed.append(condition)
    return Trigger(on=on, sources=source_ids, conditions=tuple(parsed))


def parse(raw: Any) -> Definition:
    """The definition in `raw` (JSON-like), or ValidationFailed naming the step at fault."""
    if not isinstance(raw, Mapping):
        raise _fail("", _("A workflow definition is an object with a trigger and steps."))
    items = raw.get("steps")
    if not isinstance(items, list) or not items:
        raise _fail("", _("A workflow needs at least one step."))
    if len(items) > MAX_STEPS:
        raise _fail("", _("A workflow has at most %(count)d steps.") % {"count": MAX_STEPS})
    steps = [_step(item, index) for index, item in enumerate(items)]
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            raise _fail(step.id, _("two steps have this id."))
        seen.add(step.id)
    steps = _resolve_fallthrough(steps)
    _check_graph(steps)
    return Definition(trigger=_trigger(raw.get("trigger")), steps=tuple(steps))


def as_json(definition: Definition) -> dict[str, Any]:
    """The stored form: explicit exits, so a version reads the same however it was edited."""
    steps = []
    for step in definition.steps:
        item: dict[str, Any] = {"id": step.id, "type": step.type, **step.params}
        if step.type in BRANCHES:
            item["then"], item["else"] = step.then, step.otherwise
        elif step.type != "end":
            item["next"] = step.next
        if step.condition is not None:
            if step.type == "branch":
                item["if"] = step.condition.as_json()
            else:
                item.update(step.condition.as_json())
        steps.append(item)
    trigger: dict[str, Any] = {"on": definition.trigger.on}
    if definition.trigger.sources:
        trigger["sources"] = list(definition.trigger.sources)
    if definition.trigger.conditions:
        trigger["conditions"] = [c.as_json() for c in definition.trigger.conditions]
    return {"trigger": trigger, "steps": steps}
