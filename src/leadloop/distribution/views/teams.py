"""The teams page: push strategy and working hours, reps' capacity and absences."""

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
from leadloop.distribution.forms import (
    AbsenceForm,
    CapacityForm,
    TeamRoutingForm,
)
from leadloop.distribution.views.base import _viewer
from leadloop.errors import LeadloopError, NotFound


@login_required
@require_GET
def teams_page(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    teams = []
    for team in selectors.list_routing_teams(user):
        routing = selectors.team_routing(team)
        teams.append(
            {
                "team": team,
                "form": TeamRoutingForm(
                    initial={
                        "strategy": routing.strategy,
                        "work_days": list(routing.work_days),
                        "work_start": routing.work_start,
                        "work_end": routing.work_end,
                        "pool_alert_hours": routing.pool_alert_hours,
                    },
                    prefix=f"t{team.pk}",
                ),
                "members": [
                    {
                        "row": row,
                        "form": CapacityForm(
                            initial={
                                "accepts_leads": row.capacity.accepts_leads,
                                "max_open": row.capacity.max_open,
                                "daily_quota": row.capacity.daily_quota,
                                "claim_limit": row.capacity.claim_limit,
                                "weight": row.capacity.weight,
                                "languages": row.capacity.languages,
                            },
                            prefix=f"u{row.user.pk}",
                        ),
                    }
                    for row in selectors.team_board(team)
                ],
            }
        )
    return render(
        request,
        "distribution/teams.html",
        {"teams": teams, "absence_form": AbsenceForm()},
    )


def _back_to_teams(request: HttpRequest, form: Any, work: Any, done: str) -> HttpResponse:
    if form.is_valid():
        try:
            work(form)
        except LeadloopError as exc:
            messages.error(request, exc.detail)
            for field, problems in exc.errors.items():
                messages.error(request, f"{field}: {' '.join(problems)}")
        else:
            messages.success(request, done)
    else:
        for field, problems in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(
                request, f"{label}: {' '.join(problems)}" if label else " ".join(problems)
            )
    return redirect(reverse("distribution:teams"))


@login_required
@require_POST
def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    user = _viewer(request)
    try:
        team = selectors.get_routing_team_for(user, team_id)
    except NotFound as exc:
        raise Http404 from exc
    form = TeamRoutingForm(request.POST, prefix=f"t{team.pk}")
    return _back_to_teams(
        request,
        form,
        lambda f: services.set_team_routing(team, by=user, **f.values()),
        _("Team %(team)s saved.") % {"team": team.name},
    )


def _member(user: User, user_id: int) -> User:
    try:
        return selectors.get_team_member_for(user, user_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_POST
def rep_capacity(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _viewer(request)
    member = _member(user, user_id)
    form = CapacityForm(request.POST, prefix=f"u{member.pk}")
    return _back_to_teams(
        request,
        form,
        lambda f: services.set_capacity(member, by=user, **f.cleaned_data),
        _("%(name)s saved.") % {"name": member.display_name},
    )


@login_required
@require_POST
def absence_add(request: HttpRequest, user_id: int) -> HttpResponse:
    user = _viewer(request)
    member = _member(user, user_id)
    form = AbsenceForm(request.POST)
    return _back_to_teams(
        request,
        form,
        lambda f: services.add_absence(member, by=user, **f.cleaned_data),
        _("Absence of %(name)s recorded.") % {"name": member.display_name},
    )


@login_required
@require_POST
def absence_remove(request: HttpRequest, absence_id: int) -> HttpResponse:
    user = _viewer(request)
    try:
        services.remove_absence(absence_id, by=user)
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Absence removed."))
    return redirect(reverse("distribution:teams"))
