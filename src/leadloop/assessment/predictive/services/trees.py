"""A fitted boosted-trees model as plain Python, to score one lead at intake in microseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


class CompiledTrees:
    """A fitted HistGradientBoostingClassifier as plain Python lists, to score one lead in
    about a hundred microseconds: scikit-learn's predict_proba costs over a millisecond per call
    (input checks and thread pools), too much for every lead at intake."""

    def __init__(self, model: HistGradientBoostingClassifier) -> None:
        self.baseline = float(np.ravel(model._baseline_prediction)[0])
        # With categories scikit-learn first re-codes them (an OrdinalEncoder: unknown values
        # become missing) and puts those columns in front of the others.
        categorical = model.is_categorical_
        self.order: list[int] = list(range(model.n_features_in_))
        self.recode: dict[int, dict[float, int]] = {}
        if categorical is not None and model._preprocessor is not None:
            columns = np.arange(len(categorical))
            self.order = [*columns[categorical], *columns[~categorical]]
            encoder = model._preprocessor.named_transformers_["encoder"]
            for position, values in enumerate(encoder.categories_):
                self.recode[position] = {
                    float(v): code for code, v in enumerate(values) if not math.isnan(v)
                }
        self.trees: list[list[tuple[Any, ...]]] = []
        for (predictor,) in model._predictors:
            bitsets = predictor.raw_left_cat_bitsets
            nodes: list[tuple[Any, ...]] = []
            for node in predictor.nodes:
                if node["is_leaf"]:
                    nodes.append((-1, float(node["value"]), False, 0, 0, None))
                    continue
                left_codes: frozenset[int] | None = None
                if node["is_categorical"]:
                    words = bitsets[node["bitset_idx"]]
                    left_codes = frozenset(
                        32 * i + b for i, w in enumerate(words) for b in range(32) if w >> b & 1
                    )
                nodes.append(
                    (
                        int(node["feature_idx"]),
                        float(node["num_threshold"]),
                        bool(node["missing_go_to_left"]),
                        int(node["left"]),
                        int(node["right"]),
                        left_codes,
                    )
                )
            self.trees.append(nodes)

    def log_odds(self, row: Sequence[float]) -> float:
        values = [row[column] for column in self.order]
        for position, codes in self.recode.items():
            values[position] = codes.get(values[position], math.nan)
        z = self.baseline
        for nodes in self.trees:
            node = nodes[0]
            while node[0] >= 0:
                value = values[node[0]]
                if value != value:  # NaN
                    go_left = node[2]
                elif node[5] is not None:
                    go_left = int(value) in node[5]
                else:
                    go_left = value <= node[1]
                node = nodes[node[3] if go_left else node[4]]
            z += node[1]
        return z
