"""The explainable model: multinomial logistic regression on AU intensities, stored as a plain table."""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

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
    "upper_face": UPPER_FACE_COLUMNS,
}
"""upper_face: the FACS upper-face AUs (brows, lids, cheeks, blink), what a face mask leaves visible;
au17_geometry: the AUs and the 9 landmark measurements of face_emotion.au.geometry (AU06 and AU09 among them);
au17_pairs_geometry: also the AU pairs."""
L1_RATIO = {"l2": 0.0, "l1": 1.0}
"""scikit-learn >= 1.8 expresses the penalty as l1_ratio; elasticnet takes logreg.l1_ratio."""


@dataclass(frozen=True)
class AuModel:
    """Everything needed to recompute a prediction by hand: z = (x - mean) / scale, logit = coef @ z + intercept."""

    classes: list[str]
    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[list[float]]
    intercept: list[float]

    def standardise(self, values: np.ndarray) -> np.ndarray:
        return (values - np.asarray(self.mean)) / np.asarray(self.scale)

    def logits(self, values: np.ndarray) -> np.ndarray:
        """Per-class logits for rows of raw feature values (n, n_features)."""
        return self.standardise(values) @ np.asarray(self.coef).T + np.asarray(self.intercept)

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
    scaler = StandardScaler(with_mean=params.standardise, with_std=params.standardise).fit(values)
    l1_ratio = L1_RATIO.get(params.penalty, params.l1_ratio)
    model = LogisticRegression(C=params.C, l1_ratio=l1_ratio, solver="lbfgs" if l1_ratio == 0 else "saga",
                               class_weight=params.class_weight, max_iter=params.max_iter, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model.fit(scaler.transform(values), measured.label.to_numpy())
        except ConvergenceWarning:
            raise UserError(f"logistic regression did not converge in logreg.max_iter={params.max_iter} iterations: "
                            "raise it, or standardise the features") from None
    order = [list(model.classes_).index(c) for c in classes]
    n_features = len(features)
    return AuModel(
        classes=list(classes),
        features=list(features),
        mean=scaler.mean_.tolist() if params.standardise else [0.0] * n_features,
        scale=scaler.scale_.tolist() if params.standardise else [1.0] * n_features,
        coef=model.coef_[order].tolist(),
        intercept=model.intercept_[order].tolist(),
    )


def predict_table(model: AuModel, table: pd.DataFrame, no_face: str = "no_face") -> pd.Series:
    """Predicted emotion per row; rows without a measured face get ``no_face`` (counted as errors)."""
    predictions = pd.Series(no_face, index=table.index, dtype=object)
    measured = table.success.astype(bool)
    if measured.any():
        predictions[measured] = model.predict(feature_matrix(table[measured], model.features))
    return predictions
