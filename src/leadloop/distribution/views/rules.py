"""The rules pages: edit the draft rule by rule, test a lead, dry run, publish, versions,
export, and route the leads still waiting."""

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
from leadloop.distribution import selectors, services
from leadloop.distribution.forms import (
    ActionForm,
    DryRunForm,
    PublishForm,
    RuleForm,
    TestLeadForm,
)
from leadloop.distribution.views.base import _editor, _viewer
from leadloop.errors import LeadloopError, NotFound


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
