"""The pairwise AU model: terms of one feature or a pair of features, each a sum of boxes.

The model is a GA2M: each emotion's logit is its intercept plus a sum of terms, each a function of one feature or of
two. A term is a list of boxes, each an interval per feature (``lower < x <= upper``; null: unbounded) with a value
per emotion; its value for a face is the sum of the values of the boxes the face falls in, minus the term's
``centre`` (its average over the training faces, so a term says how far this face moves the logit from the average
training face). The boxes are the leaves of gradient boosting with depth-2 trees (scikit-learn's
HistGradientBoostingClassifier): every root-to-leaf path of such a tree tests at most two features, so each leaf
belongs to the term of the features on its path, and the sum of the terms reproduces the booster's logits exactly.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from typing import NamedTuple

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from face_emotion.au_models.base import AuModel
from face_emotion.core.config import PairwiseModelParams

Term = dict[str, list]
"""{"features": [name] or [name_a, name_b], "boxes": [[[lower, upper] per feature] per box],
"values": [[value per class] per box], "centre": [value per class]}."""
Interval = tuple[float | None, float | None]
TreePath = list[tuple[int, float, bool]]
"""The tests on a root-to-leaf path: (feature index, threshold, goes left, i.e. x <= threshold)."""


class TermArrays(NamedTuple):
    """A term as arrays, built once per model: bounds (boxes, features) with +-inf for null, values, centre."""

    lower: np.ndarray
    upper: np.ndarray
    values: np.ndarray
    centre: np.ndarray


def term_arrays(term: Term) -> TermArrays:
    bounds = np.array(term["boxes"], dtype=float)  # (boxes, features, 2); null -> nan
    return TermArrays(lower=np.nan_to_num(bounds[:, :, 0], nan=-np.inf), upper=np.nan_to_num(bounds[:, :, 1], nan=np.inf),
                      values=np.asarray(term["values"], dtype=float), centre=np.asarray(term["centre"], dtype=float))


def fit_terms(values: np.ndarray, labels: np.ndarray, features: list[str], classes: list[str], rounds: int,
              learning_rate: float, class_weight: str | None, seed: int) -> tuple[np.ndarray, list[Term]]:
    """Boost ``rounds`` depth-2 trees per class and return (intercept per class in ``classes`` order, terms)."""
    booster = HistGradientBoostingClassifier(max_iter=rounds, learning_rate=learning_rate, max_depth=2,
                                             max_leaf_nodes=None, early_stopping=False, class_weight=class_weight,
                                             random_state=seed).fit(values, labels)
    order = [list(booster.classes_).index(c) for c in classes]
    n_classes = len(classes)
    tree_class = [1] if n_classes == 2 else list(range(n_classes))  # two classes: one tree per round, the 2nd's logit
    intercept = np.zeros(n_classes)
    intercept[tree_class] = np.asarray(booster._baseline_prediction, dtype=float).reshape(-1)
    # term features -> box (interval per feature) -> value per class, in the booster's class order
    boxes: dict[tuple[int, ...], dict[tuple[Interval, ...], np.ndarray]] = defaultdict(dict)
    # _predictors (rounds x trees per round) is the only way scikit-learn (pinned) exposes the fitted trees
    for trees in booster._predictors:
        for k, tree in zip(tree_class, trees, strict=True):
            for path, value in _leaves(tree.nodes):
                term_features = tuple(sorted({f for f, _, _ in path}))
                box = tuple(_interval(path, f) for f in term_features)
                boxes[term_features].setdefault(box, np.zeros(n_classes))[k] += value
    terms = []
    for term_features, by_box in sorted(boxes.items()):
        if not term_features:  # a tree without a split: a constant
            intercept += sum(by_box.values())
            continue
        term = {"features": [features[j] for j in term_features], "boxes": [list(map(list, b)) for b in by_box],
                "values": np.asarray(list(by_box.values()))[:, order].tolist(), "centre": [0.0] * n_classes}
        term["centre"] = evaluate(term_arrays(term), values[:, list(term_features)]).mean(axis=0).tolist()
        terms.append(term)
    return intercept[order] + np.sum([t["centre"] for t in terms], axis=0), terms


def _leaves(nodes: np.ndarray) -> list[tuple[TreePath, float]]:
    """Every leaf of one tree: the tests on its path and its value."""
    found, stack = [], [(0, [])]
    while stack:
        index, path = stack.pop()
        node = nodes[index]
        if node["is_leaf"]:
            found.append((path, float(node["value"])))
            continue
        feature, threshold = int(node["feature_idx"]), float(node["num_threshold"])
        stack.append((int(node["left"]), [*path, (feature, threshold, True)]))
        stack.append((int(node["right"]), [*path, (feature, threshold, False)]))
    return found


def _interval(path: TreePath, feature: int) -> Interval:
    """The values of ``feature`` a path admits: lower < x <= upper (None: unbounded)."""
    uppers = [t for f, t, left in path if f == feature and left]
    lowers = [t for f, t, left in path if f == feature and not left]
    return (max(lowers) if lowers else None, min(uppers) if uppers else None)


def evaluate(term: TermArrays, columns: np.ndarray) -> np.ndarray:
    """(n, classes) values of a term for rows of its features' raw values ``columns`` (n, 1 or 2)."""
    inside = ((columns[:, None, :] > term.lower[None]) & (columns[:, None, :] <= term.upper[None])).all(axis=2)
    return inside.astype(float) @ term.values - term.centre


class PairwiseModel(AuModel):
    """``terms_``: the model's terms. A feature's contribution is its own term plus half of each pair term it is in (a
    convention: a pair's share cannot be split uniquely), so the contributions still sum exactly to the logit."""

    kind = "pairwise"
    family_state = ("terms_",)
    Params = PairwiseModelParams

    def __init__(self, features: str = "au17_pairs_geometry_blendshapes", rounds: int = 2000, learning_rate: float = 0.1,
                 class_weight: str | None = None, emotions: list[str] | None = None, random_state: int = 0) -> None:
        self.features, self.rounds, self.learning_rate, self.class_weight = features, rounds, learning_rate, class_weight
        self.emotions, self.random_state = emotions, random_state

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        intercept, self.terms_ = fit_terms(values, labels, self.features_, self.classes, self.rounds,
                                           self.learning_rate, self.class_weight, self.seed)
        self.intercept_ = intercept.tolist()
        self._set_average_slopes(values)

    def _check_shapes(self) -> None:
        super()._check_shapes()
        for term in self.terms_:
            arrays, n_classes, n_boxes = term_arrays(term), len(self.classes), len(term["values"])
            if not set(term["features"]) <= set(self.features_) or arrays.centre.shape != (n_classes,) \
                    or arrays.lower.shape != (n_boxes, len(term["features"])) or arrays.values.shape != (n_boxes, n_classes):
                raise ValueError(f"a term of {term['features']} does not match the features and classes")

    @property
    def n_terms(self) -> int:
        return len(self.terms_)

    @cached_property
    def _term_arrays(self) -> list[tuple[list[int], TermArrays]]:
        """Each term's feature columns and arrays, built on first use."""
        position = {feature: j for j, feature in enumerate(self.features_)}
        return [([position[f] for f in term["features"]], term_arrays(term)) for term in self.terms_]

    def _contributions(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(values), len(self.classes), len(self.features_)))
        for columns, term in self._term_arrays:
            share = evaluate(term, values[:, columns]) / len(columns)
            for j in columns:
                out[:, :, j] += share
        return out
