"""The routing pages: rules (edit the draft, test a lead, dry run, publish, versions) and teams
(push strategy, working hours, reps' capacity and absences). Thin: forms in, services out."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, User
from leadloop.distribution import selectors, services
from leadloop.distribution.forms import (
    AbsenceForm,
    ActionForm,
    CapacityForm,
    DryRunForm,
    PublishForm,
    RuleForm,
    TeamRoutingForm,
    TestLeadForm,
)
from leadloop.distribution.models import PartnerRouting, TeamRouting
from leadloop.errors import LeadloopError, NotFound


def _viewer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not selectors.can_view_routing(user):
        raise Http404
    return user


def _editor(request: HttpRequest) -> User:
    user = _viewer(request)
    if not selectors.can_configure_routing(user):
        raise Http404
    return user


def _document(actor: Actor, which: str) -> dict[str, Any] | None:
    if which == "active":
        active = selectors.active_rule_set()
        return {"rules": active.rules, "default": active.default} if active else None
    draft = selectors.get_draft_for(actor)
    return {"rules": draft.rules, "default": draft.default}


@login_required
@require_GET
def rules_page(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    active = selectors.active_rule_set()
    draft = selectors.get_draft_for(user)
    changed = active is None or (draft.rules, draft.default) != (active.rules, active.default)
    context: dict[str, Any] = {
        "active": active,
        "draft": draft,
        "draft_rows": selectors.rule_rows(draft.rules),
        "draft_default": services.describe_action(draft.default) if draft.default else "",
        "changed": changed and bool(draft.default or draft.rules),
        "can_edit": selectors.can_configure_routing(user),
        "waiting": selectors.count_waiting(user),
        "versions": list(selectors.list_versions(user)[:10]),
        "decisions": selectors.list_recent_decisions(user, limit=15),
        "publish_form": PublishForm(),
    }
    test_form = TestLeadForm(request.GET if "lead_id" in request.GET else None)
    if test_form.is_bound and test_form.is_valid():
        document = _document(user, test_form.cleaned_data["rules"])
        if document is None:
            test_form.add_error("rules", _("No rules are published yet."))
        else:
            try:
                context["trial"] = services.test_lead(
                    test_form.cleaned_data["lead_id"], document, by=user
                )
            except LeadloopError as exc:
                test_form.add_error(None, exc.detail)
    context["test_form"] = test_form
    dry_form = DryRunForm(request.GET if "last" in request.GET else None)
    if dry_form.is_bound and dry_form.is_valid() and context["can_edit"]:
        document = _document(user, dry_form.cleaned_data["rules"])
        if document is None:
            dry_form.add_error("rules", _("No rules are published yet."))
        else:
            try:
                context["dry_run"] = services.dry_run(
                    document, by=user, last=dry_form.cleaned_data["last"]
                )
            except LeadloopError as exc:
                dry_form.add_error(None, exc.detail)
    context["dry_form"] = dry_form
    return render(request, "distribution/rules.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, index: int | None = None) -> HttpResponse:
    user = _editor(request)
    draft = selectors.get_draft_for(user)
    if index is not None and not 0 <= index < len(draft.rules):
        raise Http404
    initial = RuleForm.initial_for_rule(draft.rules[index]) if index is not None else {}
    form = RuleForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.put_draft_rule(form.rule(), by=user, index=index)
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("Rule saved in the draft. Publish to route by it."))
                return redirect(reverse("distribution:rules"))
        else:
            status = 422
    return render(
        request,
        "distribution/rule_form.html",
        {"form": form, "index": index, "fields": services.condition_fields()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_default(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    draft = selectors.get_draft_for(user)
    form = ActionForm(
        request.POST if request.method == "POST" else None,
        initial=ActionForm.initial_for(draft.default),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_draft_default(form.action(), by=user)
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("Default rule saved in the draft."))
                return redirect(reverse("distribution:rules"))
        else:
            status = 422
    return render(request, "distribution/default_form.html", {"form": form}, status=status)


def _draft_change(request: HttpRequest, change: Any, done: str) -> HttpResponse:
    try:
        change()
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, done)
    return redirect(reverse("distribution:rules"))


@login_required
@require_POST
def rule_move(request: HttpRequest, index: int) -> HttpResponse:
    user = _editor(request)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _draft_change(
        request,
        lambda: services.move_draft_rule(index, by=user, offset=offset),
        _("Rule moved in the draft."),
    )


@login_required
@require_POST
def rule_delete(request: HttpRequest, index: int) -> HttpResponse:
    user = _editor(request)
    return _draft_change(
        request,
        lambda: services.delete_draft_rule(index, by=user),
        _("Rule removed from the draft."),
    )


@login_required
@require_POST
def rules_publish(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    form = PublishForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        published = services.publish(by=user, note=note)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        for field, problems in exc.errors.items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    else:
        messages.success(
            request,
            _("Version %(n)d is in force: new sales-ready leads route by it.")
            % {"n": published.version},
        )
    return redirect(reverse("distribution:rules"))


@login_required
@require_POST
def rules_discard(request: HttpRequest) -> HttpResponse:
    user = _editor(request)
    return _draft_change(
        request, lambda: services.discard_draft(by=user), _("The draft holds the rules in force.")
    )


@login_required
@require_POST
def version_restore(request: HttpRequest, version: int) -> HttpResponse:
    user = _editor(request)
    return _draft_change(
        request,
        lambda: services.restore_to_draft(version, by=user),
        _("Version %(n)d is in the draft: publish it to route by it again.") % {"n": version},
    )


@login_required
@require_GET
def rules_export(request: HttpRequest, version: int | None = None) -> HttpResponse:
    user = _viewer(request)
    if version is None:
        draft = selectors.get_draft_for(user)
        document = {"rules": draft.rules, "default": draft.default}
        name = "routing-draft.json"
    else:
        try:
            found = selectors.get_version_for(user, version)
        except NotFound as exc:
            raise Http404 from exc
        document = {"rules": found.rules, "default": found.default}
        name = f"routing-v{version}.json"
    response = HttpResponse(
        json.dumps(services.export_document(document), ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def route_waiting(request: HttpRequest) -> HttpResponse:
    _editor(request)
    routed, failed = services.route_many(services.waiting_ids(undecided_only=False))
    messages.success(
        request,
        ngettext("%(n)d waiting lead routed.", "%(n)d waiting leads routed.", routed)
        % {"n": routed},
    )
    if failed:
        messages.error(request, _("Failed: %(ids)s") % {"ids": ", ".join(map(str, failed))})
    return redirect(reverse("distribution:rules"))


# --- teams ----------------------------------------------------------------------------------


@login_required
@require_GET
def teams_page(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    teams = []
    for team in selectors.list_routing_teams(user):
        routing = TeamRouting.objects.filter(team=team).first() or TeamRouting(team=team)
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
    for team in selectors.list_routing_teams(user):
        found = selectors.team_sales_members(team).filter(pk=user_id).first()
        if found is not None:
            return found
    raise Http404


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


# --- pools ----------------------------------------------------------------------------------

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
    hours = dict(PartnerRouting.objects.values_list("partner_id", "response_hours"))
    rows = services.scorecard(user)
    return render(
        request,
        "distribution/scorecard.html",
        {
            "rows": [
                (row, hours.get(row.partner.pk, services.DEFAULT_RESPONSE_HOURS)) for row in rows
            ],
            "can_edit": selectors.can_configure_routing(user),
        },
    )


@login_required
@require_POST
def partner_hours(request: HttpRequest, partner_id: int) -> HttpResponse:
    user = _editor(request)
    partner = PartnerOrganization.objects.filter(pk=partner_id).first()
    if partner is None:
        raise Http404
    raw = request.POST.get("response_hours", "")
    try:
        services.set_response_hours(partner, by=user, hours=int(raw) if raw.isdigit() else 0)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("%(name)s saved.") % {"name": partner.name})
    return redirect(reverse("distribution:scorecard"))
