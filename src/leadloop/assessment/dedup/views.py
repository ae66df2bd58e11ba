"""The duplicates screen: open pairs by score, a pair side by side with field picking, merge,
dismiss ("not the same") and undo of a merge.

Staff only, and only pairs of leads the user may see: anyone else gets a 404 (no hint). Every
POST works without JavaScript (redirect after success); with HTMX, dismissing a pair on the list
removes its row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.assessment.dedup import services as merging
from leadloop.assessment.models import DuplicatePair, Merge
from leadloop.core import paging
from leadloop.errors import LeadloopError, ValidationFailed


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _pair(request: HttpRequest, pair_id: int) -> DuplicatePair:
    return merging.get_pair_for(_actor(request), pair_id)


def _merge(request: HttpRequest, merge_id: int) -> Merge:
    return merging.get_merge_for(_actor(request), merge_id)


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    cursor = request.GET.get("cursor") or None
    try:
        page = merging.list_open_pairs(actor, cursor=cursor)
        merges = merging.list_merges(actor)
    except ValidationFailed:
        page = merging.list_open_pairs(actor)
        merges = merging.list_merges(actor)
    context = {
        "pairs": page.items,
        "pager": paging.pager({}, page, merging.count_open_pairs(actor), False),
        "merges": merges,
    }
    return _render(request, "assessment/duplicates/list.html", context)


def _compare_context(pair: DuplicatePair, *, survivor_id: int | None = None) -> dict[str, Any]:
    # The older lead is the suggested survivor: it usually carries the history.
    left, right = (
        (pair.other, pair.lead) if pair.other_id < pair.lead_id else (pair.lead, pair.other)
    )
    if survivor_id == right.pk:
        left, right = right, left
    return {"pair": pair, "left": left, "right": right, "rows": merging.compare(left, right)}


@login_required
@require_GET
def duplicate_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = _pair(request, pair_id)
    return _render(request, "assessment/duplicates/compare.html", _compare_context(pair))


@login_required
@require_POST
def duplicate_merge(request: HttpRequest, pair_id: int) -> HttpResponse:
    actor = _actor(request)
    pair = _pair(request, pair_id)
    survivor = request.POST.get("survivor", "")
    choices: dict[str, int] = {}
    for name in merging.MERGE_FIELDS:
        value = request.POST.get(f"field_{name}", "")
        if value.isdigit():
            choices[name] = int(value)
    try:
        merge = merging.merge_pair(
            pair,
            survivor_id=int(survivor) if survivor.isdigit() else 0,
            field_choices=choices,
            by=actor,
        )
    except LeadloopError as exc:
        context = {**_compare_context(pair), "error": exc.detail, "errors": exc.errors}
        return _render(request, "assessment/duplicates/compare.html", context, status=exc.status)
    messages.success(
        request,
        _("Lead #%(merged)d merged into lead #%(survivor)d.")
        % {"merged": merge.merged_id, "survivor": merge.survivor_id},
    )
    return redirect("assessment:duplicate-list")


@login_required
@require_POST
def duplicate_dismiss(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = _pair(request, pair_id)
    try:
        merging.dismiss_pair(pair, by=_actor(request))
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        return redirect("assessment:duplicate-list")
    if _is_htmx(request):
        return HttpResponse("")  # the row goes away
    messages.success(request, _("Marked as two different people."))
    return redirect("assessment:duplicate-list")


@login_required
@require_POST
def merge_undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    merge = _merge(request, merge_id)
    try:
        merging.undo_merge(merge, by=_actor(request))
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("Merge undone: lead #%(merged)d stands on its own again.")
            % {"merged": merge.merged_id},
        )
    return redirect("assessment:duplicate-list")


urlpatterns = [
    path("duplicates/", duplicate_list, name="duplicate-list"),
    path("duplicates/<int:pair_id>/", duplicate_detail, name="duplicate-detail"),
    path("duplicates/<int:pair_id>/merge", duplicate_merge, name="duplicate-merge"),
    path("duplicates/<int:pair_id>/dismiss", duplicate_dismiss, name="duplicate-dismiss"),
    path("duplicates/merges/<int:merge_id>/undo", merge_undo, name="merge-undo"),
]
