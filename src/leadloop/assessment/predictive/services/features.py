"""What the model sees of a lead: its profile, extra fields and behaviour as features."""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from leadloop.leads.models import ActivityKind, Lead, LeadStatus, Organization

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
