"""The lead pages (HTMX + plain HTML): parse input, call a selector or a service, render.

Every POST works without JavaScript (redirect after success, the page again with errors); with
HTMX the same view answers with the fragment that changed. Errors come back as 4xx and are
swapped in (see the htmx-config meta tag in web/base.html).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.audit import record_audit, record_audit_many
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.accounts.selectors import can_manage_configuration, is_staff_role
from leadloop.errors import LeadloopError, NotAllowed, ValidationFailed
from leadloop.leads import entry, exports, selectors, services
from leadloop.leads.forms import (
    ActivityForm,
    AssignForm,
    BulkForm,
    CampaignForm,
    LeadFilterForm,
    LeadForm,
    OrganizationForm,
    SavedViewForm,
    SourceForm,
    SourceLimitsForm,
    StatusForm,
)
from leadloop.leads.models import Lead, LeadStatus

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    # The same URL answers a full page or a fragment, so caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _error_status(exc: LeadloopError) -> int:
    """The answer's status for a refused action (403 not allowed, 409 wrong state, 422 invalid)."""
    return exc.status


def _get_lead(request: HttpRequest, lead_id: int) -> Lead:
    return selectors.get_lead_for(_actor(request), lead_id)


def _query_string(data: QueryDict, *, drop: tuple[str, ...] = ("cursor",)) -> str:
    """The list's query string without paging, as links and saved views keep it."""
    pairs = [(k, v) for k, values in data.lists() if k not in drop for v in values if v != ""]
    return urlencode(pairs)


# --- Lead list -----------------------------------------------------------------------------------


def _list_context(request: HttpRequest, data: QueryDict) -> dict[str, Any]:
    actor = _actor(request)
    form = LeadFilterForm(data, actor=actor)
    filters = form.to_filters()
    cursor = data.get("cursor") or None
    try:
        page = selectors.list_leads(actor, filters, cursor=cursor, limit=PAGE_SIZE)
    except ValidationFailed:
        cursor = None
        page = selectors.list_leads(actor, filters, limit=PAGE_SIZE)
    total, more = selectors.count_leads(actor, filters, at_least=len(page.items))
    query = _query_string(data)
    return {
        "form": form,
        "page": page,
        "leads": page.items,
        "total": total,
        "total_is_capped": more,
        "query": query,
        "is_first_page": cursor is None,
        "next_query": urlencode([*QueryDict(query).lists(), ("cursor", page.next_cursor)], True)
        if page.next_cursor
        else "",
        "saved_views": selectors.list_saved_views(actor),
        "bulk_assign": AssignForm(actor=actor, prefix="bulk"),
        "bulk_status": StatusForm(actor=actor, prefix="bulk"),
        "can_create": is_staff_role(actor),
    }


@login_required
@require_GET
def lead_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, request.GET)
    template = "leads/_lead_results.html" if _is_htmx(request) else "leads/lead_list.html"
    return _render(request, template, context)


@login_required
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = BulkForm(request.POST, actor=actor)
    query = request.POST.get("query", "")
    if form.is_valid():
        leads = selectors.list_leads_by_ids(actor, form.ids)
        if form.cleaned_data["action"] == "assign":
            result = services.bulk_assign(leads, by=actor, **form.assign.target())
        else:
            result = services.bulk_transition(
                leads,
                to=form.status.cleaned_data["to"],
                by=actor,
                lost_reason=form.status.reason,
                order_value=form.status.cleaned_data.get("order_value"),
            )
        messages.success(
            request,
            ngettext("%(count)d lead updated.", "%(count)d leads updated.", result.changed)
            % {"count": result.changed},
        )
        if result.failed:
            refused = len(result.failed)
            reasons = sorted(set(result.failed.values()))
            messages.warning(
                request,
                ngettext(
                    "%(count)d lead was not changed: %(reasons)s",
                    "%(count)d leads were not changed: %(reasons)s",
                    refused,
                )
                % {"count": refused, "reasons": " ".join(reasons)},
            )
    else:
        for error in form.non_field_errors() or [_("Choose an action.")]:
            messages.error(request, str(error))
    if _is_htmx(request):
        return _render(
            request, "leads/_lead_results.html", _list_context(request, QueryDict(query))
        )
    return redirect(f"{reverse('leads:lead-list')}?{query}")


@login_required
@require_GET
def lead_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    if fmt not in ("csv", "xlsx"):
        raise Http404("Unknown export format.")
    actor = _actor(request)
    filters = LeadFilterForm(request.GET, actor=actor).to_filters()
    rows = selectors.iter_leads_for_export(actor, filters, limit=settings.LEADLOOP_EXPORT_MAX_ROWS)
    # Recorded before a row leaves; the count is one query beside an export that reads them all.
    record_audit_many(
        actor=actor,
        action=AuditAction.LEAD_EXPORTED,
        target_type=AuditTarget.LEAD,
        count=rows.count(),
        data={"format": fmt, "filters": exports.describe_filters(filters)},
        request=request,
    )
    if fmt == "xlsx":
        return exports.xlsx_response(rows)
    return exports.csv_response(rows)


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    form = SavedViewForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            view = services.save_view(
                user=_actor(request),
                name=form.cleaned_data["name"],
                query=_query_string(QueryDict(form.cleaned_data["query"])),
            )
        except ValidationFailed as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("Saved the view “%(name)s”.") % {"name": view.name})
            query = view.query
    else:
        messages.error(request, _("Give the view a name."))
    return redirect(f"{reverse('leads:lead-list')}?{query}")


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    services.delete_view(user=_actor(request), view_id=view_id)
    messages.success(request, _("Deleted the saved view."))
    return redirect("leads:lead-list")


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
