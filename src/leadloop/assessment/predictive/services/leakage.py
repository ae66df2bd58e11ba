"""The leakage check: which fields give the outcome away, each with the reasons it was left out."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from leadloop.assessment.predictive.services.features import (
    AFTER_CONTACT_SHARE,
    CLOSED_ONLY_EXPECTED,
    CLOSED_ONLY_SHARE,
    CLOSED_ONLY_SKEW,
    LEAK_AUC,
    LEAKAGE_SAMPLE,
    MIN_AFTER_CONTACT,
    MIN_OPEN,
    MIN_ROW_ID,
    OPEN_CLOSED_GAP,
    PRESENCE_GAP,
    ROW_ID_UNIQUE,
    SEED,
    LeadFeatures,
    Record,
    is_missing,
    is_present,
    name_says_leaky,
    value_of,
)

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
