"""Organisations, sources (keys and limits) and campaigns."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadloop.accounts.selectors import can_manage_configuration, is_staff_role
from leadloop.errors import LeadloopError, NotAllowed, ValidationFailed
from leadloop.leads import selectors, services
from leadloop.leads.forms import (
    CampaignForm,
    OrganizationForm,
    SourceForm,
    SourceLimitsForm,
    SourceRulesForm,
)
from leadloop.leads.models import LeadStatus
from leadloop.leads.views.base import _actor, _error_status, _render

# --- Organisations -------------------------------------------------------------------------------


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    staff = is_staff_role(actor)
    form = OrganizationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not staff:
            raise PermissionDenied
        if form.is_valid():
            try:
                org = services.create_organization(by=actor, **form.cleaned_data)
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("Organisation created."))
                return redirect("leads:organization-detail", org_id=org.pk)
    q = request.GET.get("q", "").strip()[:200]
    context = {
        "organizations": selectors.list_organizations(actor, q=q),
        "q": q,
        "form": form if staff else None,
    }
    return _render(
        request, "leads/organization_list.html", context, status=422 if form.errors else 200
    )


@login_required
def organization_detail(request: HttpRequest, org_id: int) -> HttpResponse:
    actor = _actor(request)
    tree = selectors.get_organization_tree(actor, org_id)
    form = OrganizationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            branch = services.create_organization(
                by=actor, parent=tree.organization, **form.cleaned_data
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Branch “%(name)s” added.") % {"name": branch.name})
            return redirect("leads:organization-detail", org_id=org_id)
    base_depth = tree.organization.depth
    context = {
        "tree": tree,
        "org": tree.organization,
        # Indented by depth up to 8 levels (app.css); deeper branches line up at the eighth.
        "branches": [(o, min(o.depth - base_depth - 1, 8)) for o in tree.descendants],
        "by_status": [
            (status, label, tree.by_status[status])
            for status, label in LeadStatus.choices
            if tree.by_status.get(status)
        ],
        "form": form,
    }
    return _render(
        request, "leads/organization_detail.html", context, status=422 if form.errors else 200
    )


# --- Sources and campaigns -----------------------------------------------------------------------


def _source_page(
    request: HttpRequest, *, form: SourceForm | None = None, new_key: Any = None, status: int = 200
) -> HttpResponse:
    actor = _actor(request)
    can_configure = can_manage_configuration(actor)
    context = {
        "sources": selectors.list_sources(actor),
        "form": (form or SourceForm()) if can_configure else None,
        "can_configure": can_configure,
        "new_key": new_key,
        "default_limits": {
            "source": settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE,
            "address": settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS,
            "window": settings.LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS,
        },
    }
    return _render(request, "leads/source_list.html", context, status=status)


@login_required
def source_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _source_page(request)
    form = SourceForm(request.POST)
    if form.is_valid():
        try:
            created = services.create_source(by=_actor(request), **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
            return _source_page(request, form=form, status=_error_status(exc))
        # The raw key is shown on this response only; it is never stored or put in a redirect.
        return _source_page(
            request, new_key={"source": created.source, "key": created.raw_key}, status=201
        )
    return _source_page(request, form=form, status=422)


def _get_source(request: HttpRequest, source_id: int) -> Any:
    return selectors.get_source_for(_actor(request), source_id)


@login_required
@require_POST
def source_rotate_key(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    try:
        raw = services.rotate_source_key(source, by=_actor(request))
    except NotAllowed as exc:
        raise PermissionDenied(exc.detail) from exc
    return _source_page(request, new_key={"source": source, "key": raw})


@login_required
@require_POST
def source_revoke_key(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    try:
        services.revoke_source_key(source, by=_actor(request))
    except NotAllowed as exc:
        raise PermissionDenied(exc.detail) from exc
    messages.success(request, _("The key of %(name)s no longer works.") % {"name": source.name})
    return redirect("leads:source-list")


@login_required
@require_POST
def source_limits(request: HttpRequest, source_id: int) -> HttpResponse:
    """Set a source's post limits from the sources page (empty: the deployment's default)."""
    source = _get_source(request, source_id)
    form = SourceLimitsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the post limits as whole numbers of 0 or more."))
        return redirect("leads:source-list")
    try:
        services.set_intake_limits(
            source,
            per_source=form.cleaned_data["intake_limit"],
            per_address=form.cleaned_data["intake_limit_per_address"],
            by=_actor(request),
        )
    except NotAllowed as exc:
        raise PermissionDenied(exc.detail) from exc
    except ValidationFailed as exc:
        messages.error(request, exc.detail)
        return redirect("leads:source-list")
    messages.success(request, _("Saved the post limits of %(name)s.") % {"name": source.name})
    return redirect("leads:source-list")


@login_required
def source_rules(request: HttpRequest, source_id: int) -> HttpResponse:
    """A source's lead rules: the minimum contact, and whether a refused lead is kept for review."""
    source = _get_source(request, source_id)
    actor = _actor(request)
    if not can_manage_configuration(actor):
        raise PermissionDenied(_("Only admins and marketing managers set a source's rules."))
    initial = {"minimum_contact": source.minimum_contact, "on_invalid": source.on_invalid}
    form = SourceRulesForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_lead_rules(source, by=actor, **form.cleaned_data)
            except ValidationFailed as exc:
                form.apply_service_error(exc)
            else:
                messages.success(
                    request, _("Saved the lead rules of %(name)s.") % {"name": source.name}
                )
                return redirect("leads:source-list")
        status = 422
    context = {"source": source, "form": form}
    return _render(request, "leads/source_rules.html", context, status=status)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    can_configure = can_manage_configuration(actor)
    form = CampaignForm(request.POST if request.method == "POST" else None, actor=actor)
    if request.method == "POST":
        if not can_configure:
            raise PermissionDenied
        if form.is_valid():
            data = dict(form.cleaned_data)
            source = form.sources[data.pop("source")]
            if data.get("budget_amount") is None:
                data.pop("budget_amount")
            try:
                campaign = services.create_campaign(source=source, by=actor, **data)
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(
                    request, _("Campaign “%(name)s” created.") % {"name": campaign.name}
                )
                return redirect("leads:campaign-list")
    context = {
        "campaigns": selectors.list_campaigns(actor),
        "form": form if can_configure else None,
    }
    return _render(request, "leads/campaign_list.html", context, status=422 if form.errors else 200)
