"""The EBM AU model: InterpretML's Explainable Boosting Machine, a GA2M of one shape function per feature and a few
pair terms, saved as plain bins so that a prediction needs neither the library nor anything but numpy.

A term holds its features, for each of them the cut points of its bins, and a score per bin (a grid of them for a
pair) per emotion. A value falls in bin ``searchsorted(cuts, x, side="right") + 1`` (bin 0 is for missing values,
the last for unknown ones), and an emotion's logit is the intercept plus the scores of the bins the face falls in:
InterpretML's own rule, so the saved model reproduces its probabilities exactly. Terms are centred by the library (0
on average over the training faces), so a term says how far this face moves the logit from the average face.
"""

from __future__ import annotations

import os
import warnings
from functools import cached_property

import numpy as np

from face_emotion.au_model.base import AuModel
from face_emotion.core.config import EbmModelParams


def bin_indices(column: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """InterpretML's bin of each value of a continuous feature (0: missing; 1 + the cut points at or below it)."""
    return np.where(np.isnan(column), 0, np.searchsorted(cuts, column, side="right") + 1)


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """scikit-learn's 'balanced' class weights as one weight per sample: n / (classes x count of its class)."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return (len(labels) / (len(classes) * counts))[inverse]


class EbmModel(AuModel):
    """``terms_``: each {"features": names, "cuts": [cut points per feature], "scores": [bin (x bin)] x emotion}."""

    kind = "ebm"
    family_state = ("terms_",)
    params: EbmModelParams

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        from interpret.glassbox import ExplainableBoostingClassifier

        ebm = ExplainableBoostingClassifier(
            feature_names=self.features_, feature_types=["continuous"] * len(self.features_),
            interactions=self.params.interactions, max_bins=self.params.max_bins,
            max_interaction_bins=self.params.max_interaction_bins, outer_bags=self.params.outer_bags,
            random_state=self.seed, n_jobs=len(os.sched_getaffinity(0)))
        weights = balanced_weights(labels) if self.params.class_weight == "balanced" else None
        with warnings.catch_warnings():  # "cannot visualize multiclass pairs": this model shows them itself
            warnings.filterwarnings("ignore", message="For multiclass we cannot currently visualize pairs")
            ebm.fit(values, labels, sample_weight=weights)
        order = [list(ebm.classes_).index(c) for c in self.classes]

        def per_class(scores: np.ndarray) -> list:
            """Scores per emotion in self.classes' order. With two classes the library keeps one logit, the second
            class's against the first: it is shared out as -s/2 and +s/2, which give the same probabilities."""
            scores = np.asarray(scores, dtype=float)
            if len(ebm.classes_) == 2:
                scores = np.stack([-scores / 2, scores / 2], axis=-1)
            return scores[..., order].tolist()

        self.intercept_ = np.reshape(per_class(ebm.intercept_), -1).tolist()
        self.terms_ = []
        for features, scores in zip(ebm.term_features_, ebm.term_scores_, strict=True):
            level = len(features)  # a pair's features are binned more coarsely than a main effect's
            cuts = [np.asarray(ebm.bins_[j][min(level, len(ebm.bins_[j])) - 1], dtype=float).tolist() for j in features]
            self.terms_.append({"features": [self.features_[j] for j in features], "cuts": cuts,
                                "scores": per_class(scores)})
        self._set_average_slopes(values)

    def _check_shapes(self) -> None:
        super()._check_shapes()
        for term in self.terms_:
            scores, cuts = np.asarray(term["scores"], dtype=float), term["cuts"]
            if not set(term["features"]) <= set(self.features_) or len(cuts) != len(term["features"]) \
                    or scores.shape != (*(len(c) + 3 for c in cuts), len(self.classes)):
                raise ValueError(f"a term of {term['features']} does not match its bins, features and classes")

    @property
    def n_terms(self) -> int:
        return len(self.terms_)

    @cached_property
    def _term_arrays(self) -> list[tuple[list[int], list[np.ndarray], np.ndarray]]:
        """Each term's feature columns, cut points and scores as arrays, built on first use."""
        position = {feature: j for j, feature in enumerate(self.features_)}
        return [([position[f] for f in term["features"]], [np.asarray(c, dtype=float) for c in term["cuts"]],
                 np.asarray(term["scores"], dtype=float)) for term in self.terms_]

    @cached_property
    def _shared_by(self) -> list[list[int]]:
        """Per term, the feature columns its scores vary with (a pair with a constant partner is the other's alone)."""
        shared = []
        for columns, cuts, scores in self._term_arrays:
            regular = scores[tuple(slice(1, len(c) + 2) for c in cuts)]  # without the missing and unknown bins
            varying = [j for axis, j in enumerate(columns) if not np.allclose(regular, regular.take([0], axis=axis))]
            shared.append(varying or columns)
        return shared

    def term_values(self, values: np.ndarray) -> list[np.ndarray]:
        """Per term, its (n, classes) scores for rows of raw feature values."""
        return [scores[tuple(bin_indices(values[:, j], c) for j, c in zip(columns, cuts, strict=True))]
                for columns, cuts, scores in self._term_arrays]

    def contributions(self, values: np.ndarray) -> np.ndarray:
        """A feature's main term plus half of each pair term it is in (all of it, when the pair varies with it alone)."""
        out = np.zeros((len(values), len(self.classes), len(self.features_)))
        for columns, term in zip(self._shared_by, self.term_values(values), strict=True):
            for j in columns:
                out[:, :, j] += term / len(columns)
        return out
