"""What the workflow pages share: the permission check, rendering, the workflow from the URL."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from leadloop.accounts.permissions import Permission, can
from leadloop.errors import LeadloopError, NotFound
from leadloop.leads.selectors import list_sources
from leadloop.nurture.workflows import selectors
from leadloop.nurture.workflows.models import Workflow


def manager_of(request: HttpRequest) -> Any:
    if not can(request.user, Permission.MANAGE_NURTURE):  # type: ignore[arg-type]
        raise PermissionDenied(_("Only marketing and admins manage workflows."))
    return request.user


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def workflow_of(request: HttpRequest, workflow_id: int) -> Workflow:
    try:
        return selectors.get_workflow_for(request.user, workflow_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404 from exc


def source_choices(actor: Any) -> list[tuple[int, str]]:
    return list(list_sources(actor).values_list("pk", "name"))


def after_change(
    request: HttpRequest, workflow: Workflow, error: LeadloopError | None
) -> HttpResponse:
    """Back to the workflow page: the error on top (the step it names), or a saved message."""
    if error is not None:
        messages.error(request, error.detail)
    return redirect("nurture:workflow-detail", workflow_id=workflow.pk)
