"""The name-and-address match score: a Fellegi–Sunter model with weights learned from the data.

For each field and level (fields.py) the model holds `m`, how often two records of the same
person fall in that level, and `u`, how often two different people do. A pair's match weight is
the sum over its fields of log2(m/u) (a missing value adds 0); with the share of true matches
among the candidate pairs (`prior`) it becomes the probability that the pair is one person.

The weights are fitted by expectation–maximisation on the candidate pairs of the database itself
(`fit`): no labels are needed, since the matches stand out as the cluster that agrees on many
fields. The pairs people decided are labels: a merge is a known match and a dismissal a known
non-match, held fixed while the rest is fitted, so every decision refines the weights at the next
refit. `DEFAULT` is used until a fit is stored (and when there are too few pairs to fit).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from leadloop.assessment.dedup.matching.fields import FIELDS, LEVELS, MISSING

# Fewer candidate pairs than this and the fit keeps the default weights.
MIN_PAIRS = 200
# Added to every count in the M-step, so a level never seen does not get a probability of 0.
PSEUDOCOUNT = 0.5
# A stored model is read again after this many seconds (a refit in another process shows then).
TTL = 60.0


@dataclass(frozen=True)
class MatchModel:
    """m and u per field and level (levels 1–4; index 0, missing, is unused) and the prior."""

    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float
    weights: tuple[tuple[float, ...], ...] = field(init=False, repr=False, compare=False)
    prior_weight: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = tuple(
            tuple(
                0.0 if level == MISSING else math.log2(m_f[level] / u_f[level])
                for level in range(LEVELS)
            )
            for m_f, u_f in zip(self.m, self.u, strict=True)
        )
        object.__setattr__(self, "weights", table)
        object.__setattr__(self, "prior_weight", math.log2(self.prior / (1 - self.prior)))

    def weight(self, level_vector: Sequence[int]) -> float:
        """The match weight of a pair: the sum of log2(m/u) over its fields."""
        w = self.weights
        return sum(w[f][level] for f, level in enumerate(level_vector))

    def probability(self, weight: float) -> float:
        """How likely a pair with this match weight is one person (0–1)."""
        exponent = -(weight + self.prior_weight)
        if exponent > 60:
            return 0.0
        return 1.0 / (1.0 + 2.0**exponent)

    def as_json(self) -> dict[str, Any]:
        return {
            "fields": list(FIELDS),
            "m": [list(row) for row in self.m],
            "u": [list(row) for row in self.u],
            "prior": self.prior,
        }


def _row(*values: float) -> tuple[float, ...]:
    return (0.0, *values)


# Set by hand from typical error rates (a value mistyped in one record in ten or twenty, replaced
# or moved in one in twenty), not fitted: EM on one generated set learns that set's quirks (on
# bench/dedup_names.py's people it makes a different street all but impossible for one person,
# because its generator never replaces a street), which a real database does not share. The
# defaults score F1 0.92–0.96 on the generated and FEBRL sets; a fit on each set itself moves F1
# by −0.005 to +0.001 (docs/benchmarks.md). Levels: exact, close (JW ≥ 0.92, nickname, one edit in
# a code), similar (JW ≥ 0.8, initial), different.
DEFAULT = MatchModel(
    m=(
        _row(0.80, 0.08, 0.06, 0.06),  # first name
        _row(0.82, 0.09, 0.05, 0.04),  # last name
        _row(0.88, 0.05, 0.0005, 0.07),  # house number
        _row(0.82, 0.08, 0.05, 0.05),  # street
        _row(0.84, 0.07, 0.05, 0.04),  # city
        _row(0.88, 0.07, 0.0005, 0.05),  # postal code
        _row(0.95, 0.0005, 0.0005, 0.05),  # region
    ),
    u=(
        _row(0.01, 0.005, 0.03, 0.955),
        _row(0.02, 0.005, 0.02, 0.955),
        _row(0.02, 0.05, 0.0005, 0.93),
        _row(0.003, 0.002, 0.02, 0.975),
        _row(0.01, 0.004, 0.03, 0.956),
        _row(0.1, 0.05, 0.0005, 0.85),
        _row(0.3, 0.0005, 0.0005, 0.7),
    ),
    prior=0.05,
)


@dataclass(frozen=True)
class Fit:
    model: MatchModel
    iterations: int
    converged: bool
    pairs: int


def _one_hot(vectors: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """n × (fields × levels) indicators; the missing level's column stays 0 (no evidence)."""
    n, fields = vectors.shape
    hot = np.zeros((n, fields * LEVELS))
    rows = np.arange(n)
    for f in range(fields):
        present = vectors[:, f] != MISSING
        hot[rows[present], f * LEVELS + vectors[present, f]] = 1.0
    return hot


def _normalised(counts: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    counts = counts.reshape(-1, LEVELS).copy()
    counts[:, 1:] += PSEUDOCOUNT
    counts[:, 0] = 0.0
    return counts / counts.sum(axis=1, keepdims=True)


def fit(
    vectors: Sequence[Sequence[int]],
    *,
    labels: Sequence[int] | None = None,
    start: MatchModel = DEFAULT,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> Fit:
    """Fit m, u and the prior to the level vectors of candidate pairs by EM.

    `labels` gives, per pair, 1 for a known match (a merge), 0 for a known non-match (a
    dismissal) and -1 for unknown; known pairs keep their class while the rest is estimated.
    With fewer than `MIN_PAIRS` pairs `start` is returned unchanged.
    """
    n = len(vectors)
    if n < MIN_PAIRS:
        return Fit(start, 0, False, n)
    x = _one_hot(np.asarray(vectors, dtype=np.int64))
    known = np.asarray(labels if labels is not None else [-1] * n, dtype=np.int64)
    m = np.asarray(start.m, dtype=float).ravel()
    u = np.asarray(start.u, dtype=float).ravel()
    prior = start.prior
    converged = False
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007
        with np.errstate(divide="ignore"):
            log_m = np.where(m > 0, np.log(np.where(m > 0, m, 1.0)), 0.0)
            log_u = np.where(u > 0, np.log(np.where(u > 0, u, 1.0)), 0.0)
        score = x @ (log_m - log_u) + math.log(prior / (1 - prior))
        g = 1.0 / (1.0 + np.exp(-np.clip(score, -50, 50)))
        g = np.where(known == 1, 1.0, np.where(known == 0, 0.0, g))
        new_m = _normalised(g @ x).ravel()
        new_u = _normalised((1.0 - g) @ x).ravel()
        new_prior = float(np.clip(g.mean(), 1e-4, 0.9))
        change = max(np.abs(new_m - m).max(), np.abs(new_u - u).max(), abs(new_prior - prior))
        m, u, prior = new_m, new_u, new_prior
        if change < tolerance:
            converged = True
            break
    model = MatchModel(
        m=tuple(tuple(float(v) for v in row) for row in m.reshape(-1, LEVELS)),
        u=tuple(tuple(float(v) for v in row) for row in u.reshape(-1, LEVELS)),
        prior=prior,
    )
    return Fit(model, iteration, converged, n)


def from_json(data: dict[str, Any]) -> MatchModel | None:
    """A stored model, or None when it was fitted on other fields (an older version)."""
    if data.get("fields") != list(FIELDS):
        return None
    return MatchModel(
        m=tuple(tuple(row) for row in data["m"]),
        u=tuple(tuple(row) for row in data["u"]),
        prior=float(data["prior"]),
    )


# --- The model in force --------------------------------------------------------------------------

_lock = threading.Lock()
_current: tuple[MatchModel, float] | None = None


def current() -> MatchModel:
    """The latest stored fit, or DEFAULT (read again after TTL seconds)."""
    global _current
    cached = _current
    if cached is not None and time.monotonic() - cached[1] < TTL:
        return cached[0]
    from leadloop.assessment.models import MatchWeights

    with _lock:
        row = MatchWeights.objects.order_by("-fitted_at", "-id").first()
        model = (from_json(row.model) if row is not None else None) or DEFAULT
        _current = (model, time.monotonic())
        return model


def invalidate() -> None:
    """Forget the cached model: the next comparison reads the stored one again."""
    global _current
    _current = None
