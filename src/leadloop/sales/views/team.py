"""The manager's pages: a team's follow-up at a glance (with reassigning in place) and the
team's first-contact rules and targets. Thin: selectors read, services change."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import Team, User
from leadloop.errors import LeadloopError, NotAllowed
from leadloop.leads import services as lead_services
from leadloop.leads.selectors import list_sources
from leadloop.sales.forms.team import ReassignForm, TargetForm, TeamRulesForm
from leadloop.sales.models import TeamSla
from leadloop.sales.selectors import team as selectors
from leadloop.sales.services import rules

MAX_IDS = 500


def _viewer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    selectors.require_team_viewer(user)
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _team_param(request: HttpRequest) -> int | None:
    raw = request.GET.get("team", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


# Rows a list draws at first; "Show more" fetches the rest of the selector's LIST_CAP. The
# three lists' 150 rows were half the page's time (bench/sales.py).
FIRST_ROWS = 15
LISTS = ("overdue", "bare", "breached")


def _lists(board: selectors.TeamBoard, expand: str) -> list[dict[str, Any]]:
    """The page's three lists of leads, each drawing its first FIRST_ROWS rows but the one
    `expand` names."""
    parts: list[dict[str, Any]] = [
        {
            "id": "overdue",
            "title": _("Overdue"),
            "empty": _("Nothing is overdue."),
            "total": board.overdue,
            "leads": board.overdue_leads,
            "when": "follow_up",
        },
        {
            "id": "bare",
            "title": _("Without a next step"),
            "empty": _("Every lead being worked has a next step."),
            "total": board.no_next_step,
            "leads": board.no_next_step_leads,
        },
        {
            "id": "breached",
            "title": _("First contact too late this week"),
            "empty": _("No first contact was late this week."),
            "total": board.breached_this_week,
            "rows": board.breached_leads,
        },
    ]
    for part in parts:
        key = "rows" if "rows" in part else "leads"
        every = part[key]
        part[key] = every if part["id"] == expand else every[:FIRST_ROWS]
        part["shown"] = len(every)
        part["hidden"] = len(every) - len(part[key])
    return parts


def _board_context(
    request: HttpRequest, user: User, team: Team | None, *, expand: str = ""
) -> dict[str, Any]:
    board = selectors.team_board(user, team)
    return {
        "board": board,
        "lists": _lists(board, expand),
        "teams": list(selectors.list_viewable_teams(user)),
        "form": ReassignForm(actor=user, team=team) if team is not None else None,
        "can_manage": selectors.can_manage_team(user, team) if team is not None else False,
    }


@login_required
@require_GET
def team_page(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    team = selectors.get_team_for(user, _team_param(request))
    expand = request.GET.get("list", "")
    context = _board_context(request, user, team, expand=expand)
    if team is not None and expand in LISTS and _is_htmx(request):
        part = next(part for part in context["lists"] if part["id"] == expand)
        response = render(request, "sales/_team_leads.html", {**context, "part": part})
    else:
        response = render(request, "sales/team.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _ids(request: HttpRequest) -> list[int]:
    values = request.POST.getlist("ids")[:MAX_IDS]
    return [int(v) for v in values if v.isdigit() and len(v) < 19]


@login_required
@require_POST
def team_reassign(request: HttpRequest, team_id: int) -> HttpResponse:
    """Hand the ticked leads of the team to one of its people or back to its pool."""
    user = _viewer(request)
    team = selectors.get_team_for(user, team_id)
    assert team is not None
    form = ReassignForm(request.POST, actor=user, team=team)
    ids = list(dict.fromkeys(_ids(request)))
    status = 200
    if not ids:
        messages.error(request, _("Tick one or more leads first."))
        status = 422
    elif not form.is_valid():
        for problems in form.errors.values():
            messages.error(request, " ".join(str(problem) for problem in problems))
        status = 422
    else:
        leads = selectors.list_team_leads_by_ids(user, team, ids)
        result = lead_services.bulk_assign(leads, by=user, **form.target())
        if result.changed:
            messages.success(
                request,
                ngettext("%(count)d lead handed on.", "%(count)d leads handed on.", result.changed)
                % {"count": result.changed},
            )
        refused = len(ids) - result.changed
        if refused:
            reasons = sorted(set(result.failed.values()))
            if len(leads) < len(ids):
                reasons.append(_("Not a lead of this team that you can see."))
            messages.warning(
                request,
                ngettext(
                    "%(count)d lead was not changed: %(reasons)s",
                    "%(count)d leads were not changed: %(reasons)s",
                    refused,
                )
                % {"count": refused, "reasons": " ".join(reasons)},
            )
            status = 200 if result.changed else 403
    if not _is_htmx(request):
        return redirect(f"{reverse('sales:team')}?team={team.pk}")
    response = render(
        request, "sales/_team_board.html", _board_context(request, user, team), status=status
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _manageable_team(request: HttpRequest, team_id: int) -> tuple[User, Team]:
    user = _viewer(request)
    team = selectors.get_team_for(user, team_id)
    assert team is not None
    if not selectors.can_manage_team(user, team):
        raise NotAllowed(_("You can change the rules of the teams you manage only."))
    return user, team


def _rules_page(
    request: HttpRequest,
    user: User,
    team: Team,
    *,
    form: TeamRulesForm | None = None,
    target_form: TargetForm | None = None,
    status: int = 200,
) -> HttpResponse:
    saved = TeamSla.objects.filter(team=team).first()
    now = timezone.now()
    targets = selectors.list_targets(user, team=team)
    context = {
        "team": team,
        "form": form or TeamRulesForm(rules=saved or TeamSla(team=team)),
        "target_form": target_form or _target_form(user, team),
        "is_default": saved is None,
        "now": now,
        "due_now": rules.due_if_received(team.pk, at=now),
        "targets": [
            {
                "target": target,
                "due": rules.due_if_received(team.pk, at=now, minutes=target.business_minutes),
                "can_change": selectors.can_manage_team(user, target.team),
            }
            for target in targets
        ],
    }
    return render(request, "sales/team_rules.html", context, status=status)


def _target_form(user: User, team: Team, data: Any = None) -> TargetForm:
    return TargetForm(
        data,
        team=team,
        every_team=selectors.can_manage_team(user, None),
        sources=list_sources(user),
    )


@login_required
def team_rules(request: HttpRequest, team_id: int) -> HttpResponse:
    """The team's working time and first-contact rules; saving them keeps running clocks."""
    user, team = _manageable_team(request, team_id)
    if request.method != "POST":
        return _rules_page(request, user, team)
    form = TeamRulesForm(request.POST)
    if form.is_valid():
        try:
            rules.set_team_rules(team, form.values(), by=user)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            rules.forget()
            messages.success(request, _("Rules of %(team)s saved.") % {"team": team.name})
            return redirect("sales:team-rules", team_id=team.pk)
    return _rules_page(request, user, team, form=form, status=422)


@login_required
@require_POST
def team_target_save(request: HttpRequest, team_id: int) -> HttpResponse:
    """Add a target, or change the one for the same team, source and grade."""
    user, team = _manageable_team(request, team_id)
    form = _target_form(user, team, request.POST)
    if form.is_valid():
        try:
            rules.set_target(by=user, **form.values())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            rules.forget()
            messages.success(request, _("Target saved."))
            return redirect("sales:team-rules", team_id=team.pk)
    return _rules_page(request, user, team, target_form=form, status=422)


@login_required
@require_POST
def team_target_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    user, team = _manageable_team(request, team_id)
    raw = request.POST.get("target", "")
    rules.delete_target(int(raw) if raw.isdigit() and len(raw) < 19 else 0, by=user)
    rules.forget()
    messages.success(request, _("Target removed."))
    return redirect("sales:team-rules", team_id=team.pk)
