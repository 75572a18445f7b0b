"""Whether the reasons are faithful to the model, measured on faces rather than asserted.

- Deletion: set a face's three strongest reasons (the features that raise its predicted emotion's logit most) to
  their training mean, and separately three of its other features chosen at random; the reasons are faithful on
  that face when removing them lowers the predicted emotion's probability more than removing the random ones.
- Mirror stability: whether a face's top reason names the same movement (the same AUs) on its mirror image. Its
  features are the face's with left and right swapped: with ``au.mirror`` every face is measured together with its
  mirror image, so that is exactly the mirror image's measurement.
"""

from __future__ import annotations

import numpy as np

from face_emotion.au_models.base import AuModel
from face_emotion.core.tables import PAIR_SEPARATOR, action_units_of

REASONS = 3


def _predicted_probability(model: AuModel, values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return model.predict_proba(values)[np.arange(len(values)), classes]


def deletion_share(model: AuModel, values: np.ndarray, seed: int) -> float:
    """Share of faces (rows of ``values``) on which removing the top reasons costs the answer more than removing as
    many random features (seeded)."""
    if not len(values):
        return 0.0
    predicted = model.predict_proba(values).argmax(axis=1)
    rows = np.arange(len(values))
    contributions = model.contributions(values)[rows, predicted]  # (n, features), for each face's own answer
    ranked = np.argsort(-contributions, axis=1)
    top, others = ranked[:, :REASONS], ranked[:, REASONS:]
    if not others.shape[1]:
        return 0.0  # nothing else to remove: no comparison to make
    rng = np.random.default_rng(seed)
    random = np.stack([rng.choice(row, size=min(REASONS, len(row)), replace=False) for row in others])
    means = np.asarray(model.mean_)
    drops = []
    for chosen in (top, random):
        removed = values.copy()
        removed[rows[:, None], chosen] = means[chosen]
        drops.append(_predicted_probability(model, values, predicted) - _predicted_probability(model, removed, predicted))
    return round(float(np.mean(drops[0] > drops[1])), 4)


def _other_side(feature: str) -> str:
    if PAIR_SEPARATOR in feature:
        return PAIR_SEPARATOR.join(_other_side(part) for part in feature.split(PAIR_SEPARATOR))
    if feature.endswith("Left"):
        return feature.removesuffix("Left") + "Right"
    return feature.removesuffix("Right") + "Left" if feature.endswith("Right") else feature


def mirrored(values: np.ndarray, features: list[str]) -> np.ndarray:
    """The feature rows of the mirror images: each left feature takes its right twin's value and vice versa."""
    position = {feature: j for j, feature in enumerate(features)}
    return values[:, [position.get(_other_side(feature), j) for j, feature in enumerate(features)]]


def mirror_stability(model: AuModel, values: np.ndarray) -> float:
    """Share of faces whose top reason names the same AUs on the mirror image."""
    if not len(values):
        return 0.0

    def top_movement(rows: np.ndarray) -> list[object]:
        """The AUs of each face's top reason (a feature that names none: itself, sides aside)."""
        predicted = model.predict_proba(rows).argmax(axis=1)
        contributions = model.contributions(rows)[np.arange(len(rows)), predicted]
        features = [model.features_[j] for j in contributions.argmax(axis=1)]
        return [tuple(sorted(set(action_units_of(f)))) or f.removesuffix("Left").removesuffix("Right") for f in features]

    same = [a == b for a, b in zip(top_movement(values), top_movement(mirrored(values, model.features_)), strict=True)]
    return round(float(np.mean(same)), 4)
