"""The scoring configuration page (/assessment/config/): readiness rule, grading, engagement,
fraud, blocklist and the per-source policies, one section each.

Marketing and admins edit; a sales manager sees the readiness rule only (what was agreed);
anyone else gets a 403. Every POST works without JavaScript (redirect after success, the page
again with the errors and a 4xx); with HTMX the same view answers with the section that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment.models import BlockKind
from leadloop.assessment.scoring import selectors
from leadloop.assessment.scoring import services as config
from leadloop.assessment.scoring.forms import (
    BlockEntryForm,
    ConfigForm,
    EngagementRuleForm,
    EngagementSettingsForm,
    FraudSettingsForm,
    GradeThresholdsForm,
    GradingRuleForm,
    ReadinessForm,
    SourcePolicyForm,
)
from leadloop.errors import LeadloopError
from leadloop.leads import selectors as leads_selectors

BLOCKLIST_PAGE = 100
# section → its template; the page includes them all, an HTMX request gets just the one.
SECTIONS = {
    "readiness": "assessment/config/_readiness.html",
    "grading": "assessment/config/_grading.html",
    "engagement": "assessment/config/_engagement.html",
    "fraud": "assessment/config/_fraud.html",
    "blocklist": "assessment/config/_blocklist.html",
    "policies": "assessment/config/_policies.html",
}


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _require_viewer(request: HttpRequest) -> User:
    actor = _actor(request)
    if not can(actor, Permission.VIEW_READINESS_RULE):
        raise PermissionDenied(_("Only marketing, admins and sales managers see this page."))
    return actor


def _require_editor(request: HttpRequest) -> User:
    actor = _actor(request)
    if not can(actor, Permission.CONFIGURE_SCORING):
        raise PermissionDenied(_("Only marketing and admins can change the scoring configuration."))
    return actor


def _found(getter: Callable[[int], Any], object_id: int) -> Any:
    return getter(object_id)


def _context(
    request: HttpRequest,
    *,
    forms: dict[str, ConfigForm] | None = None,
    editing: tuple[str, int, ConfigForm] | None = None,
    saved: str = "",
) -> dict[str, Any]:
    """Everything the page shows; `forms` replaces a blank form with one that has errors,
    `editing` opens one table row (section, id, form) for editing."""
    actor = _actor(request)
    settings = selectors.get_scoring_settings()
    context: dict[str, Any] = {
        "can_edit": can_manage_configuration(actor),
        "settings": settings,
        "readiness_sentence": selectors.readiness_sentence(settings),
        "saved": saved,
    }
    if not context["can_edit"]:
        return context
    forms = forms or {}
    section, editing_id, editing_form = editing or ("", 0, None)
    fraud_rules = selectors.list_fraud_rules(settings)

    def rows(name: str, items: Any, key: Callable[[Any], int]) -> list[tuple[Any, Any]]:
        return [
            (item, editing_form if section == name and key(item) == editing_id else None)
            for item in items
        ]

    context.update(
        readiness_form=forms.get("readiness")
        or ReadinessForm(settings=settings, prefix="readiness"),
        thresholds_form=forms.get("thresholds")
        or GradeThresholdsForm(settings=settings, prefix="thresholds"),
        half_life_form=forms.get("half_life")
        or EngagementSettingsForm(settings=settings, prefix="half-life"),
        fraud_form=forms.get("fraud")
        or FraudSettingsForm(fraud_rules=fraud_rules, settings=settings, prefix="fraud"),
        grading_rows=rows("grading", selectors.list_grading_rules(), lambda r: r.pk),
        grading_form=forms.get("grading") or GradingRuleForm(prefix="grading"),
        engagement_rows=rows("engagement", selectors.list_engagement_rules(), lambda r: r.pk),
        engagement_form=forms.get("engagement") or EngagementRuleForm(prefix="engagement"),
        **_blocklist_page(request),
        block_form=forms.get("blocklist") or BlockEntryForm(prefix="block"),
        policy_rows=rows(
            "policies", selectors.list_source_policies(actor), lambda item: item.source.pk
        ),
    )
    return context


def _blocklist_page(request: HttpRequest) -> dict[str, Any]:
    """One page of the blocklist (it can hold many thousands), filtered by kind and a search."""
    kind = request.GET.get("block_kind", "")
    kind = kind if kind in BlockKind.values else ""
    query = request.GET.get("block_q", "")[:254].replace("\x00", "")
    entries = selectors.list_block_entries(kind=kind or None, query=query)
    shown = list(entries[: BLOCKLIST_PAGE + 1])
    return {
        "block_entries": shown[:BLOCKLIST_PAGE],
        "block_more": len(shown) > BLOCKLIST_PAGE,
        "block_total": entries.count() if len(shown) > BLOCKLIST_PAGE else len(shown),
        "block_kind": kind,
        "block_q": query,
        "block_kinds": BlockKind.choices,
    }


def _respond(
    request: HttpRequest, section: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    template = SECTIONS[section] if _is_htmx(request) else "assessment/config/page.html"
    response = render(request, template, context, status=status)
    # The same URL answers a full page or a fragment, so caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request: HttpRequest, section: str, message: str) -> HttpResponse:
    if _is_htmx(request):
        return _respond(request, section, _context(request, saved=section))
    messages.success(request, message)
    return redirect(reverse("assessment:config") + f"#section-{section}")


def _submit(
    request: HttpRequest,
    *,
    section: str,
    form: ConfigForm,
    form_key: str,
    action: Callable[[dict[str, Any]], Any],
    message: str,
    editing_id: int | None = None,
) -> HttpResponse:
    """Run `action` with the form's values; the section (or page) again with errors if refused."""
    status = 422
    if form.is_valid():
        try:
            action(form.values)
        except LeadloopError as exc:
            form.apply_service_error(exc)
            status = exc.status
        else:
            return _done(request, section, message)
    if editing_id is not None:
        context = _context(request, editing=(section, editing_id, form))
    else:
        context = _context(request, forms={form_key: form})
    return _respond(request, section, context, status=status)


# --- The page ------------------------------------------------------------------------------------


@login_required
@require_GET
def config_page(request: HttpRequest) -> HttpResponse:
    _require_viewer(request)
    section = request.GET.get("section", "")
    if _is_htmx(request) and section in SECTIONS:
        if section != "readiness":
            _require_editor(request)
        return _respond(request, section, _context(request))
    response = render(request, "assessment/config/page.html", _context(request))
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Settings sections ---------------------------------------------------------------------------


def _settings_action(request: HttpRequest) -> Callable[[dict[str, Any]], Any]:
    actor = _actor(request)
    return lambda values: config.update_scoring_settings(by=actor, **values)


@login_required
@require_POST
def readiness_save(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return _submit(
        request,
        section="readiness",
        form=ReadinessForm(request.POST, prefix="readiness"),
        form_key="readiness",
        action=_settings_action(request),
        message=_("Readiness rule saved."),
    )


@login_required
@require_POST
def thresholds_save(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return _submit(
        request,
        section="grading",
        form=GradeThresholdsForm(request.POST, prefix="thresholds"),
        form_key="thresholds",
        action=_settings_action(request),
        message=_("Grade thresholds saved."),
    )


@login_required
@require_POST
def half_life_save(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    return _submit(
        request,
        section="engagement",
        form=EngagementSettingsForm(request.POST, prefix="half-life"),
        form_key="half_life",
        action=_settings_action(request),
        message=_("Half-life saved."),
    )


@login_required
@require_POST
def fraud_save(request: HttpRequest) -> HttpResponse:
    _require_editor(request)
    form = FraudSettingsForm(request.POST, fraud_rules=selectors.list_fraud_rules(), prefix="fraud")
    return _submit(
        request,
        section="fraud",
        form=form,
        form_key="fraud",
        action=_settings_action(request),
        message=_("Fraud settings saved."),
    )


# --- Grading rules -------------------------------------------------------------------------------


@login_required
@require_POST
def grading_rule_create(request: HttpRequest) -> HttpResponse:
    actor = _require_editor(request)
    return _submit(
        request,
        section="grading",
        form=GradingRuleForm(request.POST, prefix="grading"),
        form_key="grading",
        action=lambda values: config.create_grading_rule(by=actor, **values),
        message=_("Grading rule added."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def grading_rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _require_editor(request)
    rule = _found(selectors.get_grading_rule, rule_id)
    prefix = f"grading-{rule.pk}"
    if request.method != "POST":
        initial = {name: getattr(rule, name) for name in GradingRuleForm.base_fields}
        form = GradingRuleForm(initial=initial, prefix=prefix)
        return _respond(request, "grading", _context(request, editing=("grading", rule.pk, form)))
    return _submit(
        request,
        section="grading",
        form=GradingRuleForm(request.POST, prefix=prefix),
        form_key="grading",
        action=lambda values: config.update_grading_rule(rule, by=actor, **values),
        message=_("Grading rule saved."),
        editing_id=rule.pk,
    )


@login_required
@require_POST
def grading_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _require_editor(request)
    config.delete_grading_rule(_found(selectors.get_grading_rule, rule_id), by=actor)
    return _done(request, "grading", _("Grading rule deleted."))


# --- Engagement rules ----------------------------------------------------------------------------


@login_required
@require_POST
def engagement_rule_create(request: HttpRequest) -> HttpResponse:
    actor = _require_editor(request)
    return _submit(
        request,
        section="engagement",
        form=EngagementRuleForm(request.POST, prefix="engagement"),
        form_key="engagement",
        action=lambda values: config.create_engagement_rule(by=actor, **values),
        message=_("Engagement rule added."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def engagement_rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _require_editor(request)
    rule = _found(selectors.get_engagement_rule, rule_id)
    prefix = f"engagement-{rule.pk}"
    if request.method != "POST":
        initial = {name: getattr(rule, name) for name in EngagementRuleForm.base_fields}
        form = EngagementRuleForm(initial=initial, prefix=prefix)
        return _respond(
            request, "engagement", _context(request, editing=("engagement", rule.pk, form))
        )
    return _submit(
        request,
        section="engagement",
        form=EngagementRuleForm(request.POST, prefix=prefix),
        form_key="engagement",
        action=lambda values: config.update_engagement_rule(rule, by=actor, **values),
        message=_("Engagement rule saved."),
        editing_id=rule.pk,
    )


@login_required
@require_POST
def engagement_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _require_editor(request)
    config.delete_engagement_rule(_found(selectors.get_engagement_rule, rule_id), by=actor)
    return _done(request, "engagement", _("Engagement rule deleted."))


# --- Blocklist -----------------------------------------------------------------------------------


@login_required
@require_POST
def block_entry_create(request: HttpRequest) -> HttpResponse:
    actor = _require_editor(request)
    return _submit(
        request,
        section="blocklist",
        form=BlockEntryForm(request.POST, prefix="block"),
        form_key="blocklist",
        action=lambda values: config.create_block_entry(by=actor, **values),
        message=_("Added to the blocklist."),
    )


@login_required
@require_POST
def block_entry_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    actor = _require_editor(request)
    config.delete_block_entry(_found(selectors.get_block_entry, entry_id), by=actor)
    return _done(request, "blocklist", _("Removed from the blocklist."))


# --- Source policies -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def source_policy_edit(request: HttpRequest, source_id: int) -> HttpResponse:
    actor = _require_editor(request)
    source = _found(lambda pk: leads_selectors.get_source_for(actor, pk), source_id)
    prefix = f"policy-{source.pk}"
    if request.method != "POST":
        policy = selectors.get_source_policy(source)
        initial = {name: getattr(policy, name) for name in SourcePolicyForm.base_fields}
        form = SourcePolicyForm(initial=initial, prefix=prefix)
        return _respond(
            request, "policies", _context(request, editing=("policies", source.pk, form))
        )
    return _submit(
        request,
        section="policies",
        form=SourcePolicyForm(request.POST, prefix=prefix),
        form_key="policies",
        action=lambda values: config.set_source_policy(source, by=actor, **values),
        message=_("Policy of %(source)s saved.") % {"source": source.name},
        editing_id=source.pk,
    )


urlpatterns = [
    path("config/", config_page, name="config"),
    path("config/readiness/", readiness_save, name="config-readiness"),
    path("config/grade-thresholds/", thresholds_save, name="config-thresholds"),
    path("config/half-life/", half_life_save, name="config-half-life"),
    path("config/fraud/", fraud_save, name="config-fraud"),
    path("config/grading-rules/", grading_rule_create, name="config-grading-rule-create"),
    path("config/grading-rules/<int:rule_id>/", grading_rule_edit, name="config-grading-rule"),
    path(
        "config/grading-rules/<int:rule_id>/delete/",
        grading_rule_delete,
        name="config-grading-rule-delete",
    ),
    path("config/engagement-rules/", engagement_rule_create, name="config-engagement-rule-create"),
    path(
        "config/engagement-rules/<int:rule_id>/",
        engagement_rule_edit,
        name="config-engagement-rule",
    ),
    path(
        "config/engagement-rules/<int:rule_id>/delete/",
        engagement_rule_delete,
        name="config-engagement-rule-delete",
    ),
    path("config/blocklist/", block_entry_create, name="config-block-entry-create"),
    path(
        "config/blocklist/<int:entry_id>/delete/",
        block_entry_delete,
        name="config-block-entry-delete",
    ),
    path(
        "config/sources/<int:source_id>/policy/",
        source_policy_edit,
        name="config-source-policy",
    ),
]
