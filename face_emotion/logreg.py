"""The explainable model: multinomial logistic regression on AU intensities, stored as a plain table."""

from __future__ import annotations

import dataclasses
import json
import warnings
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from face_emotion import pairwise
from face_emotion.additive import curves, quantile_knots, tent_basis
from face_emotion.atomic import write_json
from face_emotion.au.geometry import GEOMETRY_COLUMNS
from face_emotion.au.mapping import AU_COLUMNS, AU_PAIRS, BLENDSHAPE_COLUMNS, PAIR_SEPARATOR, UPPER_FACE_COLUMNS, describe
from face_emotion.config import LogregParams
from face_emotion.errors import UserError

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "au17": AU_COLUMNS,
    "au17_pairs": AU_COLUMNS + AU_PAIRS,
    "blendshapes": BLENDSHAPE_COLUMNS,
    "both": AU_COLUMNS + BLENDSHAPE_COLUMNS,
    "au17_geometry": AU_COLUMNS + GEOMETRY_COLUMNS,
    "au17_pairs_geometry": AU_COLUMNS + AU_PAIRS + GEOMETRY_COLUMNS,
    "au17_pairs_geometry_blendshapes": AU_COLUMNS + AU_PAIRS + GEOMETRY_COLUMNS + BLENDSHAPE_COLUMNS,
    "upper_face": UPPER_FACE_COLUMNS,
}
"""upper_face: the FACS upper-face AUs (brows, lids, cheeks, blink), what a face mask leaves visible;
au17_geometry: the AUs and the 15 landmark measurements of face_emotion.au.geometry (AU06 and AU09 among them);
au17_pairs_geometry: also the AU pairs; au17_pairs_geometry_blendshapes: all measurements, MediaPipe's 52 blendshapes too."""
L1_RATIO = {"l2": 0.0, "l1": 1.0}
"""scikit-learn >= 1.8 expresses the penalty as l1_ratio; elasticnet takes logreg.l1_ratio."""


@dataclass(frozen=True)
class AuModel:
    """Everything needed to recompute a prediction by hand from plain numbers.

    Linear (``knots`` is None): z = (x - mean) / scale, logit = coef @ z + intercept.
    Additive (logreg.knots > 0): logit = intercept + sum over features j of np.interp(x_j, knots[j], shapes[c][j]),
    each curve centred on the training faces; ``coef`` then holds each curve's average slope per standard deviation
    of its feature (mean and scale are the feature's), which is what profiles and the FACS agreement rank.
    Pairwise (logreg.pair_rounds > 0): logit = intercept + the sum of ``terms``, functions of one feature or of a
    pair, each a sum of boxes (face_emotion.pairwise); a feature's contribution is its own terms plus half of each
    pair term it is in, and ``coef`` is again the average slope of that contribution per standard deviation.
    """

    classes: list[str]
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[list[float]]
    intercept: list[float]
    knots: list[list[float]] | None = None
    shapes: list[list[list[float]]] | None = None
    """shapes[class][feature]: the curve's logit at each of that feature's knots."""
    terms: list[pairwise.Term] | None = None

    def standardise(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.mean)) / np.asarray(self.scale)

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """(n, classes, features) per-feature terms of each logit; with the intercept they sum to it."""
        if self.terms is not None:
            return self._pair_contributions(values)
        if self.knots is None or self.shapes is None:
            return self.standardise(values)[:, None, :] * np.asarray(self.coef)[None, :, :]
        return np.stack([curves(values[:, j], knots, [per_class[j] for per_class in self.shapes])
                         for j, knots in enumerate(self.knots)], axis=2)

    @cached_property
    def _term_arrays(self) -> list[tuple[list[int], pairwise.TermArrays]]:
        """Each term's feature columns and arrays, built on first use (not a field: not saved, not compared)."""
        position = {feature: j for j, feature in enumerate(self.features)}
        return [([position[f] for f in term["features"]], pairwise.term_arrays(term)) for term in self.terms or []]

    def _pair_contributions(self, values: np.ndarray) -> np.ndarray:
        """Each term shared equally among its features (one, or a pair)."""
        out = np.zeros((len(values), len(self.classes), len(self.features)))
        for columns, term in self._term_arrays:
            share = pairwise.evaluate(term, values[:, columns]) / len(columns)
            for j in columns:
                out[:, :, j] += share
        return out

    def logits(self, values: np.ndarray) -> np.ndarray:
        """Per-class logits for rows of raw feature values (n, n_features)."""
        return self.contributions(values).sum(axis=2) + np.asarray(self.intercept)

    def predict_proba(self, values: np.ndarray) -> np.ndarray:
        logits = self.logits(values)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(self.classes)[self.predict_proba(values).argmax(axis=1)]

    def coefficient_table(self) -> pd.DataFrame:
        """Emotion x feature coefficients (per standard deviation when standardised), with readable names."""
        table = pd.DataFrame(self.coef, index=self.classes, columns=[describe(f) for f in self.features])
        table.insert(0, "intercept", self.intercept)
        return table.rename_axis("emotion").reset_index()

    def shape_table(self) -> pd.DataFrame:
        """The additive model's curves, one row per emotion, feature and knot (empty for the linear model)."""
        rows = [{"emotion": emotion, "feature": feature, "description": describe(feature), "knot": knot, "logit": value}
                for emotion, per_feature in zip(self.classes, self.shapes or [], strict=True)
                for feature, knots, values in zip(self.features, self.knots or [], per_feature, strict=True)
                for knot, value in zip(knots, values, strict=True)]
        return pd.DataFrame(rows, columns=["emotion", "feature", "description", "knot", "logit"])

    def save(self, path: str | Path) -> None:
        write_json(asdict(self), path)

    @classmethod
    def load(cls, path: str | Path) -> AuModel:
        return cls(**json.loads(Path(path).read_text()))


def feature_matrix(table: pd.DataFrame, features: tuple[str, ...] | list[str]) -> np.ndarray:
    """The features of ``table`` as floats (pairs 'A*B' as products); a missing column or NaN value is a clear error."""
    columns = list(dict.fromkeys(part for f in features for part in f.split(PAIR_SEPARATOR)))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"AU table has no column '{missing[0]}' (the bs_* and lm_* features are measured by au=mediapipe)")
    base = table[columns].to_numpy(dtype=float)
    position = {c: i for i, c in enumerate(columns)}
    values = np.column_stack([np.prod(base[:, [position[p] for p in f.split(PAIR_SEPARATOR)]], axis=1) for f in features])
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        first = table.iloc[int(np.argmax(bad))].get("path", "?")
        raise UserError(f"AU table has {int(bad.sum())} measured rows with NaN features (first: {first})")
    return values


def fit(train: pd.DataFrame, classes: list[str], params: LogregParams, seed: int) -> AuModel:
    """Fit on measured training rows (``success`` true) and return the model as plain numbers."""
    if params.features not in FEATURE_SETS:
        raise UserError(f"params: unknown logreg.features '{params.features}' (known: {', '.join(FEATURE_SETS)})")
    features = FEATURE_SETS[params.features]
    measured = train[train.success.astype(bool)]
    absent = [c for c in classes if c not in set(measured.label)]
    if absent:
        raise UserError(f"no measured training faces of class '{absent[0]}': cannot fit the AU model")
    values = feature_matrix(measured, features)
    labels = measured.label.to_numpy()
    if params.pair_rounds:
        return _fit_pairwise(values, labels, list(features), classes, params, seed)
    if params.knots:
        return _fit_additive(values, labels, list(features), classes, params, seed)
    scaler = StandardScaler(with_mean=params.standardise, with_std=params.standardise).fit(values)
    coef, intercept = _fit_logistic(scaler.transform(values), labels, classes, params, seed)
    n_features = len(features)
    return AuModel(
        classes=list(classes),
        features=list(features),
        mean=scaler.mean_.tolist() if params.standardise else [0.0] * n_features,
        scale=scaler.scale_.tolist() if params.standardise else [1.0] * n_features,
        coef=coef.tolist(),
        intercept=intercept.tolist(),
    )


def _fit_additive(values: np.ndarray, labels: np.ndarray, features: list[str], classes: list[str],
                  params: LogregParams, seed: int) -> AuModel:
    """Logistic regression on each feature's tents, turned into centred curves through its knots."""
    knots = [quantile_knots(values[:, j], params.knots) for j in range(len(features))]
    bases = [tent_basis(values[:, j], k) for j, k in enumerate(knots)]
    tents = np.hstack(bases)
    scaler = StandardScaler(with_mean=params.standardise, with_std=params.standardise).fit(tents)
    design = scaler.transform(tents)
    fitted_coef, fitted_intercept = _fit_logistic(design, labels, classes, params, seed)
    # centred curves average 0 over the training faces, so the intercept becomes the average training logit
    intercept = (design @ fitted_coef.T + fitted_intercept).mean(axis=0)
    at_knots = fitted_coef / (scaler.scale_ if params.standardise else 1.0)
    ends = np.cumsum([len(k) for k in knots])
    shapes = np.empty((len(classes), len(features)), dtype=object)
    for j, (basis, end) in enumerate(zip(bases, ends, strict=True)):
        for c in range(len(classes)):
            curve_at_knots = at_knots[c, end - basis.shape[1]:end]
            shapes[c, j] = (curve_at_knots - (basis @ curve_at_knots).mean()).tolist()
    return _with_average_slopes(values, classes, features, intercept, knots=[k.tolist() for k in knots],
                                shapes=shapes.tolist())


def _fit_pairwise(values: np.ndarray, labels: np.ndarray, features: list[str], classes: list[str],
                  params: LogregParams, seed: int) -> AuModel:
    """The glass-box pairwise model: boosted depth-2 trees gathered into terms of one feature or a pair."""
    intercept, terms = pairwise.fit_terms(values, labels, features, classes, params.pair_rounds, params.learning_rate,
                                          params.class_weight, seed)
    return _with_average_slopes(values, classes, features, intercept, terms=terms)


def _with_average_slopes(values: np.ndarray, classes: list[str], features: list[str], intercept: np.ndarray,
                         **shape: list) -> AuModel:
    """The additive or pairwise model with ``coef`` set to each feature's least-squares slope per standard deviation:
    the mean over the training faces of its (centred) contribution times its standardised value."""
    scaler = StandardScaler().fit(values)
    model = AuModel(classes=list(classes), features=features, mean=scaler.mean_.tolist(), scale=scaler.scale_.tolist(),
                    coef=[], intercept=intercept.tolist(), **shape)
    coef = np.einsum("ncj,nj->cj", model.contributions(values), scaler.transform(values)) / len(values)
    return dataclasses.replace(model, coef=coef.tolist())


def _fit_logistic(design: np.ndarray, labels: np.ndarray, classes: list[str], params: LogregParams,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and intercepts of multinomial logistic regression, rows in ``classes`` order."""
    l1_ratio = L1_RATIO.get(params.penalty, params.l1_ratio)
    model = LogisticRegression(C=params.C, l1_ratio=l1_ratio, solver="lbfgs" if l1_ratio == 0 else "saga",
                               class_weight=params.class_weight, max_iter=params.max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model.fit(design, labels)
        except ConvergenceWarning:
            raise UserError(f"logistic regression did not converge in logreg.max_iter={params.max_iter} iterations: "
                            "raise it, or standardise the features") from None
    order = [list(model.classes_).index(c) for c in classes]
    return model.coef_[order], model.intercept_[order]


def predict_table(model: AuModel, table: pd.DataFrame, no_face: str = "no_face") -> pd.Series:
    """Predicted emotion per row; rows without a measured face get ``no_face`` (counted as errors)."""
    predictions = pd.Series(no_face, index=table.index, dtype=object)
    measured = table.success.astype(bool)
    if measured.any():
        predictions[measured] = model.predict(feature_matrix(table[measured], model.features))
    return predictions
