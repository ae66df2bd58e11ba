"""The pool page (take the next lead or a chosen one), partners' offered leads, and the
partner scorecard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.distribution import selectors, services
from leadloop.distribution.views.base import _editor, _viewer
from leadloop.errors import LeadloopError, NotFound

POOL_PAGE = 100


def _pool_team(user: User, raw: str | None) -> Any:
    teams = selectors.list_claim_teams(user)
    if not teams and selectors.can_view_routing(user):
        teams = list(selectors.list_routing_teams(user))
    if not teams:
        raise Http404
    chosen = next((team for team in teams if str(team.pk) == (raw or "")), teams[0])
    return chosen, teams


@login_required
@require_GET
def pool_page(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    team, teams = _pool_team(user, request.GET.get("team"))
    pool = selectors.list_pool(user, team)
    leads = list(pool.annotate(pooled_at=services.pooled_since())[:POOL_PAGE])
    return render(
        request,
        "distribution/pool.html",
        {
            "team": team,
            "teams": teams,
            "leads": leads,
            "total": pool.count(),
            "can_take": team in selectors.list_claim_teams(user),
            "alerts": list(services.list_alerts(user, team)[:50]),
        },
    )


def _after_claim(request: HttpRequest, work: Any, team_id: int | None) -> HttpResponse:
    try:
        lead = work()
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        url = reverse("distribution:pool")
        return redirect(f"{url}?team={team_id}" if team_id else url)
    messages.success(request, _("The lead is yours: %(lead)s.") % {"lead": lead})
    return redirect(reverse("leads:lead-detail", args=[lead.pk]))


@login_required
@require_POST
def pool_claim_next(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    team, _teams = _pool_team(user, request.POST.get("team"))
    return _after_claim(request, lambda: services.claim_next(user, team=team), team.pk)


@login_required
@require_POST
def pool_claim(request: HttpRequest, lead_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    team_id = request.POST.get("team")
    return _after_claim(
        request,
        lambda: services.claim_lead(user, lead_id),
        int(team_id) if team_id and team_id.isdigit() else None,
    )


# --- partners -------------------------------------------------------------------------------


def _partner_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not selectors.is_partner_user(user):
        raise Http404
    return user


@login_required
@require_GET
def offers_page(request: HttpRequest) -> HttpResponse:
    user = _partner_user(request)
    return render(request, "distribution/offers.html", {"offers": services.list_offers_for(user)})


@login_required
@require_POST
def offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    user = _partner_user(request)
    try:
        found = services.accept_offer(user, offer_id)
    except NotFound as exc:
        raise Http404 from exc
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        return redirect(reverse("distribution:offers"))
    messages.success(request, _("Accepted: the lead is yours to work."))
    return redirect(reverse("leads:lead-detail", args=[found.lead_id]))


@login_required
@require_POST
def offer_reject(request: HttpRequest, offer_id: int) -> HttpResponse:
    user = _partner_user(request)
    try:
        services.reject_offer(user, offer_id, reason=request.POST.get("reason", ""))
    except NotFound as exc:
        raise Http404 from exc
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Rejected: the lead goes back to be routed elsewhere."))
    return redirect(reverse("distribution:offers"))


@login_required
@require_GET
def scorecard_page(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    return render(
        request,
        "distribution/scorecard.html",
        {"rows": services.scorecard(user), "can_edit": selectors.can_configure_routing(user)},
    )


@login_required
@require_POST
def partner_hours(request: HttpRequest, partner_id: int) -> HttpResponse:
    user = _editor(request)
    partner = selectors.get_routing_partner_for(user, partner_id)
    raw = request.POST.get("response_hours", "")
    try:
        services.set_response_hours(partner, by=user, hours=int(raw) if raw.isdigit() else 0)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("%(name)s saved.") % {"name": partner.name})
    return redirect(reverse("distribution:scorecard"))
