"""Per-face reasons: the features that raise the predicted emotion's logit most, in words, and the same terms
gathered by face region as movements a learner can see (what a drawing marks).

A movement is read in the direction this face shows it against a neutral face of the training data (the model's
``neutral_``): a feature above that value shows the movements its rise shows ('lip corners pulled up'), one at or
below it the movements its fall shows ('brow slant, low': brows lowered) or else that movement at rest ('lip corners
not pulled up')."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from face_emotion.au_models.base import AuModel
from face_emotion.core.facs import HEAD_POSITIONS
from face_emotion.core.feature_sets import feature_matrix
from face_emotion.core.tables import action_units_of, describe
from face_emotion.core.words import AT_REST_WORDS, OPPOSED, PLAIN_WORDS

AT_REST = " (at rest)"
"""Ends a feature that raises the answer by being no stronger than on a neutral face: 'AU07 lid tightener (at rest)'."""
MOUTH_HIDDEN = "; mouth hidden by a mask"
"""Ends the masked-face AU model's reasons: they name only what the mask leaves visible."""
EXAMPLES_PER_KIND = 2
"""Per emotion: this many of the AU model's most confident correct answers, and as many wrong ones."""
REGION_AUS: dict[str, tuple[int, ...]] = {
    "brows": (1, 2, 4), "eyes": (5, 7, 45), "cheeks": (6,), "nose": (9,), "upper lip": (10,),
    "lip corners": (12, 14, 15, 20), "lips": (23, 25), "chin": (17,), "jaw": (26,), "head": tuple(HEAD_POSITIONS),
}
"""The face's regions as a learner points at them, and the movements (AUs, head positions) each one shows."""
NAMED = 2
"""Movements named per region: those pushing the region's way, strongest first."""
SMALLEST = 0.05
"""Regions moving the logit less than this are left out: they would read as '+0.0'."""


def _feature_text(feature: str, shown: bool) -> str:
    """A feature in the direction this face shows it: 'AU12 lip corner puller', 'brow slant, low (AU04 brow
    lowerer)', 'AU07 lid tightener (at rest)'."""
    if shown:
        return describe(feature)
    return describe(feature, falling=True) if action_units_of(feature, falling=True) else describe(feature) + AT_REST


def top_reasons(model: AuModel, row_contributions: np.ndarray, row_shown: np.ndarray, emotion: str,
                count: int = 3) -> list[tuple[str, float]]:
    """The features that raise ``emotion``'s logit most for one face, largest first (positive terms only), each in
    the direction the face shows it (``row_shown``: which features are above their neutral value).

    ``row_contributions``: that face's (classes, features) slice of ``AuModel.contributions``.
    """
    terms = row_contributions[model.classes.index(emotion)]
    order = np.argsort(-terms)[:count]
    return [(_feature_text(model.features_[j], bool(row_shown[j])), float(terms[j])) for j in order if terms[j] > 0]


@dataclass(frozen=True)
class Movement:
    """One movement behind a region's reason: the AU, whether this face shows it (else it is at rest), and its part
    of the region's effect on the logit."""

    au: int
    shown: bool
    value: float

    def words(self) -> str:
        """'lip corners pulled up (AU12)', or at rest: 'lip corners not pulled up (AU12)'."""
        return f"{PLAIN_WORDS[self.au] if self.shown else AT_REST_WORDS[self.au]} (AU{self.au})"

    def contradicts(self, other: Movement) -> bool:
        """Whether one reason naming both would say opposite things: the same AU shown and at rest, two opposed
        movements both shown, or the same words twice (head turned left and right are both 'head turned')."""
        return ((self.au == other.au) or (self.shown and other.shown and {self.au, other.au} in OPPOSED)
                or self.words() == other.words())


@dataclass(frozen=True)
class RegionReason:
    """How much a face region moved one emotion's logit (``value``), and the movements behind it that push the same
    way, strongest first, no two contradicting each other."""

    region: str
    value: float
    movements: tuple[Movement, ...]

    @property
    def sign(self) -> str:
        return "+" if self.value > 0 else "-"

    def named(self) -> tuple[Movement, ...]:
        """The ``NAMED`` movements said for this region."""
        return self.movements[:NAMED]

    def words(self) -> str:
        """'+ lip corners: lip corners pulled up (AU12) +1.4'."""
        return f"{self.sign} {self.region}: {', '.join(m.words() for m in self.named())} {self.value:+.1f}"


def _movements_of(feature: str, shown: bool) -> tuple[tuple[int, ...], bool]:
    """The movements a feature's value shows on a face and whether they are shown or at rest: above its neutral value
    the AUs its rise shows; at or below it, the AUs its fall shows where it has them, else its rise's AUs at rest."""
    falls = () if shown else action_units_of(feature, falling=True)
    return (falls, True) if falls else (action_units_of(feature), shown)


def region_reasons(features: list[str], contributions: np.ndarray, shown: np.ndarray) -> list[RegionReason]:
    """One face's per-feature contributions to one emotion's logit (``contributions``: (features,)) gathered by face
    region as movements in the direction the face shows them (``shown``: (features,), above the neutral value),
    largest effect first; a feature of several AUs shares its contribution among them."""
    by_movement: dict[tuple[int, bool], float] = {}
    for feature, value, above in zip(features, contributions, shown, strict=True):
        aus, present = _movements_of(feature, bool(above))
        for au in aus:
            by_movement[au, present] = by_movement.get((au, present), 0.0) + float(value) / len(aus)
    reasons = []
    for region, aus in REGION_AUS.items():
        mine = [Movement(au, present, value) for (au, present), value in by_movement.items() if au in aus and value != 0]
        total = sum(m.value for m in mine)
        if mine and abs(total) >= SMALLEST:
            reasons.append(RegionReason(region, total, _consistent(
                sorted((m for m in mine if m.value * total > 0), key=lambda m: -abs(m.value)))))
    return sorted(reasons, key=lambda r: -abs(r.value))


def _consistent(movements: list[Movement]) -> tuple[Movement, ...]:
    """``movements`` (strongest first) without each one that contradicts a stronger one kept before it."""
    kept: list[Movement] = []
    for movement in movements:
        if not any(movement.contradicts(other) for other in kept):
            kept.append(movement)
    return tuple(kept)


def reason_text(emotion: str, probability: float, reasons: list[tuple[str, float]]) -> str:
    """'happy (0.91): AU12 lip corner puller +2.3, AU06 cheek raiser +1.1' from ``top_reasons``."""
    because = ", ".join(f"{feature} {value:+.1f}" for feature, value in reasons)
    return f"{emotion} ({probability:.2f}): {because or 'no AU raises it above the baseline'}"


@dataclass(frozen=True)
class Reasoned:
    """One face's answer from a readable model: the emotion, its probabilities, the reasons in words and by face
    region (to draw)."""

    emotion: str
    probabilities: np.ndarray
    text: str
    regions: list[RegionReason]


def reasoned(model: AuModel, values: np.ndarray, count: int = 3) -> list[Reasoned]:
    """Each row of raw feature ``values``: its answer and the ``count`` features that raise it most, in words."""
    probabilities, contributions = model.explained(values)
    answers = []
    for p, terms, shown in zip(probabilities, contributions, model.shown(values), strict=True):
        k = int(p.argmax())
        emotion = model.classes[k]
        answers.append(Reasoned(emotion, p, reason_text(emotion, float(p.max()), top_reasons(model, terms, shown, emotion,
                                                                                            count)),
                                region_reasons(model.features_, terms[k], shown)))
    return answers


def regions_for(model: AuModel, values: np.ndarray, emotions: list[str]) -> list[list[RegionReason]]:
    """Per row of raw feature ``values``: its region reasons for the matching emotion of ``emotions``."""
    contributions, shown = model.contributions(values), model.shown(values)
    return [region_reasons(model.features_, terms[model.classes.index(emotion)], row_shown)
            for terms, row_shown, emotion in zip(contributions, shown, emotions, strict=True)]


def explain_table(model: AuModel, table: pd.DataFrame, count: int = 3) -> pd.DataFrame:
    """Per face: prediction, probabilities and the top reasons in words; unmeasured faces keep their reason."""
    out = table[["path", "label"]].reset_index(drop=True).copy()
    out["predicted"], out["probability"], out["reasons"] = "", np.nan, ""
    for emotion in model.classes:
        out[f"p_{emotion}"] = np.nan
    measured = table.success.astype(bool).to_numpy()
    out.loc[~measured, "reasons"] = table.loc[~measured, "failure_reason"].to_numpy() if "failure_reason" in table else ""
    if measured.any():
        answers = reasoned(model, feature_matrix(table[measured], model.features_), count)
        for row, answer in zip(np.flatnonzero(measured), answers, strict=True):
            out.loc[row, "predicted"] = answer.emotion
            out.loc[row, "probability"] = round(float(answer.probabilities.max()), 4)
            out.loc[row, "reasons"] = answer.text
            out.loc[row, [f"p_{c}" for c in model.classes]] = answer.probabilities.round(4)
    return out


def choose_examples(explanations: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """Per emotion (by true label), the most confident correct and wrong answers, with a ``kind`` column."""
    measured = explanations[explanations.predicted != ""].sort_values("probability", ascending=False, kind="stable")
    chosen = []
    for emotion in classes:
        mine = measured[measured.label == emotion]
        chosen += [mine[mine.predicted == emotion].head(EXAMPLES_PER_KIND).assign(kind="correct"),
                   mine[mine.predicted != emotion].head(EXAMPLES_PER_KIND).assign(kind="wrong")]
    return pd.concat(chosen, ignore_index=True)
