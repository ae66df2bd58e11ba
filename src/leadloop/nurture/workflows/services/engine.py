"""The one engine that moves a lead through a workflow, live and in the simulator.

`advance` takes where a lead is (`Position`), the time, what is known about the lead (`Facts`)
and what the steps may do (`Actions`), and runs steps until one has to wait or the workflow
ends. Live, the facts come from the database and the actions are the real services
(`services.live`); in the simulator, both come from a scenario on a simulated clock
(`services.simulate`). Nothing else decides a step, so what the simulator shows is what happens.

A `wait_for` is decided from what happened between its start and its deadline: the "yes" exit
as soon as the event is on record, the "else" exit only once the deadline has passed, so "not
opened within 7 days" is never decided earlier, nor because a notification was missed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from leadloop.nurture.workflows.services.definition import (
    END,
    MAX_STEPS,
    Condition,
    Definition,
    Step,
)


class Undecided(Exception):
    """The facts are not all in yet (hits received but not yet judged): look again shortly."""


# How long a step whose facts are not all in waits before it looks again.
RECHECK = dt.timedelta(minutes=1)


class Facts(Protocol):
    def happened(
        self,
        condition: Condition,
        *,
        since: dt.datetime,
        until: dt.datetime,
        mails_since: dt.datetime,
    ) -> bool:
        """Whether the event of `condition` is on record between `since` and `until`; for mail
        events, of the marketing mails sent from `mails_since` on."""

    def field(self, name: str) -> Any:
        """The lead's value of `name` now."""

    def leaving(self) -> str:
        """Why the lead may not stay in the workflow ("" while it may)."""


class Actions(Protocol):
    def run(self, step: Step, *, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        """Do what an action step says; return (outcome, detail)."""


@dataclass
class Position:
    step: str
    started_at: dt.datetime
    waiting_since: dt.datetime | None = None
    wait_until: dt.datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Moved:
    """One step done or one branch taken: a row of the lead's path."""

    step: str
    kind: str
    outcome: str
    detail: str
    at: dt.datetime


@dataclass
class Result:
    position: Position
    due_at: dt.datetime | None  # None once the workflow ended
    ended: str = ""  # "", "finished" or "exited"
    outcome: str = ""
    path: list[Moved] = field(default_factory=list)


def wait_end(step: Step, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """When a `wait` step that starts `now` ends."""
    until = step.params.get("until")
    if not until:
        return now + step.wait_delta()
    hour, minute = (int(part) for part in until["time"].split(":"))
    weekdays = set(until.get("weekdays") or range(7))
    local = now.astimezone(tz)
    for offset in range(8):
        day = local.date() + dt.timedelta(days=offset)
        if day.weekday() not in weekdays:
            continue
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
        if moment >= local:
            return moment.astimezone(dt.UTC)
    raise AssertionError("a week holds every weekday")


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def compare(condition: Condition, actual: Any) -> bool:
    """A field condition against the lead's value (text compared without case)."""
    op, expected = condition.op, condition.value
    if op == "empty":
        return actual in (None, "")
    if op == "not_empty":
        return actual not in (None, "")
    if op in ("gte", "lte"):
        left, right = _number(actual), _number(expected)
        if left is None or right is None:
            return False
        return left >= right if op == "gte" else left <= right

    def norm(value: Any) -> str:
        return "" if value is None else str(value).strip().casefold()

    if op == "in":
        return norm(actual) in {norm(v) for v in expected}
    same = norm(actual) == norm(expected)
    return same if op == "eq" else not same


ENDING = frozenset({"route_to_sales", "disqualify", "set_status"})


def _since(position: Position, condition: Condition) -> dt.datetime:
    """From when a condition looks: the time its `since` step was done, else the enrolment."""
    done = position.data.get("done", {}).get(condition.since) if condition.since else None
    return dt.datetime.fromisoformat(done) if done else position.started_at


def _go(position: Position, target: str) -> None:
    position.step = target
    position.waiting_since = None
    position.wait_until = None


def advance(
    definition: Definition,
    position: Position,
    *,
    now: dt.datetime,
    facts: Facts,
    actions: Actions,
    tz: ZoneInfo,
) -> Result:
    """Run the lead's steps from `position` at `now` until one waits or the workflow ends."""
    path: list[Moved] = []
    # Steps without a wait never loop (the definition is refused), so this bounds one go.
    for _ in range(2 * MAX_STEPS + 2):
        if position.step == END:
            return Result(position, None, "finished", "finished", path)
        leaving = facts.leaving()
        if leaving:
            path.append(Moved(position.step, "exit", "left", leaving, now))
            return Result(position, None, "exited", leaving, path)
        step = definition.step(position.step)
        if step.type == "end":
            path.append(Moved(step.id, step.type, "finished", "", now))
            _go(position, END)
            continue
        if step.type == "wait":
            if position.wait_until is None:
                position.waiting_since = now
                position.wait_until = wait_end(step, now, tz)
            if now < position.wait_until:
                return Result(position, position.wait_until, path=path)
            path.append(Moved(step.id, step.type, "waited", "", now))
            _go(position, step.next)
            continue
        if step.type == "wait_for":
            assert step.condition is not None
            if position.wait_until is None:
                position.waiting_since = now
                position.wait_until = now + step.wait_delta()
            since, deadline = position.waiting_since or now, position.wait_until
            try:
                yes = facts.happened(
                    step.condition,
                    since=since,
                    until=min(now, deadline),
                    mails_since=_since(position, step.condition),
                )
            except Undecided:
                return Result(position, now + RECHECK, path=path)
            if yes:
                path.append(Moved(step.id, step.type, "yes", step.condition.event, now))
                _go(position, step.then)
            elif now >= deadline:
                path.append(Moved(step.id, step.type, "no", step.condition.event, now))
                _go(position, step.otherwise)
            else:
                return Result(position, deadline, path=path)
            continue
        if step.type == "branch":
            condition = step.condition
            assert condition is not None
            if condition.event:
                since = _since(position, condition)
                try:
                    yes = facts.happened(condition, since=since, until=now, mails_since=since)
                except Undecided:
                    return Result(position, now + RECHECK, path=path)
            else:
                yes = compare(condition, facts.field(condition.field))
            path.append(
                Moved(
                    step.id,
                    step.type,
                    "yes" if yes else "no",
                    condition.event or condition.field,
                    now,
                )
            )
            _go(position, step.then if yes else step.otherwise)
            continue
        outcome, detail = actions.run(step, data=position.data, now=now)
        path.append(Moved(step.id, step.type, outcome, detail, now))
        position.data.setdefault("done", {})[step.id] = now.isoformat()
        if step.type in ENDING and facts.leaving():
            # Routed to sales or disqualified: the workflow did its job.
            _go(position, END)
            return Result(position, None, "finished", step.type, path)
        _go(position, step.next)
    raise RuntimeError("a workflow ran too many steps in one go; its definition has a loop")
