"""The concept-bottleneck CNN (``cnn.concepts``): the CNN's body, then a layer with one unit per named measurement (the
concepts: AU intensities and landmark measurements, standardised), then a linear head per emotion on the concepts
only. Each answer is the sum of its concepts' terms, read exactly like the linear AU model's (``head``).

Training pulls each concept towards the same face's measured value (the AU table): a squared error on standardised
values, left out where the face has no measurement, where its region lay outside the image, and, for a face masked on
the fly, where the mask hides the concept's region."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from face_emotion.au_models.base import neutral_values
from face_emotion.au_models.linear import LinearModel
from face_emotion.cnn.model import concept_outputs, head_weights
from face_emotion.core.config import ClassWeight, ConceptSet, LinearModelParams, parse_section
from face_emotion.core.errors import UserError
from face_emotion.core.feature_sets import FEATURE_SETS, feature_matrix
from face_emotion.core.tables import AU_COLUMNS, UPPER_FACE_COLUMNS, UPPER_FACE_GEOMETRY_COLUMNS

MASKED_HEAD = "masked_head"
"""The key of model_info.json that holds the head of masked faces (a linear AU model's file, on upper-face concepts)."""
INFO_ARRAYS = ("concept_mean", "concept_scale", "concept_neutral")
"""model_info.json's per-concept arrays, in the order of ``Concepts``' fields."""
COEFFICIENTS_FILE = "coefficients.csv"
"""Beside the concept model: its head, emotion x concept weights per standard deviation (as the AU model's)."""


@dataclass(frozen=True)
class Concepts:
    """The concept set and its training standardisation: ``columns`` of the AU table, their ``mean`` and ``scale``
    over the measured training faces, and their ``neutral`` values (median of the neutral ones: what a reason
    measures a movement against)."""

    columns: list[str]
    mean: np.ndarray
    scale: np.ndarray
    neutral: np.ndarray

    @classmethod
    def fitted(cls, train: pd.DataFrame, concepts: ConceptSet) -> Concepts:
        """Mean and scale of each concept over the measured training rows of an AU table (empty values left out)."""
        columns = list(FEATURE_SETS[concepts])
        values = feature_matrix(train[train.success.astype(bool)], columns)
        if not np.isfinite(values).any(axis=1).any():
            raise UserError("the AU table has no measured training faces: the concept CNN has no targets")
        scale = np.nanstd(values, axis=0)
        labels = train.loc[train.success.astype(bool), "label"].to_numpy()
        return cls(columns, np.nanmean(values, axis=0), np.where(scale > 0, scale, 1.0), neutral_values(values, labels))

    @classmethod
    def from_info(cls, info: dict) -> Concepts:
        """The concepts a model_info.json records; a file without them is one clear error."""
        try:
            return cls(list(info["concepts"]), *(np.asarray(info[key], float) for key in INFO_ARRAYS))
        except (KeyError, TypeError, ValueError):
            raise UserError("the CNN's model_info.json names no concepts of this version: retrain it with "
                            "'dvc repro train_cnn'") from None

    def to_info(self) -> dict[str, object]:
        return {"concepts": self.columns, **{key: array.tolist()
                                             for key, array in zip(INFO_ARRAYS, (self.mean, self.scale, self.neutral),
                                                                   strict=True)}}

    def in_units(self, standardised: np.ndarray) -> np.ndarray:
        """Standardised concepts in the AU table's units."""
        return standardised * self.scale + self.mean

    def hidden_by_mask(self) -> np.ndarray:
        """Which concepts a mask over the lower face hides (every one outside the brows, lids, cheeks and head)."""
        visible = {*UPPER_FACE_COLUMNS, *UPPER_FACE_GEOMETRY_COLUMNS}
        return np.array([column not in visible for column in self.columns])

    def targets(self, table: pd.DataFrame, paths: np.ndarray) -> np.ndarray:
        """(n, concepts) standardised measured values of the faces at ``paths`` (the face cache's order); NaN where a
        face has no measurement or a concept's region lay outside the image."""
        measured = table[table.success.astype(bool)].drop_duplicates("path").set_index("path")
        found = pd.Index(measured.index).get_indexer(paths)
        values = np.full((len(paths), len(self.columns)), np.nan)
        if (found >= 0).any():
            values[found >= 0] = feature_matrix(measured.iloc[found[found >= 0]], self.columns)
        return (values - self.mean) / self.scale


def head_params(concept_set: ConceptSet) -> LinearModelParams:
    """A head's params as a linear AU model's: logistic regression, l2 penalty with C=1 (scikit-learn's default)."""
    return LinearModelParams(kind="linear", features=concept_set, C=1.0, l1_ratio=0.0, class_weight=None)


def head(model, concepts: Concepts, classes: list[str], concept_set: ConceptSet) -> LinearModel:
    """The head as the linear AU model on the concepts in their measured units: the same logits, and its
    contributions, reasons, profiles and coefficient table read as the AU model's do."""
    weights, bias = head_weights(model)
    linear = LinearModel.from_params(head_params(concept_set), classes, seed=0)
    linear.classes_ = np.asarray(classes, dtype=object)
    linear.features_, linear.mean_, linear.scale_ = list(concepts.columns), concepts.mean.tolist(), concepts.scale.tolist()
    linear.neutral_ = concepts.neutral.tolist()
    linear.coef_, linear.intercept_ = weights.T.tolist(), bias.tolist()
    try:
        linear._check_shapes()
    except ValueError as exc:
        raise UserError(f"the CNN's model_info.json does not fit its model ({exc}): retrain it with "
                        "'dvc repro train_cnn'") from None
    return linear


def fidelity(predicted: np.ndarray, measured: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Per concept: Pearson r and mean absolute error (measured units) between predicted and measured values, over
    the faces where both exist."""
    rows = []
    for j, column in enumerate(columns):
        both = np.isfinite(predicted[:, j]) & np.isfinite(measured[:, j])
        p, m = predicted[both, j], measured[both, j]
        r = float(np.corrcoef(p, m)[0, 1]) if both.sum() > 2 and p.std() > 0 and m.std() > 0 else float("nan")
        rows.append({"concept": column, "faces": int(both.sum()), "r": round(r, 4),
                     "mae": round(float(np.abs(p - m).mean()), 4) if both.any() else float("nan")})
    return pd.DataFrame(rows)


def median_au_r(scores: pd.DataFrame) -> float:
    """The headline of concept fidelity: the median r over the AU concepts (a fidelity table's rows)."""
    return round(float(scores[scores.concept.isin(AU_COLUMNS)].r.median()), 4)


def concept_check(model, concepts: Concepts, faces: np.ndarray, labels: np.ndarray, targets: np.ndarray
                  ) -> tuple[dict[str, float], pd.DataFrame]:
    """Do the concepts mean what their names say? On faces with their class indices ``labels`` and standardised
    measured ``targets``: the fidelity table, its headline (``concept_fidelity``), and the head's accuracy on the
    faces with a measurement, from the predicted concepts and from the measured ones put in their place (a missing
    value as the training mean: no evidence)."""
    predicted = concept_outputs(model, faces)[1]
    scores = fidelity(concepts.in_units(predicted), concepts.in_units(targets), concepts.columns)
    weights, bias = head_weights(model)
    measured = ~np.isnan(targets).all(axis=1)
    from_measured = (np.nan_to_num(targets[measured]) @ weights + bias).argmax(axis=1)
    from_predicted = (predicted[measured] @ weights + bias).argmax(axis=1)
    headline = {"concept_fidelity": median_au_r(scores),
                "head_accuracy": round(float(np.mean(from_predicted == labels[measured])), 4),
                "intervention_accuracy": round(float(np.mean(from_measured == labels[measured])), 4)}
    return headline, scores


def fit_masked_head(model, concepts: Concepts, masked_faces: np.ndarray, labels: np.ndarray, classes: list[str],
                    concept_set: ConceptSet, seed: int, class_weight: ClassWeight = None) -> LinearModel:
    """The head of masked faces: the linear AU model (logistic regression) on the concepts a mask leaves visible, as
    the model sees them on masked training faces (``labels``: class indices). Unweighted in the pipeline:
    ``class_weight='balanced'`` cost accuracy on masked validation faces (benchmarks/masked_head_balance.py)."""
    values = visible_values(concepts, concept_outputs(model, masked_faces)[1])
    names = np.asarray(classes)[labels]
    visible = [column for column, hidden in zip(concepts.columns, concepts.hidden_by_mask(), strict=True) if not hidden]
    params = replace(head_params(concept_set), class_weight=class_weight)
    return LinearModel.from_params(params, classes, seed).fit(values, names, visible)


def masked_head_from_info(info: dict) -> LinearModel | None:
    """The head of masked faces a model_info.json holds (None: none); a damaged one is one clear error."""
    if MASKED_HEAD not in info:
        return None
    data = info[MASKED_HEAD]
    try:
        model = LinearModel.from_dict(data, parse_section(LinearModelParams, data["params"], "au_model"))
        model.predict_proba(np.asarray([model.mean_]))
    except (KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(f"the CNN's model_info.json holds a damaged {MASKED_HEAD} ({type(exc).__name__}): retrain it "
                        "with 'dvc repro train_cnn'") from None
    return model


def masked_head_outputs(model, masked_head: LinearModel, concepts: Concepts, faces: np.ndarray, batch_size: int = 256,
                        tta: bool = False) -> np.ndarray:
    """(n, classes) probabilities of the head of masked faces, from the visible concepts of (n, 48, 48, 1) faces
    (with ``tta``, averaged with the mirror image's)."""
    standardised = concept_outputs(model, faces, batch_size, tta)[1]
    return masked_head.predict_proba(visible_values(concepts, standardised))


def visible_values(concepts: Concepts, standardised: np.ndarray) -> np.ndarray:
    """The concepts a mask leaves visible, in the AU table's units, from (n, concepts) standardised ones."""
    return concepts.in_units(standardised)[:, ~concepts.hidden_by_mask()]
