"""One lead: its page, status moves, assignment, activities, create and edit."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.selectors import is_staff_role
from leadloop.errors import LeadloopError
from leadloop.leads import entry, selectors, services
from leadloop.leads.forms import (
    ActivityForm,
    AssignForm,
    LeadForm,
    MoveLeadsForm,
    StatusForm,
)
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.views.base import _actor, _error_status, _get_lead, _is_htmx, _render

# --- One lead ------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, lead: Lead, **forms: Any) -> dict[str, Any]:
    actor = _actor(request)
    assign_form = forms.get("assign_form") or AssignForm(actor=actor)
    moves = selectors.list_allowed_moves(actor, lead)
    return {
        "lead": lead,
        "timeline": selectors.list_timeline(actor, lead.pk),
        "moves": [
            (m, LeadStatus(m).label) for m in moves if m not in (LeadStatus.WON, LeadStatus.LOST)
        ],
        "can_win": LeadStatus.WON in moves,
        "can_lose": LeadStatus.LOST in moves,
        "status_form": forms.get("status_form") or StatusForm(actor=actor),
        "assign_form": assign_form if is_staff_role(actor) and assign_form.is_available else None,
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "extra_items": sorted(lead.extra.items()) if isinstance(lead.extra, dict) else [],
    }


def _detail_response(
    request: HttpRequest, lead_id: int, *, status: int = 200, **forms: Any
) -> HttpResponse:
    lead = _get_lead(request, lead_id)
    template = "leads/_lead_detail.html" if _is_htmx(request) else "leads/lead_detail.html"
    return _render(request, template, _detail_context(request, lead, **forms), status=status)


def _after_action(request: HttpRequest, lead_id: int, message: str) -> HttpResponse:
    messages.success(request, message)
    if _is_htmx(request):
        return _detail_response(request, lead_id)
    return redirect("leads:lead-detail", lead_id=lead_id)


@login_required
@require_GET
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    response = _detail_response(request, lead_id)
    record_audit(
        actor=_actor(request),
        action=AuditAction.LEAD_VIEWED,
        target_type=AuditTarget.LEAD,
        target_id=lead_id,
        request=request,
    )
    return response


@login_required
@require_POST
def lead_transition(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = _actor(request)
    lead = _get_lead(request, lead_id)
    form = StatusForm(request.POST, actor=actor)
    if form.is_valid():
        try:
            lead = services.transition(
                lead,
                to=form.cleaned_data["to"],
                by=actor,
                lost_reason=form.reason,
                order_value=form.cleaned_data.get("order_value"),
                note=form.cleaned_data.get("note", ""),
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
            return _detail_response(request, lead_id, status=_error_status(exc), status_form=form)
        label = LeadStatus(lead.status).label
        return _after_action(
            request, lead_id, _("Status changed to %(status)s.") % {"status": label}
        )
    return _detail_response(request, lead_id, status=422, status_form=form)


@login_required
def leads_move(request: HttpRequest) -> HttpResponse:
    """Move every open lead of a person (a rep who leaves or changes teams) to another person or
    a team's pool, with a reason on each lead's timeline. Managers, marketing and admins."""
    actor = _actor(request)
    if not is_staff_role(actor) or not selectors.list_lead_owners_for(actor).exists():
        raise Http404
    data = request.POST if request.method == "POST" else None
    form = MoveLeadsForm(data, actor=actor, initial_owner=request.GET.get("from", ""))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = services.reassign_open_leads(
                    form.chosen_owner(), by=actor, **form.target()
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = _error_status(exc)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(count)d open lead moved.", "%(count)d open leads moved.", result.changed
                    )
                    % {"count": result.changed},
                )
                if result.failed:
                    messages.warning(
                        request,
                        _("Not moved: %(leads)s")
                        % {
                            "leads": "; ".join(
                                f"#{pk} {why}" for pk, why in sorted(result.failed.items())
                            )
                        },
                    )
                return redirect(reverse("leads:leads-move"))
        else:
            status = 422
    return _render(request, "leads/leads_move.html", {"form": form}, status=status)


@login_required
@require_POST
def lead_assign(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = _actor(request)
    lead = _get_lead(request, lead_id)
    form = AssignForm(request.POST, actor=actor)
    if not is_staff_role(actor):
        form.add_error(None, _("Partner users cannot reassign leads."))
        return _detail_response(request, lead_id, status=403, assign_form=form)
    if form.is_valid():
        try:
            services.assign_lead(lead, by=actor, **form.target())
        except LeadloopError as exc:
            form.apply_service_error(exc)
            return _detail_response(request, lead_id, status=_error_status(exc), assign_form=form)
        return _after_action(request, lead_id, _("Lead assigned."))
    return _detail_response(request, lead_id, status=422, assign_form=form)


@login_required
@require_POST
def lead_log_activity(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = _actor(request)
    lead = _get_lead(request, lead_id)
    form = ActivityForm(request.POST)
    if form.is_valid():
        try:
            services.log_activity(
                lead, kind=form.cleaned_data["kind"], message=form.cleaned_data["message"], by=actor
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
            return _detail_response(request, lead_id, status=_error_status(exc), activity_form=form)
        return _after_action(request, lead_id, _("Added to the timeline."))
    return _detail_response(request, lead_id, status=422, activity_form=form)


# --- Create and edit -----------------------------------------------------------------------------


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not is_staff_role(actor):
        raise PermissionDenied
    form = LeadForm(request.POST if request.method == "POST" else None, actor=actor)
    if request.method == "POST" and form.is_valid():
        try:
            source = selectors.get_source_for(actor, form.cleaned_data["source"])
            lead = entry.create_lead(form.service_data(), source=source, by=actor)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Lead created."))
            return redirect("leads:lead-detail", lead_id=lead.pk)
    status = 422 if form.is_bound else 200
    return _render(request, "leads/lead_form.html", {"form": form, "lead": None}, status=status)


@login_required
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = _actor(request)
    lead = _get_lead(request, lead_id)
    form = LeadForm(request.POST if request.method == "POST" else None, actor=actor, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_lead(lead, form.service_data(), by=actor)
            entry.reassess_after_edit(lead)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("leads:lead-detail", lead_id=lead.pk)
    status = 422 if form.is_bound else 200
    return _render(request, "leads/lead_form.html", {"form": form, "lead": lead}, status=status)
