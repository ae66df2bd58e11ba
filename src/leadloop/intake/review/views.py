"""The review side of intake: the submission queue, one submission, fix and reprocess, the mapping
editor with its live preview, and "show original" on a lead.

Queue, detail and mapping are for marketing and admins (others get a 404, no hint). The original
of a lead is for anyone who may see that lead. Every POST works without JavaScript (redirect after
success, the page again with errors and a 4xx).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.core import paging
from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.intake import selectors, services
from leadloop.intake.mapping import TRANSFORMS
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.review.forms import (
    TRANSFORM_CHOICES,
    FixForm,
    MappingForm,
    target_choices,
    target_label,
)
from leadloop.intake.review.originals import download, record_original_seen
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.contact import has_minimum_contact
from leadloop.leads.models import Source

PAGE_SIZE = 50
TABS = (
    SubmissionState.QUARANTINED,
    SubmissionState.REJECTED,
    SubmissionState.THROTTLED,
    SubmissionState.RECEIVED,
    SubmissionState.PROCESSED,
)
# A stored content type is what the sender said; only a plain "type/subtype; params" goes back out.


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


def _require_reviewer(request: HttpRequest) -> User:
    actor = _actor(request)
    if not can(actor, Permission.REVIEW_INTAKE):
        raise Http404(_("No such page."))
    return actor


def _get_submission(request: HttpRequest, submission_id: int) -> RawSubmission:
    return selectors.get_submission_for(_actor(request), submission_id)


def _get_source(request: HttpRequest, source_id: int) -> Source:
    _require_reviewer(request)
    return leads_selectors.get_source_for(_actor(request), source_id)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- The queue -----------------------------------------------------------------------------------


@login_required
@require_GET
def submission_list(request: HttpRequest) -> HttpResponse:
    actor = _require_reviewer(request)
    state = request.GET.get("state", "")
    if state not in TABS:
        state = SubmissionState.QUARANTINED
    source_id = _int_or_none(request.GET.get("source"))
    channel = request.GET.get("channel", "")[:20]
    cursor = request.GET.get("cursor") or None
    filters: dict[str, Any] = {"source": source_id or "", "channel": channel}
    try:
        page = selectors.list_submissions(
            actor, state=state, source_id=source_id, channel=channel or None, cursor=cursor,
            limit=PAGE_SIZE,
        )  # fmt: skip
    except ValidationFailed:
        page = selectors.list_submissions(
            actor, state=state, source_id=source_id, channel=channel or None, limit=PAGE_SIZE
        )
    counts = selectors.count_by_state(actor, source_id=source_id)
    kept = {k: v for k, v in filters.items() if v}
    context = {
        "tabs": [
            (
                value,
                SubmissionState(value).label,
                counts[value],
                urlencode({**kept, "state": value}),
            )
            for value in TABS
        ],
        "state": state,
        "state_label": SubmissionState(state).label,
        "page": page,
        "submissions": page.items,
        "sources": leads_selectors.list_sources(actor).only("id", "name"),
        "channels": selectors.list_channels(actor),
        "source_id": source_id,
        "channel": channel,
        "pager": paging.pager({**kept, "state": state}, page, counts[state], False),
    }
    return _render(request, "intake/review/submission_list.html", context)


# --- One submission ------------------------------------------------------------------------------


def _detail_context(
    request: HttpRequest, submission: RawSubmission, *, fix_form: FixForm | None = None
) -> dict[str, Any]:
    record = selectors.record_of(submission)
    trace = selectors.trace_mapping(submission)
    by_label = {label: (target, value) for label, target, value in trace.rows}
    field_rows = []
    for label, value in sorted(record.items(), key=lambda item: item[0].lower()):
        target, mapped = by_label.get(label, ("", ""))
        field_rows.append((label, value, target, target_label(target) if target else "", mapped))
    children, child_count = selectors.list_children(submission)
    fix_form = fix_form or FixForm(record=record)
    return {
        "submission": submission,
        "raw": selectors.read_body(submission),
        "field_rows": field_rows,
        "trace": trace,
        "fix_form": fix_form,
        "fix_rows": [{"label": k, "value": v} for k, v in fix_form.rows]
        or [{"label": "", "value": ""}],
        "children": children,
        "child_count": child_count,
        "is_reviewer": True,
        "download_url": reverse("intake:submission-download", args=[submission.pk]),
    }


@login_required
@require_GET
def submission_detail(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _get_submission(request, submission_id)
    return _render(
        request, "intake/review/submission_detail.html", _detail_context(request, submission)
    )


def _after_reprocess(request: HttpRequest, result: RawSubmission) -> HttpResponse:
    if result.state == SubmissionState.PROCESSED and result.lead_id:
        messages.success(
            request,
            _("Processed: lead #%(lead)d (%(disposition)s).")
            % {"lead": result.lead_id, "disposition": result.get_disposition_display()},
        )
    elif result.state == SubmissionState.PROCESSED:
        messages.success(request, _("Processed."))
    else:
        messages.warning(
            request,
            _("Still %(state)s: %(reasons)s")
            % {
                "state": result.get_state_display().lower(),
                "reasons": " ".join(str(r.get("message", "")) for r in result.reasons),
            },
        )
    return redirect("intake:submission-detail", submission_id=result.pk)


@login_required
@require_POST
def submission_reprocess(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _get_submission(request, submission_id)
    try:
        result = services.reprocess(submission, by=_actor(request))
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        return redirect("intake:submission-detail", submission_id=submission.pk)
    return _after_reprocess(request, result)


@login_required
@require_POST
def submission_fix(request: HttpRequest, submission_id: int) -> HttpResponse:
    submission = _get_submission(request, submission_id)
    form = FixForm(request.POST, record=selectors.record_of(submission))
    status = 422
    if form.is_valid():
        try:
            result = services.reprocess(
                submission, by=_actor(request), corrected_fields=form.corrected
            )
        except LeadloopError as exc:
            form.apply_service_error(exc)
            status = exc.status
        else:
            return _after_reprocess(request, result)
    context = _detail_context(request, submission, fix_form=form)
    return _render(request, "intake/review/submission_detail.html", context, status=status)


@login_required
@require_GET
def submission_download(request: HttpRequest, submission_id: int) -> HttpResponse:
    return download(_get_submission(request, submission_id), by=_actor(request), request=request)


# --- "Show original" on a lead -------------------------------------------------------------------


def _original_for_lead(request: HttpRequest, lead_id: int) -> RawSubmission | None:
    return services.original_for_lead(_actor(request), lead_id)


@login_required
@require_GET
def lead_original(request: HttpRequest, lead_id: int) -> HttpResponse:
    submission = _original_for_lead(request, lead_id)
    context: dict[str, Any] = {"lead_id": lead_id, "submission": submission}
    if submission is not None:
        record_original_seen(submission, by=_actor(request), request=request, downloaded=False)
        context.update(
            raw=selectors.read_body(submission),
            is_reviewer=can_manage_configuration(_actor(request)),
            download_url=reverse("intake:lead-original-download", args=[lead_id]),
        )
    return _render(request, "intake/review/lead_original.html", context)


@login_required
@require_GET
def lead_original_download(request: HttpRequest, lead_id: int) -> HttpResponse:
    submission = _original_for_lead(request, lead_id)
    if submission is None:
        raise Http404(_("This lead has no original."))
    return download(submission, by=_actor(request), request=request)


# --- Mapping editor ------------------------------------------------------------------------------


def _mapping_context(request: HttpRequest, source: Source, form: MappingForm) -> dict[str, Any]:
    actor = _actor(request)
    seen = selectors.list_seen_labels(actor, source)
    mapped = {row.key for row in form.rows["fields"]}
    counts = selectors.count_by_state(actor, source_id=source.pk)
    targets = target_choices()
    return {
        "source": source,
        "form": form,
        "sections": form.sections_with_blanks(),
        "targets": targets,
        "target_names": {name for name, _label in targets},
        "transform_choices": TRANSFORM_CHOICES,
        "transforms_help": _(
            "Change a lead field's value before it is stored: %(transforms)s. "
            "A date format reads dates such as 31-12-2024 with date:%%d-%%m-%%Y."
        )
        % {"transforms": ", ".join(TRANSFORMS)},
        "seen": [
            (s, target_label(s.suggested) if s.suggested else "", s.label in mapped) for s in seen
        ],
        "previews": _previews(source, form),
        "reviewable": counts[SubmissionState.QUARANTINED] + counts[SubmissionState.REJECTED],
    }


def _previews(source: Source, form: MappingForm) -> dict[str, Any]:
    """What the mapping being edited makes of the source's last submissions (nothing saved)."""
    if not form.is_valid():
        return {"problems": form.problems(), "items": []}
    items = services.preview_mapping(source, form.mapping)
    for item in items:
        item["no_contact"] = not has_minimum_contact(item["values"], source.minimum_contact)
        item["values"] = sorted(
            ((target_label(k), k, v) for k, v in item["values"].items()), key=lambda x: x[0]
        )
        item["extra"] = sorted(item["extra"].items())
    return {"problems": [], "items": items}


@login_required
def source_mapping(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    if request.method != "POST":
        form = MappingForm(initial=source.field_mapping)
        return _render(
            request, "intake/review/mapping.html", _mapping_context(request, source, form)
        )
    form = MappingForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            services.set_mapping(source, mapping=form.mapping, by=_actor(request))
        except LeadloopError as exc:
            form.apply_service_error(exc)
            status = exc.status
        else:
            messages.success(request, _("Mapping saved."))
            return redirect("intake:source-mapping", source_id=source.pk)
    context = _mapping_context(request, source, form)
    return _render(request, "intake/review/mapping.html", context, status=status)


@login_required
@require_POST
def source_mapping_preview(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    form = MappingForm(request.POST)
    context = {"source": source, "previews": _previews(source, form)}
    return _render(request, "intake/review/_mapping_preview.html", context)


@login_required
@require_POST
def source_reprocess_all(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    try:
        outcome = services.reprocess_all(source, by=_actor(request))
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        total = sum(outcome.values())
        if not total:
            messages.info(request, _("Nothing to reprocess."))
        else:
            messages.success(
                request,
                _(
                    "Reprocessed %(total)d: %(processed)d processed, %(quarantined)d "
                    "quarantined, %(rejected)d rejected."
                )
                % {
                    "total": total,
                    "processed": outcome.get(SubmissionState.PROCESSED, 0),
                    "quarantined": outcome.get(SubmissionState.QUARANTINED, 0),
                    "rejected": outcome.get(SubmissionState.REJECTED, 0),
                },
            )
    return redirect("intake:source-mapping", source_id=source.pk)
