"""Assess-again on the lead page and the review queue of held leads (fraud, duplicates).

Staff roles only (partners get a 404, no hint); each sees the held leads they may see.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.selectors import is_staff_role
from leadloop.assessment import services
from leadloop.assessment.review import selectors as review_selectors
from leadloop.errors import LeadloopError
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Lead, LeadHold


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
    leads = [
        (lead, review_selectors.assessment_view(lead))
        for lead in review_selectors.list_held_leads(user, hold=hold)
    ]
    return render(
        request,
        "assessment/review_list.html",
        {"leads": leads, "hold": hold, "holds": LeadHold.choices},
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
        return redirect("assessment:review-list")
    messages.success(
        request,
        _("Lead #%(id)d reviewed: now %(status)s.")
        % {"id": lead.pk, "status": lead.get_status_display()},
    )
    return redirect("assessment:review-list")


urlpatterns = [
    path("leads/<int:lead_id>/reassess/", lead_reassess, name="lead-reassess"),
    path("review/", review_list, name="review-list"),
    path("review/<int:lead_id>/", review_decide, name="review-decide"),
]
