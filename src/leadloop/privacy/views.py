"""The privacy pages: find a person, download their data, erase them; objections; retention."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.models import User
from leadloop.errors import LeadloopError, NotFound, ValidationFailed
from leadloop.privacy import selectors, services
from leadloop.privacy.forms import EraseForm, ObjectionForm, PersonForm, RetentionRuleForm


def _user(request: HttpRequest, *, allowed: Any) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not allowed(user):
        raise Http404
    return user


def _query(data: dict[str, Any]) -> selectors.PersonQuery:
    return selectors.parse_query(
        lead_id=data.get("lead_id"), email=data.get("email") or "", phone=data.get("phone") or ""
    )


@login_required
@require_GET
def requests_page(request: HttpRequest) -> HttpResponse:
    user = _user(request, allowed=selectors.can_export_person)
    form = PersonForm(request.GET or None)
    person = None
    if form.is_bound and form.is_valid():
        try:
            person = selectors.find_person(user, _query(form.cleaned_data))
        except (ValidationFailed, NotFound) as exc:
            form.add_error(None, exc.detail)
    erase_form = EraseForm(initial=form.cleaned_data if person else None)
    return render(
        request,
        "privacy/requests.html",
        {
            "form": form,
            "person": person,
            "erase_form": erase_form,
            "can_erase": selectors.can_erase_person(user),
        },
    )


@login_required
@require_GET
def export_download(request: HttpRequest) -> HttpResponse:
    user = _user(request, allowed=selectors.can_export_person)
    form = PersonForm(request.GET)
    if not form.is_valid():
        raise Http404
    try:
        doc = services.export_person(_query(form.cleaned_data), by=user)
    except ValidationFailed as exc:
        # The query names nobody it can find by: the same 404 as a malformed query, answered by
        # the one mapping (web.middleware.DomainErrorMiddleware).
        raise NotFound(exc.detail) from exc
    response = HttpResponse(
        json.dumps(doc, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="personal-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def erase(request: HttpRequest) -> HttpResponse:
    user = _user(request, allowed=selectors.can_erase_person)
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            result = services.erase_person(
                _query(form.cleaned_data), by=user, confirm=form.cleaned_data["confirm"]
            )
        except LeadloopError as exc:
            form.add_error("confirm" if "confirm" in exc.errors else None, exc.detail)
        else:
            messages.success(
                request,
                _("Erased: %(leads)d leads, %(subs)d submissions. This cannot be undone.")
                % {"leads": result.counts["leads"], "subs": result.counts["submissions"]},
            )
            return redirect("privacy:requests")
    return render(
        request,
        "privacy/requests.html",
        {"form": PersonForm(), "person": None, "erase_form": form, "can_erase": True},
        status=422,
    )


@login_required
@require_POST
def objection(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request, allowed=selectors.can_record_objection)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what the person asks for."))
        return redirect("leads:lead-detail", lead_id=lead_id)
    wanted = form.cleaned_data["objection"]
    flags: dict[str, bool | None] = {
        "marketing": {"marketing": True, "withdraw": False}.get(wanted),
        "processing": {"processing": True, "withdraw": False}.get(wanted),
    }
    try:
        services.record_objection(lead_id, by=user, source=form.cleaned_data["source"], **flags)
    except NotFound:
        raise  # a 404 through the one mapping (web.middleware.DomainErrorMiddleware)
    except LeadloopError as exc:
        problems = [m for field_messages in exc.errors.values() for m in field_messages]
        messages.error(request, " ".join([exc.detail, *problems]))
    else:
        messages.success(request, _("Recorded on the lead and its timeline."))
    return redirect("leads:lead-detail", lead_id=lead_id)


@login_required
@require_http_methods(["GET", "POST"])
def retention_page(request: HttpRequest) -> HttpResponse:
    user = _user(request, allowed=selectors.can_export_person)
    dry_run = "dry_run" in request.POST
    form = RetentionRuleForm(None if dry_run else (request.POST or None))
    report = None
    can_manage = selectors.can_manage_retention(user)
    if dry_run and can_manage:
        report = services.apply_retention(by=user, dry_run=True)
    elif form.is_bound and form.is_valid():
        try:
            services.set_retention_rule(by=user, **form.cleaned_data)
        except LeadloopError as exc:
            for name, errors in exc.errors.items():
                form.add_error(name if name in form.fields else None, errors)
            if not exc.errors:
                form.add_error(None, exc.detail)
        else:
            messages.success(request, _("Retention rule saved."))
            return redirect("privacy:retention")
    return render(
        request,
        "privacy/retention.html",
        {
            "rules": selectors.list_retention_rules(user),
            "form": form if form.is_bound else RetentionRuleForm(),
            "report": report,
            "can_manage": can_manage,
        },
        status=422 if form.errors else 200,
    )
