"""The additive AU model: a glass-box curve per feature and emotion.

A feature's effect on an emotion's logit is a curve through a few knots at quantiles of its training values,
straight between knots and flat beyond the outer ones: ``np.interp(x, knots, values)``. Any such curve is a weighted
sum of tent functions (one per knot), so logistic regression on the standardised tents fits all curves at once. The
curves are centred (0 on average over the training faces), so a contribution says how far this face moves the logit
from the average training face: logit_k = intercept_k + sum_j np.interp(x_j, knots_j, shapes_kj).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from face_emotion.au_models.base import AuModel
from face_emotion.au_models.linear import fit_logistic
from face_emotion.core.config import AdditiveModelParams
from face_emotion.core.tables import describe


def quantile_knots(column: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` distinct knots at evenly spaced quantiles; fewer where values repeat (most AUs are often 0)."""
    return np.unique(np.quantile(column, np.linspace(0.0, 1.0, count)))


def tent_basis(column: np.ndarray, knots: np.ndarray | list[float]) -> np.ndarray:
    """(n, len(knots)) tents: column k is 1 at knot k and falls linearly to 0 at its neighbours."""
    return np.column_stack([np.interp(column, knots, unit) for unit in np.eye(len(knots))])


def curves(column: np.ndarray, knots: list[float], values_per_class: list[list[float]]) -> np.ndarray:
    """(n, classes) values of each class's curve for one feature's ``column``."""
    return tent_basis(column, knots) @ np.asarray(values_per_class).T


class AdditiveModel(AuModel):
    """``knots_[j]``: feature j's knots; ``shapes_[k][j]``: emotion k's curve for feature j, its logit at each knot."""

    kind = "additive"
    family_state = ("knots_", "shapes_")
    Params = AdditiveModelParams

    def __init__(self, features: str = "au17_geometry", knots: int = 5, C: float = 1.0, class_weight: str | None = None,
                 emotions: list[str] | None = None, random_state: int = 0) -> None:
        self.features, self.knots, self.C, self.class_weight = features, knots, C, class_weight
        self.emotions, self.random_state = emotions, random_state

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        knots = [quantile_knots(values[:, j], self.knots) for j in range(values.shape[1])]
        bases = [tent_basis(values[:, j], k) for j, k in enumerate(knots)]
        scaler = StandardScaler().fit(np.hstack(bases))
        design = scaler.transform(np.hstack(bases))
        fitted_coef, fitted_intercept = fit_logistic(design, labels, self.classes, self.params, self.seed)
        # centred curves average 0 over the training faces, so the intercept becomes the average training logit
        self.intercept_ = (design @ fitted_coef.T + fitted_intercept).mean(axis=0).tolist()
        at_knots = fitted_coef / scaler.scale_
        ends = np.cumsum([len(k) for k in knots])
        shapes = np.empty((len(self.classes), len(knots)), dtype=object)
        for j, (basis, end) in enumerate(zip(bases, ends, strict=True)):
            for c in range(len(self.classes)):
                curve_at_knots = at_knots[c, end - basis.shape[1]:end]
                shapes[c, j] = (curve_at_knots - (basis @ curve_at_knots).mean()).tolist()
        self.knots_, self.shapes_ = [k.tolist() for k in knots], shapes.tolist()
        self._set_average_slopes(values)

    def _check_shapes(self) -> None:
        super()._check_shapes()
        counts = [len(knots) for knots in self.knots_]
        if len(counts) != len(self.features_) or len(self.shapes_) != len(self.classes) \
                or any([len(curve) for curve in per_class] != counts for per_class in self.shapes_):
            raise ValueError("knots and shapes do not match the features and classes")

    @property
    def n_terms(self) -> int:
        return sum(any(any(v != 0 for v in per_class[j]) for per_class in self.shapes_) for j in range(len(self.knots_)))

    def _contributions(self, values: np.ndarray) -> np.ndarray:
        return np.stack([curves(values[:, j], knots, [per_class[j] for per_class in self.shapes_])
                         for j, knots in enumerate(self.knots_)], axis=2)

    def shape_table(self) -> pd.DataFrame:
        """Every curve, one row per emotion, feature and knot: enough to recompute a prediction by hand."""
        rows = [{"emotion": emotion, "feature": feature, "description": describe(feature), "knot": knot, "logit": value}
                for emotion, per_feature in zip(self.classes, self.shapes_, strict=True)
                for feature, knots, values in zip(self.features_, self.knots_, per_feature, strict=True)
                for knot, value in zip(knots, values, strict=True)]
        return pd.DataFrame(rows, columns=["emotion", "feature", "description", "knot", "logit"])
