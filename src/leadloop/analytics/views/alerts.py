"""/analytics/alerts/: the alert rules with what breaches them now; add, pause, resume and
delete a rule (marketing and admins every rule, sales managers the team rules and their own)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadloop.accounts.actors import Actor
from leadloop.analytics.forms import AlertForm
from leadloop.analytics.models import AlertKind
from leadloop.analytics.selectors import alerts as selectors
from leadloop.analytics.selectors.scope import can_see_source_roi
from leadloop.analytics.services import alerts as services
from leadloop.errors import LeadloopError
from leadloop.leads import selectors as lead_selectors


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.user  # type: ignore[assignment]
    if not selectors.can_manage_alerts(actor):
        raise PermissionDenied
    return actor


@login_required
def alerts_page(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    kinds = [
        (kind.value, kind.label)
        for kind in AlertKind
        if kind == AlertKind.OVERDUE_ABOVE or can_see_source_roi(actor)
    ]
    sources = (
        [(s.pk, s.name) for s in lead_selectors.list_sources(actor)]
        if can_see_source_roi(actor)
        else []
    )
    form = AlertForm(
        request.POST if request.method == "POST" else None,
        initial={"owner": actor.pk},  # type: ignore[union-attr]
        kinds=kinds,
        sources=sources,
        teams=[(t.pk, t.name) for t in selectors.list_team_choices(actor)],
        owners=[
            (u.pk, u.get_full_name() or u.username) for u in selectors.list_owner_choices(actor)
        ],
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                services.create_rule(
                    by=actor,
                    name=data["name"],
                    kind=data["kind"],
                    threshold=data["threshold"],
                    window_days=data["window_days"],
                    silent_hours=data["silent_hours"],
                    owner=selectors.get_owner_choice(actor, data["owner"]),
                    source=lead_selectors.get_linkable_source(actor, data["source"], field="source")
                    if data["source"]
                    else None,
                    team=selectors.get_team_choice(actor, data["team"]) if data["team"] else None,
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("The alert is added; it is checked every 15 minutes."))
                return redirect("analytics:alerts")
        status = 422
    rules = list(selectors.list_rules_for(actor))
    return render(request, "analytics/alerts.html", {"form": form, "rules": rules}, status=status)


@login_required
@require_POST
def alert_action(request: HttpRequest, rule_id: int, action: str) -> HttpResponse:
    actor = _actor(request)
    rule = selectors.get_rule_for(actor, rule_id)
    if action == "delete":
        services.delete_rule(rule, by=actor)
        messages.success(request, _("The alert is deleted."))
    elif action in ("pause", "resume"):
        services.set_active(rule, active=action == "resume", by=actor)
        messages.success(
            request,
            _("The alert is paused.") if action == "pause" else _("The alert is checked again."),
        )
    else:
        raise PermissionDenied
    return redirect("analytics:alerts")


@login_required
@require_POST
def alerts_check(request: HttpRequest) -> HttpResponse:
    _actor(request)
    counts = services.evaluate()
    messages.success(
        request,
        _("Checked %(rules)d alerts: %(breached)d started, %(recovered)d recovered.") % counts,
    )
    return redirect("analytics:alerts")
