"""Editing a workflow's steps one at a time: a step's form (in place over HTMX, or a page of its
own without JavaScript), adding one after another, moving and removing one."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from leadloop.errors import LeadloopError
from leadloop.nurture.workflows import selectors
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.forms import (
    STEP_LABELS,
    AddStepForm,
    StepForm,
)
from leadloop.nurture.workflows.models import Workflow
from leadloop.nurture.workflows.services import editing
from leadloop.nurture.workflows.views.common import (
    after_change,
    is_htmx,
    manager_of,
    render_page,
    workflow_of,
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
        templates=editing.template_names(survey=step["type"] == "send_survey"),
        call_lists=editing.call_list_names(),
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
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    step = _find_step(request, workflow, step_id)
    form = _step_form(request, workflow, step, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            workflows.edit_step(workflow, by=actor, step_id=step_id, values=form.step_values())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Step saved."))
            if is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = reverse("nurture:workflow-detail", args=[workflow.pk])
                return response
            return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
    template = (
        "nurture/workflows/_step_form.html"
        if is_htmx(request)
        else "nurture/workflows/step_edit.html"
    )
    return render_page(
        request,
        template,
        {"workflow": workflow, "step": step, "label": STEP_LABELS.get(step["type"]), "form": form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def step_add(request: HttpRequest, workflow_id: int) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
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
        return after_change(request, workflow, exc)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def step_move(request: HttpRequest, workflow_id: int, step_id: str) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    try:
        workflows.move_step(
            workflow, by=actor, step_id=step_id, up=request.POST.get("direction") == "up"
        )
    except LeadloopError as exc:
        return after_change(request, workflow, exc)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)


@login_required
@require_POST
def step_remove(request: HttpRequest, workflow_id: int, step_id: str) -> HttpResponse:
    actor = manager_of(request)
    workflow = workflow_of(request, workflow_id)
    try:
        workflows.remove_step(workflow, by=actor, step_id=step_id)
    except LeadloopError as exc:
        return after_change(request, workflow, exc)
    messages.success(request, _("Step removed."))
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
