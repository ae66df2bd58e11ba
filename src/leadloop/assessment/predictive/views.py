"""The predictive model pages under /assessment/models/: train (with the fields the leakage check
left out as checkboxes), the active model's report, and the history of models.

For marketing and admins only; everyone else gets a 404. Training runs in the request: at the
size of a year's history it takes seconds, and the person sees the report at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, can
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive import services as predictive
from leadloop.core.labels import decimal
from leadloop.errors import LeadloopError


def _require_reviewer(request: HttpRequest) -> User:
    actor: User = request.user  # type: ignore[assignment]
    if not can(actor, Permission.VIEW_PREDICTIVE_MODELS):
        raise Http404(_("No such page."))
    return actor


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, template, context, status=status)


def report_view(model: PredictiveModel) -> dict[str, Any]:
    """A stored report with every value a template shows already worked out (words, percents)."""
    report = model.report
    counts = report.get("class_counts", {})
    warnings = report.get("warnings", [])
    return {
        "model": model,
        "auc": report.get("auc"),
        "model_kind": predictive.model_kind_label(report.get("model_kind", "linear")),
        "validation": [
            {"kind": predictive.model_kind_label(kind), "auc": auc}
            for kind, auc in report.get("validation_auc", {}).items()
        ],
        "training_size": report.get("training_size", model.training_size),
        "train_rows": report.get("train_rows"),
        "test_rows": report.get("test_rows"),
        "won": counts.get("won", 0),
        "lost": counts.get("lost", 0),
        "disqualified": counts.get("disqualified", 0),
        "base_rate": 100 * report.get("base_rate", 0),
        "lift": [
            {**row, "rate_pct": 100 * row["rate"], "captured_pct": 100 * row["captured"]}
            for row in report.get("lift", [])
        ],
        "calibration": [
            {
                **row,
                "predicted_pct": 100 * row["predicted"],
                "observed_pct": 100 * row["observed"],
                "low_pct": round(100 * row["low"]),
                "high_pct": round(100 * row["high"]),
            }
            for row in report.get("calibration", [])
        ],
        "factors": [
            {"text": predictive.factor_text(f, report), "raises": f["weight"] > 0}
            for f in report.get("factors", [])
        ],
        "importance": [
            {"label": predictive.field_label(i["field"]), "auc_drop": i["auc_drop"]}
            for i in report.get("importance", [])[:10]
        ],
        "excluded": _fields(report.get("excluded", [])),
        "included": _fields(report.get("included", [])),
        "not_used": [predictive.field_label(i["field"]) for i in report.get("not_used", [])],
        "too_good": next(
            (predictive.warning_text(w) for w in warnings if w["code"] == "too_good"), ""
        ),
        "warnings": [predictive.warning_text(w) for w in warnings if w["code"] != "too_good"],
    }


def _fields(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "field": item["field"],
            "label": predictive.field_label(item["field"]),
            "reason": predictive.flag_reason(item),
            "reasons": predictive.flag_reasons(item),
            "auc": item.get("auc"),
        }
        for item in items
    ]


def _page(
    request: HttpRequest, actor: User, *, form_error: str = "", status: int = 200
) -> HttpResponse:
    active = predictive.get_active_model(actor)
    chosen = set(request.POST.getlist("include")) if request.method == "POST" else None
    includable = [
        {
            "field": item["field"],
            "label": predictive.field_label(item["field"]),
            "reason": predictive.flag_reason(item),
            "checked": item["field"] in chosen if chosen is not None else item["included"],
        }
        for item in predictive.includable_fields(actor)
    ]
    context = {
        "active": report_view(active) if active is not None else None,
        "history": list(predictive.list_models(actor)[:50]),
        "includable": includable,
        "form_error": form_error,
    }
    return _render(request, "assessment/predictive/model_list.html", context, status=status)


@login_required
@require_GET
def model_list(request: HttpRequest) -> HttpResponse:
    actor = _require_reviewer(request)
    return _page(request, actor)


@login_required
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    actor = _require_reviewer(request)
    try:
        model, scored = predictive.train_and_score(
            by=actor, include=request.POST.getlist("include")
        )
    except LeadloopError as exc:
        return _page(request, actor, form_error=exc.detail, status=exc.status)
    messages.success(
        request,
        _("Model %(id)d trained (AUC %(auc)s) and %(scored)d open leads scored.")
        % {"id": model.pk, "auc": decimal(model.auc or 0.0, 3), "scored": scored},
    )
    return redirect("assessment:model-list")


@login_required
@require_GET
def model_detail(request: HttpRequest, model_id: int) -> HttpResponse:
    actor = _require_reviewer(request)
    model = predictive.get_model(actor, model_id)
    context = {"report": report_view(model)}
    return _render(request, "assessment/predictive/model_detail.html", context)


urlpatterns: list[URLPattern] = [
    path("models/", model_list, name="model-list"),
    path("models/train/", model_train, name="model-train"),
    path("models/<int:model_id>/", model_detail, name="model-detail"),
]
