"""The lead list: filters, bulk actions, exports and saved views."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.audit import record_audit_many
from leadloop.accounts.models import AuditAction, AuditTarget, Role
from leadloop.accounts.selectors import is_staff_role
from leadloop.core import paging
from leadloop.errors import ValidationFailed
from leadloop.leads import exports, selectors, services
from leadloop.leads.forms import (
    AssignForm,
    BulkForm,
    LeadFilterForm,
    SavedViewForm,
    StatusForm,
)
from leadloop.leads.views.base import _actor, _is_htmx, _query_string, _render

# --- Lead list -----------------------------------------------------------------------------------

PAGE_SIZE = 50


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
    total, more = paging.total_shown(page, total, more)
    query = _query_string(data)
    return {
        "form": form,
        "page": page,
        "leads": page.items,
        "total": total,
        "total_is_capped": more,
        "query": query,
        "pager": paging.pager(QueryDict(query), page, total, more),
        "saved_views": selectors.list_saved_views(actor),
        "bulk_assign": AssignForm(actor=actor, prefix="bulk"),
        "bulk_status": StatusForm(actor=actor, prefix="bulk"),
        "can_create": is_staff_role(actor),
        "shown": selectors.fields_shown_to(actor),
        "can_move_leads": getattr(actor, "role", "")
        in (Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER),
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
    shown = selectors.fields_shown_to(actor)
    if fmt == "xlsx":
        return exports.xlsx_response(rows, shown=shown)
    return exports.csv_response(
        rows, delimiter=exports.delimiter_from(request.GET.get("delimiter")), shown=shown
    )


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
