"""The admin's settings page of lost reasons (/settings/lost-reasons/)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError
from leadloop.leads import selectors, services
from leadloop.leads.views.base import _actor


class LostReasonForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)


def _page(
    request: HttpRequest, *, form: LostReasonForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "reasons": selectors.list_all_lost_reasons(_actor(request)),
        "form": form or LostReasonForm(),
    }
    return render(request, "leads/lost_reasons.html", context, status=status)


@login_required
def lost_reason_list(request: HttpRequest) -> HttpResponse:
    require(_actor(request), Permission.MANAGE_USERS)
    if request.method != "POST":
        return _page(request)
    form = LostReasonForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=422)
    try:
        reason = services.create_lost_reason(by=_actor(request), name=form.cleaned_data["name"])
    except LeadloopError as exc:
        form.add_error("name" if "name" in getattr(exc, "errors", {}) else None, exc.detail)
        return _page(request, form=form, status=exc.status)
    messages.success(request, _("%(name)s is saved.") % {"name": reason.name})
    return redirect("leads:lost-reasons")


@login_required
@require_POST
def lost_reason_set_active(request: HttpRequest, reason_id: int) -> HttpResponse:
    actor = _actor(request)
    require(actor, Permission.MANAGE_USERS)
    reason = selectors.get_any_lost_reason(actor, reason_id)
    services.set_lost_reason_active(reason, active=request.POST.get("active") == "1", by=actor)
    messages.success(request, _("%(name)s is saved.") % {"name": reason.name})
    return redirect("leads:lost-reasons")
