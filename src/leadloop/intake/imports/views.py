"""Batch import in the UI: the list of imported files, upload, confirm the columns, and a progress
page that polls the batch row (HTMX every second; without JavaScript, a refresh link).

For marketing and admins, like the review queue; everyone else gets a 404.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from leadloop.accounts.models import User
from leadloop.errors import LeadloopError
from leadloop.intake import selectors
from leadloop.intake.imports import services as import_batches
from leadloop.intake.imports.bulk import OUTCOME
from leadloop.intake.imports.reader import ImportFileError
from leadloop.intake.mapping import EXTRA, IGNORE
from leadloop.intake.models import ImportBatch
from leadloop.intake.review.forms import target_choices
from leadloop.intake.review.views import _is_htmx, _render, _require_reviewer
from leadloop.leads import selectors as leads_selectors


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV, TSV, XLSX, XLS or ODS, with a header row."),
    )
    source = forms.TypedChoiceField(label=gettext_lazy("Source"), coerce=int)
    campaign = forms.TypedChoiceField(
        label=gettext_lazy("Campaign"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = {s.pk: s for s in leads_selectors.list_sources(actor)}
        self.campaigns = {c.pk: c for c in leads_selectors.list_campaigns(actor)}
        source_field: Any = self.fields["source"]
        source_field.choices = [("", _("— choose —"))] + [
            (pk, s.name) for pk, s in self.sources.items()
        ]
        campaign_field: Any = self.fields["campaign"]
        campaign_field.choices = [("", _("None"))] + [
            (pk, f"{c.name} ({c.source.name})") for pk, c in self.campaigns.items()
        ]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.LEADLOOP_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
            )
        return upload


def _get_batch(request: HttpRequest, batch_id: int) -> ImportBatch:
    actor = _require_reviewer(request)
    return selectors.get_import_batch_for(actor, batch_id)


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    actor = _require_reviewer(request)
    context = {"batches": selectors.list_import_batches(actor)}
    return _render(request, "intake/imports/import_list.html", context)


@login_required
def import_create(request: HttpRequest) -> HttpResponse:
    actor = _require_reviewer(request)
    form = UploadForm(request.POST or None, request.FILES or None, actor=actor)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = import_batches.store_upload(
                    upload,
                    filename=upload.name,
                    source=form.sources[form.cleaned_data["source"]],
                    campaign=form.campaigns.get(form.cleaned_data["campaign"] or 0),
                    by=actor,
                )
            except LeadloopError as exc:
                form.add_error(None, exc.detail)
                status = exc.status
            else:
                if not batch.can_start:
                    messages.info(request, _("This file was imported into this source before."))
                    return redirect("intake:import-detail", batch_id=batch.pk)
                return redirect("intake:import-confirm", batch_id=batch.pk)
    return _render(request, "intake/imports/import_create.html", {"form": form}, status=status)


def _outcome_context(
    batch: ImportBatch, chosen: dict[str, str], picked: dict[str, str] | None = None
) -> dict[str, Any]:
    """The outcome column (the first one chosen as such) and its values with their meaning."""
    column = next((h for h, target in chosen.items() if target == OUTCOME), None)
    values = import_batches.read_outcome_values(batch, column, chosen=picked) if column else []
    return {
        "batch": batch,
        "outcome_column": column,
        "outcome_values": values,
        "outcome_choices": [
            ("", _("Not an outcome: keep it as an extra field, the lead stays open")),
            ("won", _("Won")),
            ("lost", _("Lost")),
            ("disqualified", _("Disqualified")),
            ("open", _("Open")),
        ],
    }


def _posted_outcome_values(request: HttpRequest) -> dict[str, str]:
    """{value: choice} from the confirm form's outcome rows (choices left empty are not sent on)."""
    picked: dict[str, str] = {}
    for key in request.POST:
        if key.startswith("outcome-value-"):
            value = request.POST.get(key, "")
            choice = request.POST.get(f"outcome-choice-{key.removeprefix('outcome-value-')}", "")
            if choice:
                picked[value] = choice
    return picked


def _confirm_context(
    batch: ImportBatch,
    *,
    chosen: dict[str, str] | None = None,
    picked: dict[str, str] | None = None,
) -> dict[str, Any]:
    preview = import_batches.preview_batch(batch)
    chosen = chosen or preview.suggested
    targets = [
        *target_choices(),
        (OUTCOME, _("Outcome (won, lost or disqualified)")),
        (EXTRA, _("Keep as an extra field")),
        (IGNORE, _("Ignore this column")),
    ]
    return {
        **_outcome_context(batch, chosen, picked),
        "preview": preview,
        "targets": targets,
        "columns": [
            (index, header, chosen.get(header, EXTRA), preview.samples[header])
            for index, header in enumerate(preview.headers)
        ],
    }


@login_required
def import_confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch(request, batch_id)
    if not batch.can_start:
        return redirect("intake:import-detail", batch_id=batch.pk)
    try:
        if request.method != "POST":
            context = _confirm_context(batch)
            return _render(request, "intake/imports/import_confirm.html", context)
        suggested = import_batches.suggested_fields(batch)
    except ImportFileError as exc:
        context = {"batch": batch, "file_error": str(exc)}
        return _render(request, "intake/imports/import_confirm.html", context, status=422)
    # A column the form did not send keeps its suggestion.
    fields = {
        h: request.POST.get(f"target-{i}") or target
        for i, (h, target) in enumerate(suggested.items())
    }
    picked = _posted_outcome_values(request)
    try:
        import_batches.start_batch(
            batch, fields=fields, outcome_values=picked, by=_require_reviewer(request)
        )
    except LeadloopError as exc:
        messages.error(request, exc.detail)
        context = _confirm_context(batch, chosen=fields, picked=picked)
        return _render(request, "intake/imports/import_confirm.html", context, status=exc.status)
    return redirect("intake:import-detail", batch_id=batch.pk)


@login_required
@require_GET
def import_outcome_values(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The confirm page's outcome section for the columns as chosen now (htmx, on each change)."""
    batch = _get_batch(request, batch_id)
    if not batch.can_start:
        raise Http404(_("This import has already started."))
    try:
        suggested = import_batches.suggested_fields(batch)
        chosen = {
            h: request.GET.get(f"target-{i}") or target
            for i, (h, target) in enumerate(suggested.items())
        }
        context = _outcome_context(batch, chosen)
    except ImportFileError as exc:
        context = {"batch": batch, "file_error": str(exc)}
    return _render(request, "intake/imports/_outcome_values.html", context)


@login_required
@require_GET
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _get_batch(request, batch_id)
    context = {
        "batch": batch,
        "has_report": import_batches.rejected_report(batch) is not None,
        "leads_url": f"{reverse('leads:lead-list')}?source={batch.source_id}",
    }
    if _is_htmx(request):
        return _render(request, "intake/imports/_progress.html", context)
    return _render(request, "intake/imports/import_detail.html", context)


@login_required
@require_GET
def import_rejected(request: HttpRequest, batch_id: int) -> FileResponse:
    batch = _get_batch(request, batch_id)
    return rejected_response(batch)


def rejected_response(batch: ImportBatch) -> FileResponse:
    """The rejected-row report as a CSV download (its cells were neutralised when written)."""
    path = import_batches.rejected_report(batch)
    if path is None:
        raise Http404(_("This import rejected no rows."))
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{batch.pk}-rejected.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
