"""The audit log page: admins search who did what, newest first, 50 a page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from leadloop.accounts.audit_selectors import AuditFilters, can_read_audit, list_audit_page
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.core import paging
from leadloop.errors import ValidationFailed


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Actor"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All actions")), *AuditAction.choices]
    )
    target_type = forms.ChoiceField(
        label=_("Target type"),
        required=False,
        choices=[("", _("All targets")), *AuditTarget.choices],
    )
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=64)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("Target contains"), required=False, max_length=200)

    def to_filters(self) -> AuditFilters:
        """The valid filters; a field that does not parse is ignored (and marked on the form)."""
        data = self.cleaned_data if self.is_valid() else {}
        return AuditFilters(
            actor=(data.get("actor") or "").strip(),
            action=data.get("action") or "",
            target_type=data.get("target_type") or "",
            target_id=(data.get("target_id") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            q=(data.get("q") or "").strip(),
        )


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    if not can_read_audit(actor):
        raise PermissionDenied
    form = AuditFilterForm(request.GET)
    filters = form.to_filters()
    try:
        page, total, capped = list_audit_page(actor, filters, cursor=request.GET.get("cursor"))
    except ValidationFailed:
        page, total, capped = list_audit_page(actor, filters)
    context = {
        "form": form,
        "events": page.items,
        "pager": paging.pager(request.GET, page, total, capped),
        "target_labels": dict(AuditTarget.choices),
    }
    return render(request, "accounts/audit_list.html", context)
