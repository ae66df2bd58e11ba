"""Workflow pages (marketing, admins): the list, a workflow's steps as an ordered list edited
one step at a time (or as JSON), its trigger, versions, simulator, enrolments and leads' paths."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.permissions import Permission, can
from leadloop.errors import LeadloopError, NotFound
from leadloop.leads.selectors import list_sources
from leadloop.nurture.workflows import selectors
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.forms import (
    EVENT_LABELS,
    STEP_LABELS,
    TRIGGER_LABELS,
    AddStepForm,
    DefinitionForm,
    EnrollForm,
    NewWorkflowForm,
    SimulateForm,
    StepForm,
    TriggerForm,
    WorkflowForm,
)
from leadloop.nurture.workflows.models import Workflow
from leadloop.nurture.workflows.services import manage


def _manager(request: HttpRequest) -> Any:
    if not can(request.user, Permission.MANAGE_NURTURE):  # type: ignore[arg-type]
        raise PermissionDenied(_("Only marketing and admins manage workflows."))
    return request.user


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _workflow(request: HttpRequest, workflow_id: int) -> Workflow:
    try:
        return selectors.get_workflow_for(request.user, workflow_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404 from exc


def _sources(actor: Any) -> list[tuple[int, str]]:
    return list(list_sources(actor).values_list("pk", "name"))


@login_required
@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    return _render(
        request,
        "nurture/workflows/workflow_list.html",
        {"workflows": selectors.list_workflows(actor)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def workflow_create(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = NewWorkflowForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["start"] == "blank":
                created = workflows.create_workflow(
                    by=actor,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    definition={
                        "trigger": {"on": "manual"},
                        "steps": [{"id": "done", "type": "end"}],
                    },
                )
            else:
                created = workflows.create_from_template(
                    by=actor, template=form.cleaned_data["start"], name=form.cleaned_data["name"]
                )
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Workflow “%(name)s” created.") % {"name": created.name})
            return redirect("nurture:workflow-detail", workflow_id=created.pk)
    return _render(
        request,
        "nurture/workflows/workflow_create.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


def _summary(step: dict[str, Any]) -> str:
    kind = step.get("type")
    if kind == "wait":
        until = step.get("until")
        if until:
            days = ", ".join(
                str(label)
                for value, label in _weekdays()
                if int(value) in until.get("weekdays", [])
            )
            return _("until %(time)s %(days)s") % {"time": until["time"], "days": days}
        return _duration(step)
    if kind in ("send_email", "send_survey"):
        return str(step.get("template", ""))
    if kind in ("wait_for", "branch"):
        condition = step.get("if", {}) if kind == "branch" else step
        if condition.get("event"):
            text = str(EVENT_LABELS.get(condition["event"], condition["event"]))
            if condition.get("question"):
                text += f" (#{condition['question']}={condition.get('answer', '*')})"
            if condition.get("call_list"):
                outcomes = ", ".join(condition.get("outcomes", [])) or "*"
                text += f" ({condition['call_list']}: {outcomes})"
            if condition.get("since"):
                text += " " + _("since step “%(step)s”") % {"step": condition["since"]}
        else:
            parts = (condition.get("field"), condition.get("op"), condition.get("value", ""))
            text = " ".join(str(p) for p in parts if p not in (None, ""))
        if kind == "wait_for":
            text += ", " + _("at most %(time)s") % {"time": _duration(step)}
        return text
    if kind == "add_to_call_list":
        return str(step.get("call_list", ""))
    if kind == "set_field":
        return f"{step.get('field')} = {step.get('value', '')}"
    if kind == "set_status":
        return str(step.get("status", ""))
    if kind == "disqualify":
        return str(step.get("reason", ""))
    if kind == "notify":
        return f"{step.get('user')}: {step.get('message', '')}"
    return ""


def _weekdays() -> list[tuple[str, Any]]:
    from leadloop.nurture.workflows.forms import WEEKDAYS

    return WEEKDAYS


def _duration(step: dict[str, Any]) -> str:
    parts = []
    if step.get("days"):
        parts.append(_("%(n)d days") % {"n": step["days"]})
    if step.get("hours"):
        parts.append(_("%(n)d hours") % {"n": step["hours"]})
    if step.get("minutes"):
        parts.append(_("%(n)d minutes") % {"n": step["minutes"]})
    return ", ".join(parts)


def _step_rows(workflow: Workflow, definition: dict[str, Any], actor: Any) -> list[dict[str, Any]]:
    here = selectors.counts_by_step(actor, workflow)
    outcomes = selectors.counts_by_outcome(actor, workflow)
    rows = []
    for index, step in enumerate(definition.get("steps", [])):
        kind = step.get("type", "")
        if kind in ("wait_for", "branch"):
            exits = [(_("yes"), step.get("then")), (_("no"), step.get("else"))]
        elif kind == "end":
            exits = []
        else:
            exits = [("", step.get("next"))]
        rows.append(
            {
                "number": index + 1,
                "id": step.get("id"),
                "type": kind,
                "label": STEP_LABELS.get(kind, kind),
                "summary": _summary(step),
                "exits": exits,
                "branches": kind in ("wait_for", "branch"),
                "here": here.get(step.get("id"), 0),
                "outcomes": sorted(
                    (outcome, n) for (sid, outcome), n in outcomes.items() if sid == step.get("id")
                ),
            }
        )
    return rows


def _detail_context(request: HttpRequest, workflow: Workflow, **extra: Any) -> dict[str, Any]:
    actor = request.user
    version = selectors.latest_version(actor, workflow)  # type: ignore[arg-type]
    definition = version.definition
    trigger = definition.get("trigger", {})
    return {
        "workflow": workflow,
        "version": version,
        "steps": _step_rows(workflow, definition, actor),
        "trigger_label": TRIGGER_LABELS.get(trigger.get("on", "manual")),
        "trigger_form": extra.pop("trigger_form", None)
        or TriggerForm(initial=TriggerForm.initial_for(trigger), sources=_sources(actor)),
        "definition_form": extra.pop("definition_form", None)
        or DefinitionForm(initial=DefinitionForm.initial_for(definition)),
        "add_form": AddStepForm(),
        "simulate_form": extra.pop("simulate_form", None) or SimulateForm(),
        "enroll_form": extra.pop("enroll_form", None) or EnrollForm(sources=_sources(actor)),
        "versions": selectors.list_versions(actor, workflow),  # type: ignore[arg-type]
        "by_state": selectors.counts_by_state(actor, workflow),  # type: ignore[arg-type]
        "enrollments": selectors.list_enrollments(actor, workflow, limit=25),  # type: ignore[arg-type]
        "step_labels": list(STEP_LABELS.items()),
        "is_frozen": version.activated_at is not None,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def workflow_detail(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = WorkflowForm(
        request.POST or None,
        initial={"name": workflow.name, "description": workflow.description},
    )
    if request.method == "POST" and form.is_valid():
        try:
            workflows.rename_workflow(
                workflow,
                by=actor,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Workflow saved."))
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    return _render(
        request,
        "nurture/workflows/workflow_detail.html",
        _detail_context(request, workflow, form=form),
        status=422 if form.errors else 200,
    )


def _after_change(
    request: HttpRequest, workflow: Workflow, error: LeadloopError | None
) -> HttpResponse:
    """Back to the workflow page: the error on top (the step it names), or a saved message."""
    if error is not None:
        messages.error(request, error.detail)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_activate(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    try:
        version = workflows.activate(workflow, by=actor)
    except LeadloopError as exc:
        return _after_change(request, workflow, exc)
    messages.success(
        request, _("Version %(number)d is active: new leads enter it.") % {"number": version.number}
    )
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_pause(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    try:
        workflows.pause(workflow, by=actor)
    except LeadloopError as exc:
        return _after_change(request, workflow, exc)
    messages.success(request, _("Paused: no lead enters and no step runs until you activate it."))
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_trigger(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = TriggerForm(request.POST, sources=_sources(actor))
    if form.is_valid():
        try:
            workflows.set_trigger(workflow, by=actor, trigger=form.trigger())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Trigger saved."))
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    return _render(
        request,
        "nurture/workflows/workflow_detail.html",
        _detail_context(
            request, workflow, form=WorkflowForm(initial={"name": workflow.name}), trigger_form=form
        ),
        status=422,
    )


@login_required
@require_POST
def workflow_definition(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = DefinitionForm(request.POST)
    if form.is_valid():
        try:
            version = workflows.save_definition(
                workflow,
                by=actor,
                definition=form.cleaned_data["definition"],
                note=form.cleaned_data["note"],
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request, _("Saved as version %(number)d.") % {"number": version.number}
            )
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    return _render(
        request,
        "nurture/workflows/workflow_detail.html",
        _detail_context(
            request,
            workflow,
            form=WorkflowForm(initial={"name": workflow.name}),
            definition_form=form,
            open_json=True,
        ),
        status=422,
    )


def _step_form(
    request: HttpRequest, workflow: Workflow, step: dict[str, Any], data: Any = None
) -> StepForm:
    version = selectors.latest_version(request.user, workflow)  # type: ignore[arg-type]
    step_ids = [s["id"] for s in version.definition.get("steps", []) if s["id"] != step["id"]]
    return StepForm(
        data,
        initial=StepForm.initial_for(step),
        step_type=step["type"],
        step_ids=step_ids,
        templates=manage.template_names(survey=step["type"] == "send_survey"),
        call_lists=manage.call_list_names(),
        prefix="step",
    )


def _find_step(request: HttpRequest, workflow: Workflow, step_id: str) -> dict[str, Any]:
    version = selectors.latest_version(request.user, workflow)  # type: ignore[arg-type]
    for step in version.definition.get("steps", []):
        if step.get("id") == step_id:
            return dict(step)
    raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request: HttpRequest, workflow_id: int, step_id: str) -> HttpResponse:
    """One step's form: shown in place in the list (HTMX), or as a page without JavaScript."""
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    step = _find_step(request, workflow, step_id)
    form = _step_form(request, workflow, step, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            workflows.edit_step(workflow, by=actor, step_id=step_id, values=form.step_values())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Step saved."))
            if _is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("nurture:workflow-detail", args=[workflow.pk])
                return response
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    template = (
        "nurture/workflows/_step_form.html"
        if _is_htmx(request)
        else "nurture/workflows/step_edit.html"
    )
    return _render(
        request,
        template,
        {"workflow": workflow, "step": step, "label": STEP_LABELS.get(step["type"]), "form": form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def step_add(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = AddStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a kind of step."))
        return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    try:
        workflows.add_step(
            workflow,
            by=actor,
            step_type=form.cleaned_data["step_type"],
            after=form.cleaned_data["after"] or "",
            exit=form.cleaned_data["exit"] or "next",
        )
    except LeadloopError as exc:
        return _after_change(request, workflow, exc)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def step_move(request: HttpRequest, workflow_id: int, step_id: str) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    try:
        workflows.move_step(
            workflow, by=actor, step_id=step_id, up=request.POST.get("direction") == "up"
        )
    except LeadloopError as exc:
        return _after_change(request, workflow, exc)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def step_remove(request: HttpRequest, workflow_id: int, step_id: str) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    try:
        workflows.remove_step(workflow, by=actor, step_id=step_id)
    except LeadloopError as exc:
        return _after_change(request, workflow, exc)
    messages.success(request, _("Step removed."))
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_simulate(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """Run the latest version on a simulated clock; the result replaces the form's panel."""
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = SimulateForm(request.POST)
    result = None
    if form.is_valid():
        try:
            result = workflows.simulate_workflow(
                by=actor,
                definition=selectors.latest_version(actor, workflow).definition,
                scenarios=form.scenario_rows(),
                sample=form.cleaned_data.get("sample") or 0,
                sample_scenario=form.cleaned_data.get("sample_scenario") or "",
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
    context = {"workflow": workflow, "simulate_form": form, "result": result}
    if _is_htmx(request):
        return _render(
            request,
            "nurture/workflows/_simulation.html",
            context,
            status=422 if form.errors else 200,
        )
    return _render(
        request,
        "nurture/workflows/workflow_detail.html",
        _detail_context(
            request, workflow, form=WorkflowForm(initial={"name": workflow.name}), **context
        ),
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def workflow_enroll(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    form = EnrollForm(request.POST, sources=_sources(actor))
    if form.is_valid():
        try:
            counts = workflows.enroll_matching(
                workflow, by=actor, q=form.cleaned_data["q"], source=form.cleaned_data["source"]
            )
        except LeadloopError as exc:
            return _after_change(request, workflow, exc)
        messages.success(
            request,
            _("%(enrolled)d leads enrolled; %(skipped)d were in it already or not nurturing.")
            % counts,
        )
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_GET
def enrollment_detail(request: HttpRequest, workflow_id: int, enrollment_id: int) -> HttpResponse:
    actor = _manager(request)
    workflow = _workflow(request, workflow_id)
    try:
        enrollment = selectors.get_enrollment_for(actor, workflow, enrollment_id)
    except NotFound as exc:
        raise Http404 from exc
    return _render(
        request,
        "nurture/workflows/enrollment_detail.html",
        {"workflow": workflow, "enrollment": enrollment, "path": selectors.path_of(enrollment)},
    )
