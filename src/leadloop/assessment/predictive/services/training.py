"""Train a model: the leakage check, fit and evaluation, the report, and storing it."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import joblib
import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive.services.features import (
    AFTER_CONTACT_SHARE,
    CLOSED,
    CLOSED_ONLY_EXPECTED,
    CLOSED_ONLY_SHARE,
    CLOSED_ONLY_SKEW,
    EFFECT_SAMPLE,
    EMPTY,
    LEAK_AUC,
    LEAKAGE_SAMPLE,
    MIN_AFTER_CONTACT,
    MIN_OPEN,
    MIN_ROW_ID,
    OPEN_CLOSED_GAP,
    OPT_IN_FIELDS,
    PRESENCE_GAP,
    ROW_ID_UNIQUE,
    SEED,
    TEST_SHARE,
    TOO_GOOD_AUC,
    LeadFeatures,
    LeadTable,
    Record,
    fit_pipeline,
    is_missing,
    is_present,
    make_pipeline,
    name_says_leaky,
    one_thread,
    value_of,
)
from leadloop.assessment.predictive.services.history import (
    History,
    _check_enough,
    candidate_fields,
    load_history,
)
from leadloop.assessment.predictive.services.scoring import invalidate, score_all_leads
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Source

logger = logging.getLogger(__name__)

_ID_NAME = re.compile(
    r"(^|[^a-z])(id|nr|no|ref|nummer|number|code|key)([^a-z]|$)|reference|kenmerk"
)


# --- Leakage check -------------------------------------------------------------------------------


def check_leakage(
    records: Sequence[Record],
    outcomes: np.ndarray,
    fields: Sequence[str],
    *,
    open_records: Sequence[Record] = (),
    filled_late: Sequence[frozenset[str]] = (),
) -> list[dict[str, Any]]:
    """Each field the way a data scientist looks at it, before any model sees it.

    On the closed leads: how well it predicts the outcome on its own (out-of-fold AUC) and how
    often it is filled in for won and for other leads. Against the open leads (the ones the
    model will score): how often it is filled in there, and which of its values only closed leads
    have. On the timeline: for how many leads it was first filled after sales' first contact.
    And: whether its values identify single leads, whether its name says sales fills it in.

    `flags` lists every reason found, strongest first; `flag` is the first (None: clean).
    """
    rows = np.arange(len(records))
    if len(rows) > LEAKAGE_SAMPLE:
        rows, _rest = train_test_split(
            rows, train_size=LEAKAGE_SAMPLE, stratify=outcomes, random_state=SEED
        )
    sample = np.empty(len(rows), dtype=object)
    sample[:] = [records[int(i)] for i in rows]
    late = [filled_late[int(i)] for i in rows] if len(filled_late) == len(records) else []
    y = outcomes[rows]
    opened = list(open_records) if len(open_records) >= MIN_OPEN else []
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    results = []
    for field in fields:
        present = np.array([is_present(r, field) for r in sample], dtype=bool)
        filled_won = float(present[y == 1].mean())
        filled_other = float(present[y == 0].mean())
        # Which values to keep depends on counts only, not on the outcome, so the features are
        # made once per field and only the model is cross-validated (5× faster than the pipeline).
        features = LeadFeatures(fields=(field,))
        matrix = DictVectorizer().fit_transform(features.fit_transform(sample))
        if matrix.shape[1]:
            probabilities = cross_val_predict(
                LogisticRegression(solver="liblinear"), matrix, y, cv=folds, method="predict_proba"
            )[:, 1]
            auc = float(roc_auc_score(y, probabilities))
        else:  # never filled in (no such activity at all): says nothing
            auc = 0.5
        auc = max(auc, 1 - auc)  # a field that predicts "lost" perfectly leaks just as much
        result: dict[str, Any] = {
            "field": field,
            "auc": round(auc, 4),
            "filled_won": round(filled_won, 4),
            "filled_other": round(filled_other, 4),
        }
        flags = []
        if auc >= LEAK_AUC:
            flags.append("predicts_alone")
        if _presence_depends_on_outcome(filled_won, filled_other):
            flags.append("presence")
        # Sales' activity counts are cut at the first contact already; the questions below are
        # about fields people fill in.
        if not field.startswith("activity."):
            kind = features.kinds_[field]
            if opened:
                filled_closed = float(present.mean())
                filled_open = float(np.mean([is_present(r, field) for r in opened]))
                result.update(
                    filled_closed=round(filled_closed, 4), filled_open=round(filled_open, 4)
                )
                if filled_closed - filled_open >= OPEN_CLOSED_GAP:
                    flags.append("open_closed")
                if kind == "category":
                    share, skew, examples = _closed_only_values(sample, y, opened, field)
                    result.update(closed_only_share=share, closed_only_values=examples)
                    if share >= CLOSED_ONLY_SHARE and skew >= CLOSED_ONLY_SKEW:
                        flags.append("closed_only")
            if late:
                late_count = sum(1 for i in np.flatnonzero(present) if field in late[i])
                late_share = late_count / max(int(present.sum()), 1)
                result["filled_after_contact"] = round(late_share, 4)
                if late_count >= MIN_AFTER_CONTACT and late_share >= AFTER_CONTACT_SHARE:
                    flags.append("after_contact_timeline")
            if kind in ("category", "number") and _identifies_rows(
                [value_of(r, field) for r in (*sample, *opened) if is_present(r, field)],
                field=field,
                kind=kind,
            ):
                flags.append("row_id")
            if name_says_leaky(field):
                flags.append("name")
        result.update(flag=flags[0] if flags else None, flags=flags)
        results.append(result)
    return results


def _presence_depends_on_outcome(filled_won: float, filled_other: float) -> bool:
    low, high = sorted((filled_won, filled_other))
    return high - low >= PRESENCE_GAP or (low <= 0.01 and high >= 0.3)


def _closed_only_values(
    sample: np.ndarray, y: np.ndarray, opened: Sequence[Record], field: str
) -> tuple[float, float, list[str]]:
    """The values closed leads have and open leads do not, although chance says they should have
    shown up there several times: the share of closed leads carrying one, how far their share won
    is from the overall one (weighted per value), and the commonest few."""
    closed: Counter[str] = Counter()
    won: Counter[str] = Counter()
    for record, outcome in zip(sample, y, strict=True):
        value = value_of(record, field)
        if not is_missing(value) and not isinstance(value, list | dict):
            closed[str(value).strip()[:100]] += 1
            won[str(value).strip()[:100]] += int(outcome)
    seen_open = Counter(
        str(v).strip()[:100]
        for v in (value_of(r, field) for r in opened)
        if not is_missing(v) and not isinstance(v, list | dict)
    )
    ratio = len(opened) / max(len(sample), 1)
    only = [
        value
        for value, count in closed.most_common()
        if count * ratio >= CLOSED_ONLY_EXPECTED and seen_open[value] <= 0.1 * count * ratio
    ]
    carried = sum(closed[v] for v in only)
    if not carried:
        return 0.0, 0.0, []
    base = float(y.mean())
    skew = sum(abs(won[v] / closed[v] - base) * closed[v] for v in only) / carried
    return round(carried / len(sample), 4), round(skew, 4), only[:3]


def _identifies_rows(values: list[Any], *, field: str, kind: str) -> bool:
    """Unique per lead: a reference, an e-mail address, a phone number, a URL. A number counts only
    when it is a whole number that runs as a sequence or is named as an id; amounts and durations
    are nearly unique too, and they are real features."""
    if len(values) < MIN_ROW_ID:
        return False
    texts = [str(v).strip() for v in values]
    if len(set(texts)) < ROW_ID_UNIQUE * len(texts):
        return False
    if kind == "category":
        return True
    numbers = [n for n in (_whole(t) for t in texts) if n is not None]
    if len(numbers) < len(texts):  # fractions, or words (a tenth of a number field may be)
        return False
    spread = max(numbers) - min(numbers) + 1
    return spread <= 2 * len(numbers) or bool(_ID_NAME.search(field.casefold()))


def _whole(text: str) -> float | None:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) and number.is_integer() else None


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
