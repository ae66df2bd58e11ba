"""Workflow pages (marketing, admins): the list, a workflow's page with its steps in order, its
trigger, versions, JSON, simulator and enrolments, and a lead's path."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.errors import LeadloopError, NotFound
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
    TriggerForm,
    WorkflowForm,
)
from leadloop.nurture.workflows.models import Workflow
from leadloop.nurture.workflows.views.common import (
    after_change,
    is_htmx,
    manager_of,
    render_page,
    source_choices,
    workflow_of,
)


@login_required
@require_GET
def workflow_list(request: HttpRequest) -> HttpResponse:
    actor = manager_of(request)
    return render_page(
        request,
        "nurture/workflows/workflow_list.html",
        {"workflows": selectors.list_workflows(actor)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def workflow_create(request: HttpRequest) -> HttpResponse:
    actor = manager_of(request)
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
    return render_page(
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
        or TriggerForm(initial=TriggerForm.initial_for(trigger), sources=source_choices(actor)),
        "definition_form": extra.pop("definition_form", None)
        or DefinitionForm(initial=DefinitionForm.initial_for(definition)),
        "add_form": AddStepForm(),
        "simulate_form": extra.pop("simulate_form", None) or SimulateForm(),
        "enroll_form": extra.pop("enroll_form", None) or EnrollForm(sources=source_choices(actor)),
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
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
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
    return render_page(
        request,
        "nurture/workflows/workflow_detail.html",
        _detail_context(request, workflow, form=form),
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def workflow_activate(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    try:
        version = workflows.activate(workflow, by=actor)
    except LeadloopError as exc:
        return after_change(request, workflow, exc)
    messages.success(
        request, _("Version %(number)d is active: new leads enter it.") % {"number": version.number}
    )
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_pause(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    try:
        workflows.pause(workflow, by=actor)
    except LeadloopError as exc:
        return after_change(request, workflow, exc)
    messages.success(request, _("Paused: no lead enters and no step runs until you activate it."))
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def workflow_trigger(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    form = TriggerForm(request.POST, sources=source_choices(actor))
    if form.is_valid():
        try:
            workflows.set_trigger(workflow, by=actor, trigger=form.trigger())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Trigger saved."))
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    return render_page(
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
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
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
    return render_page(
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


@login_required
@require_POST
def workflow_simulate(request: HttpRequest, workflow_id: int) -> HttpResponse:
    """Run the latest version on a simulated clock; the result replaces the form's panel."""
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
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
    if is_htmx(request):
        return render_page(
            request,
            "nurture/workflows/_simulation.html",
            context,
            status=422 if form.errors else 200,
        )
    return render_page(
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
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    form = EnrollForm(request.POST, sources=source_choices(actor))
    if form.is_valid():
        try:
            counts = workflows.enroll_matching(
                workflow, by=actor, q=form.cleaned_data["q"], source=form.cleaned_data["source"]
            )
        except LeadloopError as exc:
            return after_change(request, workflow, exc)
        messages.success(
            request,
            _("%(enrolled)d leads enrolled; %(skipped)d were in it already or not nurturing.")
            % counts,
        )
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_GET
def enrollment_detail(request: HttpRequest, workflow_id: int, enrollment_id: int) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    try:
        enrollment = selectors.get_enrollment_for(actor, workflow, enrollment_id)
    except NotFound as exc:
        raise Http404 from exc
    return render_page(
        request,
        "nurture/workflows/enrollment_detail.html",
        {"workflow": workflow, "enrollment": enrollment, "path": selectors.path_of(enrollment)},
    )
