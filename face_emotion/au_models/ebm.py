"""The EBM AU model: InterpretML's Explainable Boosting Machine, a GA2M of one shape function per feature and a few
pair terms, saved as plain bins so that a prediction needs neither the library nor anything but numpy.

A term holds its features, for each of them the cut points of its bins, and a score per bin (a grid of them for a
pair) per emotion. A value falls in bin ``searchsorted(cuts, x, side="right") + 1`` (bin 0 is for missing values,
the last for unknown ones), and an emotion's logit is the intercept plus the scores of the bins the face falls in:
InterpretML's own rule, so the saved model reproduces its probabilities exactly. Terms are centred by the library (0
on average over the training faces), so a term says how far this face moves the logit from the average face.
"""

from __future__ import annotations

import warnings
from functools import cached_property
from typing import NamedTuple

import numpy as np

from face_emotion.au_models.base import AuModel
from face_emotion.core.config import EbmModelParams

ROWS_AT_ONCE = 2048
"""Rows whose contributions are computed together (each row's term scores are terms x classes)."""


class TermLookup(NamedTuple):
    """Every term of a model at once. A slot is one feature of one term (a pair has two)."""

    slot_columns: np.ndarray
    """(slots,) the feature column of each slot."""
    slot_cuts: list[np.ndarray]
    """Each slot's cut points."""
    first: np.ndarray
    """(terms,) each term's first slot."""
    second: np.ndarray
    """(terms,) a pair's second slot, -1 for a main effect."""
    stride: np.ndarray
    """(terms,) how far one bin of the first slot moves in the term's flattened scores."""
    offsets: np.ndarray
    """(terms,) where each term's flattened scores start in ``scores``."""
    scores: np.ndarray
    """(all terms' bins, classes) every term's scores, flattened and stacked."""
    shares: np.ndarray
    """(terms, features) each term's share of each feature's contribution."""


def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """scikit-learn's 'balanced' class weights as one weight per sample: n / (classes x count of its class)."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return (len(labels) / (len(classes) * counts))[inverse]


class EbmModel(AuModel):
    """``terms_``: each {"features": names, "cuts": [cut points per feature], "scores": [bin (x bin)] x emotion}."""

    kind = "ebm"
    family_state = ("terms_",)
    Params = EbmModelParams

    def __init__(self, features: str = "au17_geometry_blendshapes", interactions: int = 50, max_bins: int = 64,
                 max_interaction_bins: int = 32, outer_bags: int = 8, class_weight: str | None = None,
                 emotions: list[str] | None = None, random_state: int = 0) -> None:
        self.features, self.interactions, self.max_bins = features, interactions, max_bins
        self.max_interaction_bins, self.outer_bags, self.class_weight = max_interaction_bins, outer_bags, class_weight
        self.emotions, self.random_state = emotions, random_state

    def _fit(self, values: np.ndarray, labels: np.ndarray) -> None:
        from interpret.glassbox import ExplainableBoostingClassifier

        ebm = ExplainableBoostingClassifier(
            feature_names=self.features_, feature_types=["continuous"] * len(self.features_),
            interactions=self.interactions, max_bins=self.max_bins,
            max_interaction_bins=self.max_interaction_bins, outer_bags=self.outer_bags,
            random_state=self.seed, n_jobs=-1)  # bags on every core joblib sees (the affinity, LOKY_MAX_CPU_COUNT)
        weights = balanced_weights(labels) if self.class_weight == "balanced" else None
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
            if len(term["features"]) not in (1, 2):  # the lookup scores main effects and pairs only
                raise ValueError(f"a term of {term['features']} has {len(term['features'])} features, not 1 or 2")
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

    @cached_property
    def _lookup(self) -> TermLookup:
        """The terms as arrays for binning and scoring every term of many rows at once, built on first use."""
        slots = [(j, cuts) for columns, cuts_of, _ in self._term_arrays for j, cuts in zip(columns, cuts_of, strict=True)]
        first, second, stride, offsets = [], [], [], []
        shares = np.zeros((len(self._term_arrays), len(self.features_)))
        slot, offset = 0, 0
        for t, ((columns, _, scores), shared) in enumerate(zip(self._term_arrays, self._shared_by, strict=True)):
            first.append(slot)
            second.append(slot + 1 if len(columns) == 2 else -1)
            stride.append(scores.shape[1] if len(columns) == 2 else 1)
            offsets.append(offset)
            shares[t, shared] = 1 / len(shared)
            slot, offset = slot + len(columns), offset + int(np.prod(scores.shape[:-1]))
        stacked = [scores.reshape(-1, len(self.classes)) for _, _, scores in self._term_arrays]
        return TermLookup(np.array([j for j, _ in slots], dtype=int), [cuts for _, cuts in slots], np.array(first, dtype=int),
                          np.array(second, dtype=int), np.array(stride, dtype=int), np.array(offsets, dtype=int),
                          np.concatenate(stacked) if stacked else np.zeros((0, len(self.classes))), shares)

    def term_scores(self, values: np.ndarray) -> np.ndarray:
        """(n, terms, classes): each term's scores for rows of raw feature values, looked up for all terms at once.
        A value's bin is InterpretML's: 0 when missing, else 1 + the number of its cut points at or below it."""
        terms = self._lookup
        x = values[:, terms.slot_columns]
        bins = np.empty(x.shape, dtype=int)
        for s, cuts in enumerate(terms.slot_cuts):
            bins[:, s] = cuts.searchsorted(x[:, s], side="right")
        bins = np.where(np.isnan(x), 0, bins + 1)
        second = np.where(terms.second >= 0, bins[:, np.maximum(terms.second, 0)], 0)
        return terms.scores[terms.offsets + bins[:, terms.first] * terms.stride + second]

    def _contributions(self, values: np.ndarray) -> np.ndarray:
        """A feature's main term plus half of each pair term it is in (all of it, when the pair varies with it alone);
        ROWS_AT_ONCE rows at a time."""
        shares = self._lookup.shares
        parts = [np.matmul(self.term_scores(values[start:start + ROWS_AT_ONCE]).transpose(0, 2, 1), shares)
                 for start in range(0, len(values), ROWS_AT_ONCE)]
        return np.concatenate(parts) if parts else np.zeros((0, len(self.classes), len(self.features_)))
