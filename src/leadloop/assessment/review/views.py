"""Assess-again on the lead page and the review queue of held leads (fraud, duplicates).

Staff roles only (partners get a 404, no hint); each sees the held leads they may see.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.selectors import is_staff_role
from leadloop.assessment import services
from leadloop.assessment.review import selectors as review_selectors
from leadloop.core import paging
from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Lead, LeadHold

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not is_staff_role(user):
        raise Http404
    return user


def _lead(user: User, lead_id: int) -> Lead:
    return leads_selectors.get_lead_for(user, lead_id)


@login_required
@require_POST
def lead_reassess(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _staff(request)
    lead = _lead(user, lead_id)
    ctx = services.reassess_lead(lead, by=user)
    messages.success(
        request, _("Assessed again: %(summary)s") % {"summary": ctx.readiness.get("summary", "")}
    )
    return redirect("leads:lead-detail", lead_id=lead_id)


@login_required
@require_GET
def review_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    hold = request.GET.get("hold", "")
    hold = hold if hold in LeadHold.values else ""
    try:
        page = review_selectors.list_held_leads(
            user, hold=hold, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except ValidationFailed:
        page = review_selectors.list_held_leads(user, hold=hold, limit=PAGE_SIZE)
    counts = review_selectors.count_held_by_kind(user)
    total, capped = counts[hold]
    tabs = [
        {
            "value": value,
            "label": label,
            "count": paging.count_text(*counts[value]),
            "active": value == hold,
            "query": urlencode({"hold": value}) if value else "",
        }
        for value, label in [("", _("All")), *LeadHold.choices]
    ]
    query = {"hold": hold} if hold else {}
    return render(
        request,
        "assessment/review_list.html",
        {
            "leads": [(lead, review_selectors.assessment_view(lead)) for lead in page.items],
            "hold": hold,
            "tabs": tabs,
            "pager": paging.pager(query, page, total, capped),
            "next_url": request.get_full_path(),
        },
    )


@login_required
@require_POST
def review_decide(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _staff(request)
    lead = _lead(user, lead_id)
    decision = request.POST.get("decision", "")
    try:
        lead = services.review_lead(
            lead, decision=decision, by=user, note=request.POST.get("note", "")
        )
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        return redirect(_back_to_list(request))
    messages.success(
        request,
        _("Lead #%(id)d reviewed: now %(status)s.")
        % {"id": lead.pk, "status": lead.get_status_display()},
    )
    return redirect(_back_to_list(request))


def _back_to_list(request: HttpRequest) -> str:
    """The queue's tab and page the decision was made on; the queue itself otherwise."""
    queue = reverse("assessment:review-list")
    back = request.POST.get("next", "")
    if back.startswith(queue) and url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        return back
    return queue


urlpatterns = [
    path("leads/<int:lead_id>/reassess/", lead_reassess, name="lead-reassess"),
    path("review/", review_list, name="review-list"),
    path("review/<int:lead_id>/", review_decide, name="review-decide"),
]
