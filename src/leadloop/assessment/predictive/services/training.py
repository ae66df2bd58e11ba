"""Train a model: the leakage check, fit and evaluation, the report, and storing it."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import joblib
import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive.services.features import (
    CLOSED,
    EFFECT_SAMPLE,
    EMPTY,
    OPT_IN_FIELDS,
    SEED,
    TEST_SHARE,
    TOO_GOOD_AUC,
    LeadTable,
    Record,
    fit_pipeline,
    make_pipeline,
    one_thread,
    value_of,
)
from leadloop.assessment.predictive.services.history import (
    History,
    _check_enough,
    candidate_fields,
    load_history,
)
from leadloop.assessment.predictive.services.leakage import check_leakage
from leadloop.assessment.predictive.services.scoring import invalidate, score_all_leads
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Source

logger = logging.getLogger(__name__)

# --- Training and evaluation ---------------------------------------------------------------------


def train(
    *, by: Actor, include: Iterable[str] = (), now: dt.datetime | None = None
) -> PredictiveModel:
    """Check the fields for leakage, fit on the closed leads, evaluate on a held-out quarter,
    store the model with its report and make it the active one.

    Only marketing and admins (and the CLI) may train. ValidationFailed when there is too little
    history or an included field is unknown.
    """
    require(by, Permission.TRAIN_MODELS)
    wanted = list(dict.fromkeys(str(f).strip() for f in include if str(f).strip()))
    began = time.perf_counter()
    history = load_history()
    _check_enough(history)
    candidates = candidate_fields(history.records)
    unknown = [f for f in wanted if f not in candidates and f not in OPT_IN_FIELDS]
    if unknown:
        message = _("Unknown field to include: %(fields)s. Choose from: %(known)s.") % {
            "fields": ", ".join(unknown),
            "known": ", ".join([*candidates, *OPT_IN_FIELDS]),
        }
        raise ValidationFailed(message, errors={"include": [", ".join(unknown)]})
    checks = check_leakage(
        history.records,
        history.outcomes,
        candidates,
        open_records=history.open_records,
        filled_late=history.filled_late,
    )
    flagged = {c["field"]: c for c in checks if c["flag"]}
    identifiers = [f for f in wanted if flagged.get(f, {}).get("flag") == "row_id"]
    if identifiers:
        message = _(
            "%(fields)s identify single leads (nearly every value is different): such a field "
            "is never used."
        ) % {"fields": ", ".join(identifiers)}
        raise ValidationFailed(message, errors={"include": [", ".join(identifiers)]})
    fields = [f for f in candidates if f not in flagged or f in wanted]
    fields += [f for f in wanted if f in OPT_IN_FIELDS]
    with one_thread():
        report = _fit_and_report(history, fields)
    pipeline = report.pop("_pipeline")
    report.update(
        checks=checks,
        excluded=[c for f, c in flagged.items() if f not in wanted],
        included=[
            {**flagged.get(f, {"field": f, "flag": "after_contact"}), "included": True}
            for f in wanted
        ],
        not_used=[{"field": f, "flag": "after_contact"} for f in OPT_IN_FIELDS if f not in wanted],
        class_counts={str(status): history.statuses.get(status, 0) for status in CLOSED},
        training_size=len(history.outcomes),
        seconds=round(time.perf_counter() - began, 2),
    )
    report["warnings"] = _warnings(report)
    return _store(pipeline, report, by=by, included=wanted, now=now or timezone.now())


def _fit_and_report(history: History, fields: list[str]) -> dict[str, Any]:
    records = np.empty(len(history.records), dtype=object)
    records[:] = history.records
    y = history.outcomes
    train_rows, test_rows = train_test_split(
        np.arange(len(y)), test_size=TEST_SHARE, stratify=y, random_state=SEED
    )
    try:
        kind, validation = _choose_kind(records[train_rows], y[train_rows], fields)
        pipeline = make_pipeline(fields, kind=kind)
        fit_pipeline(pipeline, records[train_rows], y[train_rows])
    except ValueError as exc:  # every usable field is empty for every lead
        raise ValidationFailed(
            _("The closed leads have nothing to learn from: every usable field is empty.")
        ) from exc
    test_records, test_y = records[test_rows], y[test_rows]
    predicted = pipeline.predict_proba(test_records)[:, 1]
    auc = float(roc_auc_score(test_y, predicted))
    base_rate = float(test_y.mean())
    return {
        "_pipeline": pipeline,
        "version": 2,
        "model_kind": kind,
        "validation_auc": validation,
        "seed": SEED,
        "test_share": TEST_SHARE,
        "train_rows": len(train_rows),
        "test_rows": len(test_rows),
        "positives": int(y.sum()),
        "negatives": int(len(y) - y.sum()),
        "auc": round(auc, 4),
        "base_rate": round(base_rate, 4),
        "lift": lift_by_decile(test_y, predicted),
        "calibration": calibration(test_y, predicted),
        "factors": top_factors(pipeline, test_records),
        "importance": field_importance(pipeline, test_records, test_y, fields, auc),
        "fields_used": fields,
        "labels": _labels(fields),
    }


def _choose_kind(
    records: np.ndarray, y: np.ndarray, fields: list[str]
) -> tuple[str, dict[str, float]]:
    """Gradient-boosted trees or the logistic regression: whichever predicts a validation part of
    the training leads better (the test quarter stays unseen). Trees win on most histories; on a
    few hundred leads with one or two strong fields the linear model can."""
    if len(y) < 40 or min(int(y.sum()), int(len(y) - y.sum())) < 10:
        return "linear", {}
    fit_rows, check_rows = train_test_split(
        np.arange(len(y)), test_size=TEST_SHARE, stratify=y, random_state=SEED
    )
    validation = {}
    for kind in ("boosting", "linear"):
        candidate = make_pipeline(fields, kind=kind)
        fit_pipeline(candidate, records[fit_rows], y[fit_rows])
        predicted = candidate.predict_proba(records[check_rows])[:, 1]
        validation[kind] = round(float(roc_auc_score(y[check_rows], predicted)), 4)
    kind = "boosting" if validation["boosting"] >= validation["linear"] else "linear"
    return kind, validation


def lift_by_decile(outcomes: np.ndarray, predicted: np.ndarray) -> list[dict[str, Any]]:
    """Ten equal groups from the highest score down: share won in each against the base rate."""
    order = np.argsort(-predicted, kind="stable")
    total_won = max(int(outcomes.sum()), 1)
    base = float(outcomes.mean()) or 1.0
    rows, captured = [], 0
    for index, part in enumerate(np.array_split(order, 10), start=1):
        won = int(outcomes[part].sum())
        captured += won
        rate = won / len(part) if len(part) else 0.0
        rows.append(
            {
                "decile": index,
                "leads": len(part),
                "won": won,
                "rate": round(rate, 4),
                "lift": round(rate / base, 2),
                "captured": round(captured / total_won, 4),
                "min_score": round(float(predicted[part].min()), 4) if len(part) else None,
            }
        )
    return rows


def calibration(outcomes: np.ndarray, predicted: np.ndarray) -> list[dict[str, Any]]:
    """Per tenth of the probability scale: the mean predicted chance against the share won."""
    rows = []
    bins = np.minimum((predicted * 10).astype(int), 9)
    for index in range(10):
        mask = bins == index
        if not mask.any():
            continue
        rows.append(
            {
                "low": index / 10,
                "high": (index + 1) / 10,
                "leads": int(mask.sum()),
                "predicted": round(float(predicted[mask].mean()), 4),
                "observed": round(float(outcomes[mask].mean()), 4),
            }
        )
    return rows


def top_factors(
    pipeline: Pipeline, records: np.ndarray | None = None, limit: int = 8
) -> list[dict[str, Any]]:
    """The features that move the odds most, each way: a linear model's weights on the scaled
    features, or for trees the average change in log-odds when a value is given to every tested
    lead (a partial dependence; for a number, from its lower to its upper quartile)."""
    if isinstance(pipeline.named_steps["model"], HistGradientBoostingClassifier):
        effects = _tree_effects(pipeline, records if records is not None else np.empty(0))
    else:
        names = pipeline.named_steps["vectorize"].feature_names_
        effects = list(
            zip(names, (float(w) for w in pipeline.named_steps["model"].coef_[0]), strict=True)
        )
    ranked = sorted(effects, key=lambda item: -abs(item[1]))
    chosen = [item for item in ranked if item[1] > 0.05][:limit]
    chosen += [item for item in ranked if item[1] < -0.05][:limit]
    return [
        {"feature": name, "weight": round(float(w), 4), "odds_ratio": round(math.exp(w), 3)}
        for name, w in sorted(chosen, key=lambda item: -item[1])
    ]


def _tree_effects(pipeline: Pipeline, records: np.ndarray) -> list[tuple[str, float]]:
    features: LeadTable = pipeline.named_steps["features"]
    model: HistGradientBoostingClassifier = pipeline.named_steps["model"]
    if not len(records):
        return []
    rng = np.random.default_rng(SEED)
    chosen = rng.permutation(len(records))[:EFFECT_SAMPLE]
    table = features.transform(records[chosen])
    average = float(model.decision_function(table).mean())

    def mean_with(column: int, value: float) -> float:
        changed = table.copy()
        changed[:, column] = value
        return float(model.decision_function(changed).mean())

    effects: list[tuple[str, float]] = []
    for column, (name, field) in enumerate(
        zip(features.columns_, features.column_fields_, strict=True)
    ):
        kind = features.kinds_[field]
        if kind == "words":
            effects.append((name, mean_with(column, 1.0) - mean_with(column, 0.0)))
        elif kind == "category":
            for value, code in features.codes_[field].items():
                effects.append((f"{field}={value}", mean_with(column, float(code)) - average))
            effects.append((f"{field}={EMPTY}", mean_with(column, math.nan) - average))
        else:
            present = table[:, column][~np.isnan(table[:, column])]
            if len(present):
                low, high = np.percentile(present, [25, 75])
                if high > low:
                    effects.append((field, mean_with(column, high) - mean_with(column, low)))
    return effects


def field_importance(
    pipeline: Pipeline,
    records: np.ndarray,
    outcomes: np.ndarray,
    fields: Sequence[str],
    auc: float,
) -> list[dict[str, Any]]:
    """Permutation importance per field: how much the held-out AUC drops when its values are
    shuffled between leads."""
    rng = np.random.default_rng(SEED)
    result = []
    for field in fields:
        values = [value_of(r, field) for r in records]
        shuffled = [values[i] for i in rng.permutation(len(values))]
        changed = np.empty(len(records), dtype=object)
        changed[:] = [_with_value(r, field, v) for r, v in zip(records, shuffled, strict=True)]
        drop = auc - float(roc_auc_score(outcomes, pipeline.predict_proba(changed)[:, 1]))
        result.append({"field": field, "auc_drop": round(drop, 4)})
    return sorted(result, key=lambda item: -item["auc_drop"])


def _with_value(record: Record, field: str, value: Any) -> Record:
    copy = dict(record)
    if field.startswith("extra."):
        copy["extra"] = {**record["extra"], field[6:]: value}
    elif field.startswith("activity."):
        copy["activity"] = {**record["activity"], field[9:]: value}
    else:
        copy[field] = value
    return copy


def _labels(fields: Sequence[str]) -> dict[str, str]:
    """Source ids → names, so the report reads 'Source is Website' (kept as it was at training)."""
    if "source" not in fields:
        return {}
    return {str(pk): name for pk, name in Source.objects.values_list("pk", "name")}


def _warnings(report: dict[str, Any]) -> list[dict[str, Any]]:
    warnings = []
    if report["auc"] >= TOO_GOOD_AUC:
        warnings.append({"code": "too_good", "auc": report["auc"]})
    if report["included"]:
        warnings.append({"code": "included", "fields": [i["field"] for i in report["included"]]})
    return warnings


@transaction.atomic
def _store(
    pipeline: Pipeline,
    report: dict[str, Any],
    *,
    by: Actor,
    included: list[str],
    now: dt.datetime,
) -> PredictiveModel:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    # Lock the active row first: two trainings at once must not both end up active.
    list(PredictiveModel.objects.select_for_update().filter(is_active=True).values_list("pk"))
    PredictiveModel.objects.filter(is_active=True).update(is_active=False)
    model = PredictiveModel.objects.create(
        trained_at=now,
        trained_by=by if isinstance(by, User) else None,
        is_active=True,
        included_fields=included,
        report=report,
        blob=buffer.getvalue(),
        auc=report["auc"],
        training_size=report["training_size"],
    )
    transaction.on_commit(invalidate)
    logger.info(
        "predictive model trained model=%s auc=%.3f size=%d excluded=%s",
        model.pk,
        report["auc"],
        report["training_size"],
        ",".join(e["field"] for e in report["excluded"]),
    )
    return model


def train_and_score(*, by: Actor, include: Iterable[str] = ()) -> tuple[PredictiveModel, int]:
    """Train (see `train`), then score every open lead with the new model."""
    model = train(by=by, include=include)
    invalidate()
    return model, score_all_leads()
