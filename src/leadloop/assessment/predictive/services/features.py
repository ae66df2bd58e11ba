"""What the model sees of a lead: its profile, extra fields and behaviour as features."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler
from threadpoolctl import threadpool_limits

from leadloop.leads.models import ActivityKind, Lead, LeadStatus, Organization

logger = logging.getLogger(__name__)


SEED = 20_240_611
TEST_SHARE = 0.25
MIN_CLOSED = 50
MIN_PER_CLASS = 15
LEAK_AUC = 0.95  # a field that alone separates won from lost this well is filled in afterwards
PRESENCE_GAP = 0.5  # filled for 50 points more of one outcome than of the other
# Open leads are the ones the model scores: a field filled on closed leads 40 points more often
# than on open ones was mostly filled after the contact (issue 12: "lead quality", "profile").
OPEN_CLOSED_GAP = 0.4
MIN_OPEN = 30  # fewer open leads say nothing about what open leads look like
# Values never seen on open leads although they should have shown up about 5 times or more
# (Poisson: 0 happens by chance well under 1 % of the time) ...
CLOSED_ONLY_EXPECTED = 5.0
CLOSED_ONLY_SHARE = 0.1  # ... carried by at least 10 % of the closed leads ...
CLOSED_ONLY_SKEW = 0.15  # ... whose share won is 15 points off the overall one ("closed by sales")
AFTER_CONTACT_SHARE = 0.5  # first filled after the first contact for half the leads that have it
MIN_AFTER_CONTACT = 10
EFFECT_SAMPLE = 500  # tested leads the trees' factors are averaged over
ROW_ID_UNIQUE = 0.95  # distinct values per filled row: a reference, e-mail, phone or URL
MIN_ROW_ID = 20
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
# What forms and CRMs put in a field nobody filled in: missing, not a value (issue 12). Numbers
# such as "0" are real values and stay.
PLACEHOLDERS = frozenset(
    {
        "select",
        "-",
        "--",
        "---",
        "n/a",
        "n.a.",
        "na",
        "none",
        "null",
        "nan",
        "unknown",
        "onbekend",
        "nvt",
        "n.v.t.",
        "geen",
        "?",
        "(empty)",
        "(none)",
        "(blank)",
    }
)
# Names that say sales filled the field in, English and Dutch. Words that are also parts of
# harmless words ("rep" in "report", "stage" as internship) must be whole words.
LEAKY_WORDS = frozenset(
    {
        "tag",
        "tags",
        "stage",
        "fase",
        "won",
        "lost",
        "closed",
        "rep",
        "sales",
        "order",
        "orders",
        "owner",
        "deal",
        "converted",
        "verkoper",
        "eigenaar",
        "rating",
        "ratings",
    }
)
LEAKY_PARTS = re.compile(
    r"status|quality|kwaliteit|beoordeling|reason|reden|result|outcome|uitkomst|"
    r"score|profile|profiel|contract|invoice|factuur|revert|verkoop|gewonnen|verloren|"
    r"gesloten|accountmanager|last(notable)?activity|laatsteactiviteit|opvolging|followup",
)
_NAME_WORD = re.compile(r"[a-z]+")
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


def is_missing(value: Any) -> bool:
    """Nothing filled in: None, empty, or a placeholder such as "Select", "-" or "n/a"."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text.casefold() in PLACEHOLDERS
    return isinstance(value, list | dict) and not value


def value_of(record: Record, field: str) -> Any:
    """The field's value in a record; a placeholder reads as None."""
    if field.startswith("activity."):
        return record["activity"].get(field[9:], 0)
    value = record["extra"].get(field[6:]) if field.startswith("extra.") else record.get(field)
    return None if isinstance(value, str) and is_missing(value) else value


def is_present(record: Record, field: str) -> bool:
    value = value_of(record, field)
    if field.startswith("activity."):
        return bool(value)
    return not is_missing(value)


def name_says_leaky(field: str) -> bool:
    """An extra field whose name says sales fills it in ("Tags", "Lead quality", "Verkoopfase")."""
    if not field.startswith("extra."):
        return False
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", field[6:]).casefold()
    words = _NAME_WORD.findall(name)
    return bool(LEAKY_WORDS.intersection(words)) or bool(LEAKY_PARTS.search("".join(words)))


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
            elif is_missing(value):
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


class LeadTable(LeadFeatures):
    """Records → a numeric table for gradient boosting: a category is one column of codes (its
    kept values, then "(other)"; empty is NaN, which the trees handle natively), a number or a
    count one column, each kept job title word a 0/1 column."""

    def fit(self, records: Sequence[Record], y: Any = None) -> LeadTable:
        super().fit(records, y)
        # A column that is empty for every lead teaches nothing (and scikit-learn cannot bin it).
        for field, kind in list(self.kinds_.items()):
            if kind == "number":
                empty = all(_number(value_of(r, field)) is None for r in records)
            else:
                empty = kind == "category" and not any(is_present(r, field) for r in records)
            if empty:
                del self.kinds_[field]
        self.columns_: list[str] = []
        self.column_fields_: list[str] = []
        self.codes_: dict[str, dict[str, int]] = {}
        categorical: list[bool] = []
        for field, kind in self.kinds_.items():
            if kind == "words":
                for word in sorted(self.kept_[field]):
                    self.columns_.append(f"{field}~{word}")
                    self.column_fields_.append(field)
                    categorical.append(False)
            else:
                if kind == "category":
                    kept = sorted(self.kept_[field])
                    self.codes_[field] = {v: i for i, v in enumerate(kept)}
                    self.codes_[field][OTHER] = len(kept)
                self.columns_.append(field)
                self.column_fields_.append(field)
                categorical.append(kind == "category")
        self.categorical_ = np.array(categorical, dtype=bool)
        return self

    def transform(self, records: Iterable[Record]) -> np.ndarray:  # type: ignore[override]
        return np.array([self.row_of(record) for record in records], dtype=float).reshape(
            -1, len(self.columns_)
        )

    def row_of(self, record: Record) -> list[float]:
        row: list[float] = []
        for field, kind in self.kinds_.items():
            value = value_of(record, field)
            if kind == "count":
                row.append(math.log1p(value) if value else 0.0)
            elif kind == "number":
                number = _number(value)
                row.append(math.nan if number is None else _squash(number))
            elif kind == "words":
                words = set(title_words(value))
                row.extend(1.0 if w in words else 0.0 for w in sorted(self.kept_[field]))
            elif is_missing(value):
                row.append(math.nan)
            else:
                codes = self.codes_[field]
                row.append(float(codes.get(_category(value), codes[OTHER])))
        return row


def make_pipeline(fields: Sequence[str], *, kind: str = "boosting") -> Pipeline:
    """The model: gradient-boosted trees on a table ("boosting"), or the logistic regression on
    one-hot features ("linear") that was the only model before issue 12 (old stored models)."""
    if kind == "linear":
        return Pipeline(
            [
                ("features", LeadFeatures(fields=tuple(fields))),
                ("vectorize", DictVectorizer()),
                ("scale", MaxAbsScaler()),
                ("model", LogisticRegression(C=1.0, max_iter=2000, random_state=SEED)),
            ]
        )
    return Pipeline(
        [
            ("features", LeadTable(fields=tuple(fields))),
            # Smaller trees and a slower rate than scikit-learn's defaults: on the leakage bench
            # and the demo history 0.003–0.006 more held-out AUC, at the same fitting time.
            (
                "model",
                HistGradientBoostingClassifier(
                    learning_rate=0.05, max_iter=300, max_leaf_nodes=15, random_state=SEED
                ),
            ),
        ]
    )


def one_thread() -> threadpool_limits:
    """Run scikit-learn's trees on one OpenMP thread. Their worker threads spin while they wait:
    on a machine whose cores are busy with other processes (web workers, other trainings) a fit
    measured 0.5 s alone took 44 s with the default threads, and one thread costs little at the
    sizes trained here."""
    return threadpool_limits(limits=1, user_api="openmp")


def fit_pipeline(pipeline: Pipeline, records: Sequence[Record] | np.ndarray, y: np.ndarray) -> None:
    """Fit either kind; the trees learn which columns are categories from the fitted table."""
    model = pipeline.named_steps["model"]
    if not isinstance(model, HistGradientBoostingClassifier):
        pipeline.fit(records, y)
        return
    features: LeadTable = pipeline.named_steps["features"]
    table = features.fit_transform(records)
    if not table.shape[1]:
        raise ValueError("no columns")
    mask = features.categorical_
    model.set_params(categorical_features=mask if mask.any() else None)
    model.fit(table, y)


_organisations: dict[int, tuple[int | None, str]] = {}


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
