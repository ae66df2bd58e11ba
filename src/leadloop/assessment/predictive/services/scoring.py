"""Score leads with the active model: one lead cheaply on intake, all open ones in batches."""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import joblib
import numpy as np
from django.db import transaction
from django.utils import timezone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive.services.features import (
    BATCH,
    CLOSED,
    TTL,
    LeadFeatures,
    LeadTable,
    _organisations,
    one_thread,
    record_of,
)
from leadloop.assessment.predictive.services.history import (
    _leads_with_organisation,
    _records,
    activity_counts,
)
from leadloop.assessment.predictive.services.trees import CompiledTrees
from leadloop.assessment.scoring import rules
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead

logger = logging.getLogger(__name__)


# --- Scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """The active model in this process, compiled for single leads: a weight per feature (linear)
    or the trees as plain lists (boosting)."""

    key: tuple[int, dt.datetime] | None
    pipeline: Pipeline | None
    features: LeadFeatures | None
    weights: dict[str, float]
    intercept: float
    checked_at: float
    snapshot: object
    trees: CompiledTrees | None = None


_lock = threading.Lock()
_loaded: _Loaded | None = None


def invalidate() -> None:
    """Forget the loaded model: the next prediction in this process checks which one is active."""
    global _loaded
    _loaded = None
    _organisations.clear()


def _compile(pipeline: Pipeline) -> tuple[dict[str, float], float]:
    # A linear model on scaled features is one weight per feature name: summing a lead's few
    # weights costs microseconds, where predict_proba on one row costs about a millisecond.
    names = pipeline.named_steps["vectorize"].feature_names_
    scale = pipeline.named_steps["scale"].scale_
    model = pipeline.named_steps["model"]
    weights = {
        name: float(w / s)
        for name, w, s in zip(names, model.coef_[0], scale, strict=True)
        if w != 0.0
    }
    return weights, float(model.intercept_[0])


def _active() -> _Loaded:
    """The active model, checked at most every TTL seconds and whenever the assessment rules were
    reloaded; loaded again only when another model became active."""
    global _loaded
    snapshot = rules.current()
    current = _loaded
    if (
        current is not None
        and current.snapshot is snapshot
        and time.monotonic() - current.checked_at < TTL
    ):
        return current
    with _lock:
        row = PredictiveModel.objects.filter(is_active=True).values_list("pk", "trained_at").first()
        key = (row[0], row[1]) if row else None
        if current is not None and current.key == key:
            _loaded = _Loaded(
                key,
                current.pipeline,
                current.features,
                current.weights,
                current.intercept,
                time.monotonic(),
                snapshot,
                current.trees,
            )
            return _loaded
        _organisations.clear()
        if key is None:
            _loaded = _Loaded(None, None, None, {}, 0.0, time.monotonic(), snapshot)
            return _loaded
        blob = PredictiveModel.objects.filter(pk=key[0]).values_list("blob", flat=True).first()
        try:
            pipeline = load_pipeline(bytes(blob)) if blob else None
        except Exception:  # e.g. stored by another scikit-learn version: score nothing, say so
            logger.exception("predictive model cannot be loaded model=%s", key[0])
            pipeline = None
        weights: dict[str, float] = {}
        intercept, trees = 0.0, None
        if pipeline is not None and isinstance(
            pipeline.named_steps["model"], HistGradientBoostingClassifier
        ):
            trees = CompiledTrees(pipeline.named_steps["model"])
        elif pipeline is not None:
            weights, intercept = _compile(pipeline)
        features = pipeline.named_steps["features"] if pipeline is not None else None
        _loaded = _Loaded(
            key,
            pipeline,
            features,
            weights,
            intercept,
            time.monotonic(),
            snapshot,
            trees,
        )
        return _loaded


def load_pipeline(blob: bytes) -> Pipeline:
    """A stored model's pipeline. Only blobs written by `train` are in the table."""
    pipeline: Pipeline = joblib.load(io.BytesIO(blob))
    return pipeline


def predict_for(lead: Lead) -> float | None:
    """The active model's chance (0–1) that `lead` is won; None when no model is active.

    Cheap enough for every lead at intake: the model is cached per process, a new lead (not yet
    saved) costs no query, a saved one one query for its timeline.
    """
    loaded = _active()
    if loaded.features is None:
        return None
    activity = activity_counts([lead.pk]).get(lead.pk) if lead.pk is not None else None
    record = record_of(lead, activity=activity)
    if loaded.trees is not None and isinstance(loaded.features, LeadTable):
        return round(_sigmoid(loaded.trees.log_odds(loaded.features.row_of(record))), 4)
    z = loaded.intercept
    weights = loaded.weights
    for name, value in loaded.features.features_of(record).items():
        z += weights.get(name, 0.0) * value
    return round(_sigmoid(z), 4)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _open_batches() -> Iterator[list[Lead]]:
    last = 0
    while True:
        batch = list(
            _leads_with_organisation(
                Lead.objects.exclude(status__in=CLOSED).filter(
                    merged_into__isnull=True, pk__gt=last
                )
            ).order_by("pk")[:BATCH]
        )
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def score_all_leads(*, now: dt.datetime | None = None) -> int:
    """Write the active model's chance to every open lead (and its priority, which uses it).

    Batches of BATCH leads, one executemany UPDATE each; returns how many were scored (0 when no
    model is active).
    """
    from leadloop.assessment.priority import priority_of

    loaded = _active()
    if loaded.pipeline is None:
        return 0
    now = now or timezone.now()
    scored = 0
    for batch in _open_batches():
        records = np.empty(len(batch), dtype=object)
        records[:] = _records(batch)
        with one_thread():
            chances = loaded.pipeline.predict_proba(records)[:, 1]
        for lead, chance in zip(batch, chances, strict=True):
            lead.predictive_score = round(float(chance), 4)
            lead.priority, _parts = priority_of(lead, now=now)
        with transaction.atomic():
            scored += leads_services.apply_bulk(batch, ["predictive_score", "priority"])
    logger.info("predictive scores written leads=%d model=%s", scored, loaded.key)
    return scored
