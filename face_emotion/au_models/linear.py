"""The linear AU model: multinomial logistic regression on standardised features, a coefficient per feature and
emotion. A prediction recomputes by hand: z = (x - mean) / scale, logit_k = coef_k . z + intercept_k."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from face_emotion.au_models.base import AuModel
from face_emotion.core.config import AdditiveModelParams, LinearModelParams
from face_emotion.core.errors import UserError

MAX_ITER = 5000
"""Solver iterations; every configuration measured here converges well within it."""


def fit_logistic(design: np.ndarray, labels: np.ndarray, classes: list[str],
                 params: LinearModelParams | AdditiveModelParams, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and intercepts of multinomial logistic regression, a row per class in ``classes`` order (with two
    classes too, with the same probabilities)."""
    l1_ratio = params.l1_ratio if isinstance(params, LinearModelParams) else 0.0
    model = LogisticRegression(C=params.C, l1_ratio=l1_ratio, solver="lbfgs" if l1_ratio == 0 else "saga",
                               class_weight=params.class_weight, max_iter=MAX_ITER, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model.fit(design, labels)
        except ConvergenceWarning:
            raise UserError(f"logistic regression did not converge in {MAX_ITER} iterations: "
                            "try a smaller au_model.C (stronger regularisation)") from None
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # one logit, the second class's against the first: shared out as -z/2 and +z/2
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.concatenate([-intercept / 2, intercept / 2])
    order = [list(model.classes_).index(c) for c in classes]
    return coef[order], intercept[order]


class LinearModel(AuModel):
    """Logistic regression; ``coef_`` are its coefficients per standard deviation of each feature."""

    kind = "linear"
    Params = LinearModelParams

    def __init__(self, features: str = "au17", C: float = 1.0, l1_ratio: float = 0.0,
                 class_weight: str | None = "balanced", emotions: list[str] | None = None, random_state: int = 0) -> None:
        self.features, self.C, self.l1_ratio, self.class_weight = features, C, l1_ratio, class_weight
        self.emotions, self.random_state = emotions, random_state

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        coef, intercept = fit_logistic(self.standardise(values), labels, self.classes, self.params, self.seed)
        self.coef_, self.intercept_ = coef.tolist(), intercept.tolist()

    def _contributions(self, values: np.ndarray) -> np.ndarray:
        return self.standardise(values)[:, None, :] * np.asarray(self.coef_)[None, :, :]
