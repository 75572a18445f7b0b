"""Piecewise-linear shape functions: the building block of the glass-box additive AU model (logreg.knots > 0).

A feature's effect on an emotion's logit is a curve through a few knots at quantiles of its training values,
straight between knots and flat beyond the outer ones: ``np.interp(x, knots, values)``. Any such curve is a
weighted sum of tent functions (one per knot), so logistic regression on the tents fits all curves at once.
"""

from __future__ import annotations

import numpy as np


def quantile_knots(column: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` distinct knots at evenly spaced quantiles; fewer where values repeat (most AUs are often 0)."""
    return np.unique(np.quantile(column, np.linspace(0.0, 1.0, count)))


def tent_basis(column: np.ndarray, knots: np.ndarray | list[float]) -> np.ndarray:
    """(n, len(knots)) tents: column k is 1 at knot k and falls linearly to 0 at its neighbours."""
    return np.column_stack([np.interp(column, knots, unit) for unit in np.eye(len(knots))])


def curves(column: np.ndarray, knots: list[float], values_per_class: list[list[float]]) -> np.ndarray:
    """(n, classes) values of each class's curve for one feature's ``column``."""
    return tent_basis(column, knots) @ np.asarray(values_per_class).T
