"""The predictive score: the chance that a lead is won, learned from leads whose outcome is known.

    model = train(by=user, include=["extra.contract_number"])  # leakage check, fit, report, active
    score_all_leads()                                          # Lead.predictive_score of open leads
    predict_for(lead) -> float | None                          # one lead, cheap: the score stage

Won leads are the positives; lost and disqualified ones the negatives (merged leads are left out).
A lead is described by its profile (source, country, language, fit grade, job title words, its
organisation's size and industry, UTM source and medium, BANT answers), its source-specific extra
fields (categories one-hot with a cap on distinct values, numbers as numbers) and its behaviour
before a salesperson's first contact (form posts, mail opens and clicks, page visits, survey
answers). Sales' own activity (calls, mails, meetings, quotes, notes) and the estimated value are
only used when marketing asks for them: they happen after the contact, so they give the outcome
away instead of predicting it.

Before training every candidate field is checked on its own: a field that alone predicts the
outcome almost perfectly (AUC ≥ 0.95), or that is filled in for one outcome and not the other, is
left out and named in the report, unless marketing includes it explicitly. The model is a
scikit-learn pipeline (feature dicts → DictVectorizer → MaxAbsScaler → LogisticRegression),
evaluated on a stratified held-out quarter; the evaluated model is the one stored and used.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.scoring import rules
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.leads import services as leads_services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus, Organization, Source

logger = logging.getLogger(__name__)

SEED = 20_240_611
TEST_SHARE = 0.25
MIN_CLOSED = 50
MIN_PER_CLASS = 15
LEAK_AUC = 0.95  # a field that alone separates won from lost this well is filled in afterwards
PRESENCE_GAP = 0.5  # filled for 50 points more of one outcome than of the other
TOO_GOOD_AUC = 0.97
CATEGORY_CAP = 20  # distinct values kept per categorical field; the rest is "(other)"
TOKEN_CAP = 60  # job title words kept
EXTRA_KEYS_CAP = 40
MAX_TRAINING = 200_000  # most recently closed leads; more adds little and costs memory
LEAKAGE_SAMPLE = 20_000
BATCH = 2_000
TTL = 5.0  # seconds a process trusts its idea of which model is active

WON = LeadStatus.WON
NEGATIVE = (LeadStatus.LOST, LeadStatus.DISQUALIFIED)
CLOSED = (WON, *NEGATIVE)
PRE_CONTACT_KINDS = (
    ActivityKind.FORM_SUBMITTED,
    ActivityKind.EMAIL_OPENED,
    ActivityKind.EMAIL_CLICKED,
    ActivityKind.PAGE_VISIT,
    ActivityKind.SURVEY_ANSWERED,
)
# Sales' own work; the first of these is the salesperson's contact, the cut-off for behaviour.
AFTER_CONTACT_KINDS = (
    ActivityKind.CALL,
    ActivityKind.EMAIL,
    ActivityKind.MEETING,
    ActivityKind.QUOTE,
    ActivityKind.NOTE,
)
CONTACT_KINDS = frozenset(
    {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING, ActivityKind.QUOTE}
)
CATEGORY_FIELDS = (
    "source",
    "country",
    "language",
    "fit_grade",
    "industry",
    "utm_source",
    "utm_medium",
    "bant_budget",
    "bant_authority",
    "bant_need",
    "bant_timeframe",
)
PROFILE_FIELDS = (*CATEGORY_FIELDS[:4], "job_title", "employees", *CATEGORY_FIELDS[4:])
NUMBER_FIELDS = frozenset({"employees", "potential_revenue"})
# Used only when marketing includes them: they are filled in by sales, after the first contact.
OPT_IN_FIELDS = ("potential_revenue", *(f"activity.{kind}" for kind in AFTER_CONTACT_KINDS))
LEAD_COLUMNS = (
    "id",
    "status",
    "source_id",
    "country",
    "language",
    "fit_grade",
    "job_title",
    "utm_source",
    "utm_medium",
    "bant_budget",
    "bant_authority",
    "bant_need",
    "bant_timeframe",
    "potential_revenue",
    "extra",
    "organization_id",
    "organization__employees",
    "organization__industry",
)
EMPTY = "(empty)"
OTHER = "(other)"
_WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


# --- Features ------------------------------------------------------------------------------------

Record = dict[str, Any]


def record_of(lead: Lead, *, activity: Mapping[str, int] | None = None) -> Record:
    """The raw values the model reads from a lead (its organisation must be loaded or cached)."""
    employees, industry = _organization_of(lead)
    extra = lead.extra if isinstance(lead.extra, dict) else {}
    return {
        "source": str(lead.source_id),
        "country": lead.country,
        "language": lead.language,
        "fit_grade": lead.fit_grade,
        "job_title": lead.job_title,
        "employees": employees,
        "industry": industry,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "bant_budget": lead.bant_budget,
        "bant_authority": lead.bant_authority,
        "bant_need": lead.bant_need,
        "bant_timeframe": lead.bant_timeframe,
        "potential_revenue": lead.potential_revenue,
        "extra": extra,
        "activity": dict(activity or {}),
    }


def value_of(record: Record, field: str) -> Any:
    if field.startswith("extra."):
        return record["extra"].get(field[6:])
    if field.startswith("activity."):
        return record["activity"].get(field[9:], 0)
    return record.get(field)


def is_present(record: Record, field: str) -> bool:
    value = value_of(record, field)
    if field.startswith("activity."):
        return bool(value)
    return value not in (None, "", [], {})


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.match(text):
            return None
        value = text.replace(",", ".")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _squash(number: float) -> float:
    # Sizes, amounts and counts span orders of magnitude; a log keeps one huge value from
    # dominating a linear model.
    return math.copysign(math.log1p(abs(number)), number)


def _category(value: Any) -> str:
    return str(value).strip()[:100]


def title_words(title: Any) -> list[str]:
    """Lower-case, accent-free words of a job title ('Directeur Inkoop' → directeur, inkoop)."""
    if not isinstance(title, str) or not title:
        return []
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", title.casefold()) if not unicodedata.combining(c)
    )
    return list(dict.fromkeys(_WORD.findall(plain)))


class LeadFeatures(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Records → feature dicts for a DictVectorizer; learns which values and words to keep."""

    def __init__(self, fields: Sequence[str] = (), cap: int = CATEGORY_CAP) -> None:
        self.fields = fields
        self.cap = cap

    def fit(self, records: Sequence[Record], y: Any = None) -> LeadFeatures:
        self.kinds_: dict[str, str] = {}
        self.kept_: dict[str, frozenset[str]] = {}
        minimum = max(3, round(len(records) * 0.002))
        for field in self.fields:
            kind = _kind_of(field, records)
            self.kinds_[field] = kind
            if kind == "words":
                words = Counter(w for r in records for w in title_words(value_of(r, field)))
                self.kept_[field] = frozenset(
                    w for w, n in words.most_common(TOKEN_CAP) if n >= minimum
                )
            elif kind == "category":
                values = Counter(
                    _category(value_of(r, field)) for r in records if is_present(r, field)
                )
                self.kept_[field] = frozenset(
                    v for v, n in values.most_common(self.cap) if n >= minimum
                )
        return self

    def transform(self, records: Iterable[Record]) -> list[dict[str, float]]:
        return [self.features_of(record) for record in records]

    def features_of(self, record: Record) -> dict[str, float]:
        features: dict[str, float] = {}
        for field, kind in self.kinds_.items():
            value = value_of(record, field)
            if kind == "count":
                if value:
                    features[field] = math.log1p(value)
            elif kind == "number":
                number = _number(value)
                if number is None:
                    features[f"{field}={EMPTY}"] = 1.0
                else:
                    features[field] = _squash(number)
            elif kind == "words":
                words = title_words(value)
                if not words:
                    features[f"{field}={EMPTY}"] = 1.0
                kept = self.kept_[field]
                for word in words:
                    if word in kept:
                        features[f"{field}~{word}"] = 1.0
            elif value in (None, "", [], {}):
                features[f"{field}={EMPTY}"] = 1.0
            else:
                text = _category(value)
                features[f"{field}={text if text in self.kept_[field] else OTHER}"] = 1.0
        return features


def _kind_of(field: str, records: Sequence[Record]) -> str:
    if field.startswith("activity."):
        return "count"
    if field == "job_title":
        return "words"
    if field in NUMBER_FIELDS:
        return "number"
    if not field.startswith("extra."):
        return "category"
    present = [value_of(r, field) for r in records if is_present(r, field)]
    numbers = sum(1 for v in present if _number(v) is not None)
    return "number" if present and numbers >= 0.9 * len(present) else "category"


def make_pipeline(fields: Sequence[str]) -> Pipeline:
    return Pipeline(
        [
            ("features", LeadFeatures(fields=tuple(fields))),
            ("vectorize", DictVectorizer()),
            ("scale", MaxAbsScaler()),
            ("model", LogisticRegression(C=1.0, max_iter=2000, random_state=SEED)),
        ]
    )


# --- History -------------------------------------------------------------------------------------


@dataclass
class History:
    records: list[Record]
    outcomes: np.ndarray  # 1 won, 0 lost or disqualified
    statuses: Counter[str]


def _leads_with_organisation(queryset: QuerySet[Lead]) -> QuerySet[Lead]:
    return queryset.select_related("organization").only(
        *(c for c in LEAD_COLUMNS if c != "id"),
        "first_contact_due_at",
        "last_contacted_at",
        "engagement_score",
        "predictive_score",
        "fraud_score",
        "hold",
    )


def activity_counts(lead_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per lead: behaviour before the first contact by sales, and sales' own activity by kind."""
    rows = (
        Activity.objects.filter(
            lead_id__in=lead_ids, kind__in=(*PRE_CONTACT_KINDS, *AFTER_CONTACT_KINDS)
        )
        .order_by()
        .values_list("lead_id", "kind", "created_at")
    )
    contact: dict[int, dt.datetime] = {}
    events: list[tuple[int, str, dt.datetime]] = []
    for lead_id, kind, at in rows:
        events.append((lead_id, kind, at))
        if kind in CONTACT_KINDS and (lead_id not in contact or at < contact[lead_id]):
            contact[lead_id] = at
    counts: dict[int, dict[str, int]] = {}
    for lead_id, kind, at in events:
        if kind in PRE_CONTACT_KINDS and lead_id in contact and at >= contact[lead_id]:
            continue
        per_lead = counts.setdefault(lead_id, {})
        per_lead[kind] = per_lead.get(kind, 0) + 1
    return counts


def _records(leads: list[Lead]) -> list[Record]:
    counts = activity_counts([lead.pk for lead in leads])
    return [record_of(lead, activity=counts.get(lead.pk)) for lead in leads]


def load_history() -> History:
    """The closed leads to learn from (most recently closed first, at most MAX_TRAINING)."""
    queryset = _leads_with_organisation(
        Lead.objects.filter(status__in=CLOSED, merged_into__isnull=True)
    ).order_by("-closed_at", "-id")[:MAX_TRAINING]
    records: list[Record] = []
    outcomes: list[int] = []
    statuses: Counter[str] = Counter()
    batch: list[Lead] = []
    for lead in queryset.iterator(chunk_size=BATCH):
        batch.append(lead)
        if len(batch) >= BATCH:
            records.extend(_records(batch))
            batch = []
        outcomes.append(1 if lead.status == WON else 0)
        statuses[lead.status] += 1
    if batch:
        records.extend(_records(batch))
    return History(records, np.array(outcomes, dtype=int), statuses)


def _check_enough(history: History) -> None:
    won = int(history.outcomes.sum())
    other = len(history.outcomes) - won
    if len(history.outcomes) >= MIN_CLOSED and won >= MIN_PER_CLASS and other >= MIN_PER_CLASS:
        return
    message = _(
        "Too little history to learn from: %(total)d closed leads (%(won)d won, %(other)d lost "
        "or disqualified). At least %(min_total)d closed leads are needed, with at least "
        "%(min_class)d won and %(min_class)d lost or disqualified. Import historical leads with "
        "their outcome (a status column) or wait for more leads to close."
    ) % {
        "total": len(history.outcomes),
        "won": won,
        "other": other,
        "min_total": MIN_CLOSED,
        "min_class": MIN_PER_CLASS,
    }
    raise ValidationFailed(message)


def candidate_fields(records: Sequence[Record]) -> list[str]:
    """Profile fields, the extra fields enough leads have, and the pre-contact behaviour."""
    keys: Counter[str] = Counter()
    for record in records:
        keys.update(str(k)[:60] for k, v in record["extra"].items() if v not in (None, "", [], {}))
    minimum = max(5, round(len(records) * 0.01))
    extra = sorted(k for k, n in keys.most_common(EXTRA_KEYS_CAP) if n >= minimum)
    return [
        *PROFILE_FIELDS,
        *(f"extra.{k}" for k in extra),
        *(f"activity.{k}" for k in PRE_CONTACT_KINDS),
    ]


# --- Leakage check -------------------------------------------------------------------------------


def check_leakage(
    records: Sequence[Record], outcomes: np.ndarray, fields: Sequence[str]
) -> list[dict[str, Any]]:
    """Each field on its own: how well it predicts the outcome (out-of-fold AUC) and how often it
    is filled in for won and for other leads. A `flag` says why a field looks filled afterwards."""
    rows = np.arange(len(records))
    if len(rows) > LEAKAGE_SAMPLE:
        rows, _rest = train_test_split(
            rows, train_size=LEAKAGE_SAMPLE, stratify=outcomes, random_state=SEED
        )
    sample = np.empty(len(rows), dtype=object)
    sample[:] = [records[int(i)] for i in rows]
    y = outcomes[rows]
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    results = []
    for field in fields:
        present = np.array([is_present(r, field) for r in sample], dtype=bool)
        filled_won = float(present[y == 1].mean())
        filled_other = float(present[y == 0].mean())
        # Which values to keep depends on counts only, not on the outcome, so the features are
        # made once per field and only the model is cross-validated (5× faster than the pipeline).
        matrix = DictVectorizer().fit_transform(LeadFeatures(fields=(field,)).fit_transform(sample))
        if matrix.shape[1]:
            probabilities = cross_val_predict(
                LogisticRegression(solver="liblinear"), matrix, y, cv=folds, method="predict_proba"
            )[:, 1]
            auc = float(roc_auc_score(y, probabilities))
        else:  # never filled in (no such activity at all): says nothing
            auc = 0.5
        auc = max(auc, 1 - auc)  # a field that predicts "lost" perfectly leaks just as much
        flag = None
        if auc >= LEAK_AUC:
            flag = "predicts_alone"
        elif _presence_depends_on_outcome(filled_won, filled_other):
            flag = "presence"
        results.append(
            {
                "field": field,
                "auc": round(auc, 4),
                "filled_won": round(filled_won, 4),
                "filled_other": round(filled_other, 4),
                "flag": flag,
            }
        )
    return results


def _presence_depends_on_outcome(filled_won: float, filled_other: float) -> bool:
    low, high = sorted((filled_won, filled_other))
    return high - low >= PRESENCE_GAP or (low <= 0.01 and high >= 0.3)


# --- Training and evaluation ---------------------------------------------------------------------


def train(
    *, by: Actor, include: Iterable[str] = (), now: dt.datetime | None = None
) -> PredictiveModel:
    """Check the fields for leakage, fit on the closed leads, evaluate on a held-out quarter,
    store the model with its report and make it the active one.

    Only marketing and admins (and the CLI) may train. ValidationFailed when there is too little
    history or an included field is unknown.
    """
    if not can_manage_configuration(by):
        raise NotAllowed(_("Only marketing and admins train the predictive model."))
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
    checks = check_leakage(history.records, history.outcomes, candidates)
    flagged = {c["field"]: c for c in checks if c["flag"]}
    fields = [f for f in candidates if f not in flagged or f in wanted]
    fields += [f for f in wanted if f in OPT_IN_FIELDS]
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
    pipeline = make_pipeline(fields)
    try:
        pipeline.fit(records[train_rows], y[train_rows])
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
        "version": 1,
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
        "factors": top_factors(pipeline),
        "importance": field_importance(pipeline, test_records, test_y, fields, auc),
        "fields_used": fields,
        "labels": _labels(fields),
    }


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


def top_factors(pipeline: Pipeline, limit: int = 8) -> list[dict[str, Any]]:
    """The features that move the odds most, each way (weights on the scaled features)."""
    names = pipeline.named_steps["vectorize"].feature_names_
    weights = pipeline.named_steps["model"].coef_[0]
    ranked = sorted(zip(names, weights, strict=True), key=lambda item: -abs(item[1]))
    chosen = [item for item in ranked if item[1] > 0.05][:limit]
    chosen += [item for item in ranked if item[1] < -0.05][:limit]
    return [
        {"feature": name, "weight": round(float(w), 4), "odds_ratio": round(math.exp(w), 3)}
        for name, w in sorted(chosen, key=lambda item: -item[1])
    ]


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


# --- Scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """The active model in this process, compiled to a weight per feature for single leads."""

    key: tuple[int, dt.datetime] | None
    pipeline: Pipeline | None
    features: LeadFeatures | None
    weights: dict[str, float]
    intercept: float
    checked_at: float
    snapshot: object


_lock = threading.Lock()
_loaded: _Loaded | None = None
_organisations: dict[int, tuple[int | None, str]] = {}


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
        weights, intercept = _compile(pipeline) if pipeline is not None else ({}, 0.0)
        features = pipeline.named_steps["features"] if pipeline is not None else None
        _loaded = _Loaded(
            key,
            pipeline,
            features,
            weights,
            intercept,
            time.monotonic(),
            snapshot,
        )
        return _loaded


def load_pipeline(blob: bytes) -> Pipeline:
    """A stored model's pipeline. Only blobs written by `train` are in the table."""
    pipeline: Pipeline = joblib.load(io.BytesIO(blob))
    return pipeline


def _organization_of(lead: Lead) -> tuple[int | None, str]:
    if lead.organization_id is None:
        return None, ""
    if Lead.organization.is_cached(lead):  # type: ignore[attr-defined]
        org = lead.organization
        return (org.employees, org.industry) if org is not None else (None, "")
    cached = _organisations.get(lead.organization_id)
    if cached is None:
        row = (
            Organization.objects.filter(pk=lead.organization_id)
            .values_list("employees", "industry")
            .first()
        )
        cached = (row[0], row[1]) if row else (None, "")
        if len(_organisations) > 50_000:
            _organisations.clear()
        _organisations[lead.organization_id] = cached
    return cached


def predict_for(lead: Lead) -> float | None:
    """The active model's chance (0–1) that `lead` is won; None when no model is active.

    Cheap enough for every lead at intake: the model is cached per process, a new lead (not yet
    saved) costs no query, a saved one one query for its timeline.
    """
    loaded = _active()
    if loaded.features is None:
        return None
    activity = activity_counts([lead.pk]).get(lead.pk) if lead.pk is not None else None
    z = loaded.intercept
    weights = loaded.weights
    for name, value in loaded.features.features_of(record_of(lead, activity=activity)).items():
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
        chances = loaded.pipeline.predict_proba(records)[:, 1]
        for lead, chance in zip(batch, chances, strict=True):
            lead.predictive_score = round(float(chance), 4)
            lead.priority, _parts = priority_of(lead, now=now)
        with transaction.atomic():
            scored += leads_services.apply_bulk(batch, ["predictive_score", "priority"])
    logger.info("predictive scores written leads=%d model=%s", scored, loaded.key)
    return scored


def train_and_score(*, by: Actor, include: Iterable[str] = ()) -> tuple[PredictiveModel, int]:
    """Train (see `train`), then score every open lead with the new model."""
    model = train(by=by, include=include)
    invalidate()
    return model, score_all_leads()


# --- Reading -------------------------------------------------------------------------------------


def _require(actor: Actor) -> None:
    if not can_manage_configuration(actor):
        raise NotAllowed(_("Only marketing and admins see the predictive models."))


def list_models(actor: Actor) -> QuerySet[PredictiveModel]:
    """Every trained model, newest first, without the stored pipelines (config roles only)."""
    _require(actor)
    return PredictiveModel.objects.defer("blob").select_related("trained_by")


def get_active_model(actor: Actor) -> PredictiveModel | None:
    """The model that scores leads now, if any (config roles only)."""
    return list_models(actor).filter(is_active=True).first()


def get_model(actor: Actor, model_id: int) -> PredictiveModel:
    """One trained model (config roles only); NotFound when there is no such model."""
    found = list_models(actor).filter(pk=model_id).first()
    if found is None:
        raise NotFound(_("No such predictive model."))
    return found


def includable_fields(actor: Actor) -> list[dict[str, Any]]:
    """Fields marketing may include on the next training: those the last leakage check left out
    (or that were included then), and sales' own fields that are never used by default."""
    latest = list_models(actor).first()
    report = latest.report if latest is not None else {}
    items = [
        *({**item, "included": False} for item in report.get("excluded", [])),
        *report.get("included", []),
    ]
    seen = {item["field"] for item in items}
    items += [
        {"field": f, "flag": "after_contact", "included": False}
        for f in OPT_IN_FIELDS
        if f not in seen
    ]
    return items


# --- Words ---------------------------------------------------------------------------------------


def field_label(field: str) -> str:
    """A field's name for people: 'extra.contract_number' → 'Extra field “contract_number”'."""
    if field.startswith("extra."):
        return _("Extra field “%(name)s”") % {"name": field[6:]}
    if field.startswith("activity."):
        kind = field[9:]
        label = ActivityKind(kind).label if kind in ActivityKind.values else kind
        return _("Number of “%(kind)s” entries") % {"kind": label}
    labels = {
        "source": _("Source"),
        "country": _("Country"),
        "language": _("Language"),
        "fit_grade": _("Fit grade"),
        "job_title": _("Job title"),
        "employees": _("Organisation size (employees)"),
        "industry": _("Industry"),
        "utm_source": _("UTM source"),
        "utm_medium": _("UTM medium"),
        "bant_budget": _("BANT budget"),
        "bant_authority": _("BANT authority"),
        "bant_need": _("BANT need"),
        "bant_timeframe": _("BANT timeframe"),
        "potential_revenue": _("Potential revenue"),
    }
    return str(labels.get(field, field))


def flag_reason(item: Mapping[str, Any]) -> str:
    """Why a field was left out (or would have been), in words."""
    flag = item.get("flag")
    if flag == "predicts_alone":
        return _(
            "On its own it predicts the outcome almost perfectly (AUC %(auc).2f): it is probably "
            "filled in after the outcome is known."
        ) % {"auc": item.get("auc", 0)}
    if flag == "presence":
        return _(
            "Whether it is filled in depends on the outcome (filled for %(won)d%% of won leads, "
            "%(other)d%% of the others)."
        ) % {
            "won": round(100 * item.get("filled_won", 0)),
            "other": round(100 * item.get("filled_other", 0)),
        }
    return _("Filled in by sales after the first contact; not used unless included.")


def _split_feature(feature: str, fields: Sequence[str]) -> tuple[str, str, str]:
    """('job_title~director') → (field, operator, value), matching the longest known field."""
    for field in sorted(fields, key=len, reverse=True):
        if feature == field:
            return field, "", ""
        if feature.startswith(field) and feature[len(field)] in "=~":
            return field, feature[len(field)], feature[len(field) + 1 :]
    return feature, "", ""


def factor_text(factor: Mapping[str, Any], report: Mapping[str, Any]) -> str:
    """A factor in words: 'Job title contains “directeur”: raises the chance (odds × 2.4)'."""
    field, operator, value = _split_feature(factor["feature"], report.get("fields_used", []))
    label = field_label(field)
    if field == "source" and value in report.get("labels", {}):
        value = report["labels"][value]
    if operator == "~":
        what = _("%(field)s contains “%(value)s”") % {"field": label, "value": value}
    elif operator == "=" and value == EMPTY:
        what = _("%(field)s is empty") % {"field": label}
    elif operator == "=" and value == OTHER:
        what = _("%(field)s has a rare value") % {"field": label}
    elif operator == "=":
        what = _("%(field)s is “%(value)s”") % {"field": label, "value": value}
    else:
        what = _("Higher %(field)s") % {"field": label.lower()}
    if factor["weight"] > 0:
        effect = _("raises the chance (odds × %(ratio).2f)") % {"ratio": factor["odds_ratio"]}
    else:
        effect = _("lowers the chance (odds × %(ratio).2f)") % {"ratio": factor["odds_ratio"]}
    return f"{what}: {effect}"


def warning_text(warning: Mapping[str, Any]) -> str:
    if warning["code"] == "too_good":
        return _(
            "Too good to be true: an AUC of %(auc).3f on leads the model has not seen is "
            "suspiciously high. A field probably gives the outcome away; check the included "
            "fields and the factors before trusting these scores."
        ) % {"auc": warning["auc"]}
    return _("Included on request although the leakage check would leave them out: %(fields)s.") % {
        "fields": ", ".join(field_label(f) for f in warning.get("fields", []))
    }
