"""Editing a workflow one step at a time, as its page does: add a step after another (on a
branch's yes or no exit), change, move or remove one, set the trigger. Each change is saved
through `manage.save_definition`, so it is checked like any other save."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.errors import ValidationFailed
from leadloop.nurture.mail.models import MarketingTemplate
from leadloop.nurture.workflows.models import (
    Workflow,
    WorkflowVersion,
)
from leadloop.nurture.workflows.services.manage import _check, latest_version, save_definition

STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "wait": {"days": 1},
    "send_email": {"template": ""},
    "send_survey": {"template": ""},
    "wait_for": {"event": "opened", "days": 7, "then": "end", "else": "end"},
    "branch": {"if": {"event": "opened"}, "then": "end", "else": "end"},
    "add_to_call_list": {"call_list": ""},
    "set_field": {"field": "bant_need", "value": "met"},
    "set_status": {"status": "nurturing"},
    "route_to_sales": {},
    "disqualify": {"reason": ""},
    "notify": {"user": ""},
    "end": {},
}


def _steps_of(workflow: Workflow) -> list[dict[str, Any]]:
    return [dict(step) for step in latest_version(workflow).definition.get("steps", [])]


def _trigger_of(workflow: Workflow) -> dict[str, Any]:
    return dict(latest_version(workflow).definition.get("trigger") or {"on": "manual"})


def _index(steps: list[dict[str, Any]], step_id: str) -> int:
    for index, step in enumerate(steps):
        if step.get("id") == step_id:
            return index
    raise ValidationFailed(_("No step “%(step)s”.") % {"step": step_id[:40]})


def _first_name(by: Actor, step_type: str) -> dict[str, Any]:
    """Sensible first values of a new step: the first active template, call list, or the user."""
    values = dict(STEP_DEFAULTS[step_type])
    if step_type in ("send_email", "send_survey"):
        templates = MarketingTemplate.objects.filter(is_active=True)
        if step_type == "send_survey":
            templates = templates.filter(survey__isnull=False)
        values["template"] = templates.order_by("name").values_list("name", flat=True).first() or ""
    elif step_type == "add_to_call_list":
        from leadloop.nurture.calls import selectors as calls

        values["call_list"] = calls.first_call_list_name() or ""
    elif step_type == "notify":
        values["user"] = by.username if isinstance(by, User) else ""
    return values


def _new_id(steps: list[dict[str, Any]], step_type: str) -> str:
    taken = {step.get("id") for step in steps}
    base = step_type.replace("_", "-")[:30]
    for n in range(1, 1000):
        candidate = f"{base}-{n}"
        if candidate not in taken:
            return candidate
    raise ValidationFailed(_("Too many steps."))


def add_step(
    workflow: Workflow, *, by: Actor, step_type: str, after: str = "", exit: str = "next"
) -> WorkflowVersion:
    """Insert a step of `step_type` after the step `after` (on its `then` or `else` exit for a
    branch), or first; the step after it follows the new one."""
    _check(by)
    if step_type not in STEP_DEFAULTS:
        raise ValidationFailed(_("Unknown step type."), errors={"type": [step_type[:40]]})
    steps = _steps_of(workflow)
    new: dict[str, Any] = {"id": _new_id(steps, step_type), "type": step_type}
    new.update(_first_name(by, step_type))
    if not after:
        new.setdefault("next", steps[0]["id"] if steps else "end")
        if step_type in ("wait_for", "branch"):
            new["else"] = steps[0]["id"] if steps else "end"
        steps.insert(0, new)
    else:
        index = _index(steps, after)
        previous = steps[index]
        key = (
            exit
            if exit in ("then", "else") and previous.get("type") in ("wait_for", "branch")
            else "next"
        )
        following = previous.get(key) or "end"
        previous[key] = new["id"]
        if step_type in ("wait_for", "branch"):
            new["then"], new["else"] = following, following
        elif step_type != "end":
            new["next"] = following
        steps.insert(index + 1, new)
    return save_definition(
        workflow, by=by, definition={"trigger": _trigger_of(workflow), "steps": steps}
    )


def edit_step(
    workflow: Workflow, *, by: Actor, step_id: str, values: Mapping[str, Any]
) -> WorkflowVersion:
    """Replace a step's settings (its type stays; renaming its id moves the jumps to it)."""
    _check(by)
    steps = _steps_of(workflow)
    index = _index(steps, step_id)
    step_type = steps[index]["type"]
    new_id = str(values.get("id") or step_id).strip()
    replaced = {k: v for k, v in values.items() if v not in (None, "", [])}
    replaced.update(id=new_id, type=step_type)
    steps[index] = replaced
    if new_id != step_id:
        for step in steps:
            for key in ("next", "then", "else"):
                if step.get(key) == step_id:
                    step[key] = new_id
            condition = step.get("if") if step.get("type") == "branch" else step
            if isinstance(condition, dict) and condition.get("since") == step_id:
                condition["since"] = new_id
    return save_definition(
        workflow, by=by, definition={"trigger": _trigger_of(workflow), "steps": steps}
    )


def move_step(workflow: Workflow, *, by: Actor, step_id: str, up: bool) -> WorkflowVersion:
    """Move a step up or down the list; the jumps stay as they are (only the order changes, and
    the first step, where leads start)."""
    _check(by)
    steps = _steps_of(workflow)
    index = _index(steps, step_id)
    other = index - 1 if up else index + 1
    if 0 <= other < len(steps):
        steps[index], steps[other] = steps[other], steps[index]
    return save_definition(
        workflow, by=by, definition={"trigger": _trigger_of(workflow), "steps": steps}
    )


def remove_step(workflow: Workflow, *, by: Actor, step_id: str) -> WorkflowVersion:
    """Take a step out; jumps to it go where it went (a branch's `then`). Refused when that
    leaves the workflow without steps or with a step no path reaches."""
    _check(by)
    steps = _steps_of(workflow)
    index = _index(steps, step_id)
    gone = steps.pop(index)
    onward = gone.get("next") or gone.get("then") or "end"
    for step in steps:
        for key in ("next", "then", "else"):
            if step.get(key) == step_id:
                step[key] = onward
    return save_definition(
        workflow, by=by, definition={"trigger": _trigger_of(workflow), "steps": steps}
    )


def set_trigger(workflow: Workflow, *, by: Actor, trigger: Mapping[str, Any]) -> WorkflowVersion:
    _check(by)
    return save_definition(
        workflow, by=by, definition={"trigger": dict(trigger), "steps": _steps_of(workflow)}
    )


def template_names(*, survey: bool = False) -> list[str]:
    """Names of active marketing templates (with a survey link, for a survey step)."""
    query = MarketingTemplate.objects.filter(is_active=True)
    if survey:
        query = query.filter(survey__isnull=False)
    return sorted(set(query.values_list("name", flat=True)))


def call_list_names() -> list[str]:
    from leadloop.nurture.calls import selectors as calls

    return calls.call_list_names()
