"""What every AU model family shares: a scikit-learn classifier (hyperparameters as keywords, fit(X, y) on an AU
table, predict_proba, classes_, so clone, cross_val_score and GridSearchCV work), per-feature contributions that sum
(with the intercept) to each emotion's logit, and one plain-JSON file format that names the family (``kind``)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import StandardScaler

from face_emotion.core.config import parse_section
from face_emotion.core.errors import UserError
from face_emotion.core.facs import NEUTRAL
from face_emotion.core.feature_sets import FEATURE_SETS, feature_matrix
from face_emotion.core.tables import describe

FORMAT = 2
"""Version of the saved JSON layout; a file of another version is refused with a clear line."""


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from (n, classes) logits."""
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def neutral_values(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each feature's median over the faces labelled neutral (over all faces where there is none, or where it was
    never measured on one)."""
    labels = np.asarray(labels)
    rest = values[labels == NEUTRAL] if (labels == NEUTRAL).any() else values
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature never measured on a neutral face: all NaN
        median = np.nanmedian(rest, axis=0)
        return np.where(np.isnan(median), np.nanmedian(values, axis=0), median)


class AuModel(ClassifierMixin, BaseEstimator):
    """An explainable emotion model on AU features: logit_k = intercept_k + sum_j contribution_kj(x).

    A family's keywords are its hyperparameters (its ``au_model`` params section, with conf/'s defaults), then
    ``emotions`` (the order of its outputs; None: the labels' sorted) and ``random_state``. ``fit(X, y)`` takes an AU
    table (a DataFrame: the ``features`` set's columns are read from it) or, with ``columns``, an array of them.

    Fitted state ends in ``_`` (as in scikit-learn) and is what the JSON file holds: ``features_`` (column names),
    ``mean_`` and ``scale_`` (each feature's training mean and standard deviation), ``neutral_`` (its value on a
    neutral training face: what a reason measures a movement against), ``coef_`` (per emotion and
    feature: how much the logit moves per standard deviation of the feature; the coefficient itself for the linear
    model, the least-squares slope of the feature's contribution for the others) and ``intercept_``. A family adds
    the arrays its contributions need.
    """

    kind: ClassVar[str]
    Params: ClassVar[type]
    """The family's params dataclass (core.config): its fields but ``kind`` are the family's keywords."""
    family_state: ClassVar[tuple[str, ...]] = ()
    """The fitted attributes this family adds to the file."""
    COMMON_STATE: ClassVar[tuple[str, ...]] = ("features_", "mean_", "scale_", "neutral_", "coef_", "intercept_")
    features: str
    emotions: list[str] | None
    random_state: int

    @classmethod
    def from_params(cls, params: Any, classes: list[str] | None, seed: int) -> Self:
        """The family configured by its params section (a dataclass of core.config)."""
        return cls(**{k: v for k, v in dataclasses.asdict(params).items() if k != "kind"}, emotions=classes,
                   random_state=seed)

    @property
    def params(self) -> Any:
        """The hyperparameters as the family's params dataclass (what the saved file records); out of range: one line
        naming the key, as in params.yaml."""
        values = {field.name: getattr(self, field.name) for field in dataclasses.fields(self.Params) if field.name != "kind"}
        return parse_section(self.Params, {"kind": self.kind, **values}, "au_model")

    @property
    def classes(self) -> list[str]:
        """The emotions in the order of the model's outputs (``classes_`` as a list)."""
        return list(self.classes_)

    @property
    def seed(self) -> int:
        return self.random_state

    # fitting ----------------------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame | np.ndarray, y: Any, columns: list[str] | None = None) -> Self:
        """Fit on an AU table ``X`` (the ``features`` set read from its columns) or an array of the named
        ``columns``, and the emotion labels ``y``; returns self. A value not measured (NaN) is fitted as the
        feature's mean. Hyperparameters out of range are one line naming the key, as in params.yaml."""
        self.params  # noqa: B018 (checks the hyperparameters)
        values, features = self._design(X, columns)
        labels = np.asarray(y, dtype=object)
        self.classes_ = np.asarray(list(self.emotions) if self.emotions is not None else sorted(set(labels)), dtype=object)
        absent = [c for c in self.classes if c not in set(labels)]
        if absent:
            raise UserError(f"no measured training faces of class '{absent[0]}': cannot fit the AU model")
        scaler = StandardScaler().fit(values)  # NaN (not measured) left out of each feature's mean and scale
        self.features_, self.mean_, self.scale_ = list(features), scaler.mean_.tolist(), scaler.scale_.tolist()
        self.neutral_ = neutral_values(values, labels).tolist()
        self._fit(np.where(np.isnan(values), scaler.mean_, values), labels)
        return self

    def _design(self, X: pd.DataFrame | np.ndarray, columns: list[str] | None) -> tuple[np.ndarray, list[str]]:
        """The feature values and names to fit on: the ``features`` set of a table, or an array with its columns."""
        if isinstance(X, pd.DataFrame):
            features = list(FEATURE_SETS[self.features])
            return feature_matrix(X, features), features
        if columns is None:
            raise ValueError("fit on an array needs its column names (columns=...); or pass the AU table")
        return np.asarray(X, dtype=float), list(columns)

    def _values(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Raw feature values in ``features_`` order: read from a table, or an array already in that order."""
        return feature_matrix(X, self.features_) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=float)

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        """Set ``coef_``, ``intercept_`` and the family's own state."""
        raise NotImplementedError

    def _set_average_slopes(self, values: np.ndarray) -> None:
        """``coef_`` as each feature's least-squares slope per standard deviation: the mean over the training faces
        of its (centred) contribution times its standardised value."""
        self.coef_ = (np.einsum("ncj,nj->cj", self.contributions(values), self.standardise(values)) / len(values)).tolist()

    # using ------------------------------------------------------------------------------------------------------
    @property
    def n_terms(self) -> int:
        """How many terms a person reads to follow a prediction: the features (or pairs) that move a logit at all."""
        return int(np.any(np.asarray(self.coef_) != 0, axis=0).sum())

    def standardise(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.mean_)) / np.asarray(self.scale_)

    def shown(self, values: np.ndarray) -> np.ndarray:
        """(n, features): whether each feature is above its value on a neutral face (the face makes that movement);
        False at or below it, or not measured."""
        return self._values(values) > np.asarray(self.neutral_)

    def contributions(self, values: pd.DataFrame | np.ndarray) -> np.ndarray:
        """(n, classes, features) per-feature terms of each logit; with the intercept they sum to it. A value not
        measured (NaN: read from a region outside the image) adds nothing."""
        values = self._values(values)
        missing = np.isnan(values)
        if not missing.any():
            return self._contributions(values)
        terms = self._contributions(np.where(missing, np.asarray(self.mean_), values))
        terms[np.broadcast_to(missing[:, None, :], terms.shape)] = 0.0
        return terms

    def _contributions(self, values: np.ndarray) -> np.ndarray:
        """The family's terms for rows without NaN."""
        raise NotImplementedError

    def logits(self, values: np.ndarray) -> np.ndarray:
        """Per-class logits for rows of raw feature values (n, features)."""
        return self.contributions(values).sum(axis=2) + np.asarray(self.intercept_)

    def predict_proba(self, values: np.ndarray) -> np.ndarray:
        return softmax(self.logits(values))

    def explained(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, classes) probabilities and the (n, classes, features) contributions behind them, computed once."""
        contributions = self.contributions(values)
        return softmax(contributions.sum(axis=2) + np.asarray(self.intercept_)), contributions

    def predict(self, values: pd.DataFrame | np.ndarray) -> np.ndarray:
        return np.asarray(self.classes)[self.predict_proba(values).argmax(axis=1)]

    def coefficient_table(self) -> pd.DataFrame:
        """Emotion x feature slopes per standard deviation, with readable feature names and the intercept."""
        table = pd.DataFrame(self.coef_, index=self.classes, columns=[describe(f) for f in self.features_])
        table.insert(0, "intercept", self.intercept_)
        return table.rename_axis("emotion").reset_index()

    # the file ---------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        state = {name.removesuffix("_"): getattr(self, name) for name in (*self.COMMON_STATE, *self.family_state)}
        return {"kind": self.kind, "format": FORMAT, "classes": self.classes, "seed": self.seed,
                "params": dataclasses.asdict(self.params), **state}

    @classmethod
    def from_dict(cls, data: dict[str, Any], params: Any) -> Self:
        """The model a ``to_dict`` wrote; ValueError when its arrays do not fit together."""
        model = cls.from_params(params, data["classes"], data["seed"])
        model.classes_ = np.asarray(data["classes"], dtype=object)
        for name in (*cls.COMMON_STATE, *cls.family_state):
            setattr(model, name, data[name.removesuffix("_")])
        model._check_shapes()
        return model

    def _check_shapes(self) -> None:
        """ValueError unless every array has one entry per class and feature (a family checks its own too)."""
        n_classes, n_features = len(self.classes), len(self.features_)
        shapes = {"mean": (np.shape(self.mean_), (n_features,)), "scale": (np.shape(self.scale_), (n_features,)),
                  "neutral": (np.shape(self.neutral_), (n_features,)),
                  "coef": (np.shape(self.coef_), (n_classes, n_features)), "intercept": (np.shape(self.intercept_), (n_classes,))}
        wrong = [f"{name} has shape {found}, expected {expected}" for name, (found, expected) in shapes.items()
                 if found != expected]
        if wrong:
            raise ValueError(wrong[0])
