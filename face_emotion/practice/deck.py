"""The practice decks: test faces whose true emotion the explaining model gives, confidently, for a true cue.

A cue is a marked region of the face as a learner reads it: the movements behind it named in plain words, in the
direction this face shows them. A face qualifies when the model's answer is its label, with at least
``min_confidence``, and one of the regions that raise that answer shows a FACS prototype movement of the emotion
(present on the face: stronger than on a neutral training face); a neutral face qualifies when a region that raises
'neutral' shows a movement at rest. Masked faces are answered by the upper-face model, so
their cues name only what a mask leaves visible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from face_emotion.au_models.base import AuModel
from face_emotion.core.facs import HEAD_POSITIONS, PROTOTYPES, UPPER_FACE_AUS
from face_emotion.core.feature_sets import feature_matrix
from face_emotion.core.words import PLAIN_WORDS
from face_emotion.explain.drawing import SHOWN
from face_emotion.explain.reasons import RegionReason, regions_for


@dataclass(frozen=True)
class Cue:
    """One marked region of a face: whether it raises ('+') or lowers ('-') the answer, and its movements."""

    sign: str
    region: str
    movements: tuple[str, ...]
    """Plain words with the AU, in the direction this face shows: 'lip corners pulled up (AU12)'."""
    aus: tuple[int, ...]
    """The AUs named, in the order of ``movements``."""
    present: tuple[bool, ...]
    """Per AU: stronger on this face than on a neutral training face (else at rest)."""

    def words(self) -> str:
        return f"{self.sign} {self.region}: {'; '.join(self.movements)}"

    def typical_of(self, emotion: str) -> list[bool]:
        """Per movement: a FACS prototype movement of ``emotion``, present on the face, raising it (a true cue)."""
        return [self.sign == "+" and shown and au in PROTOTYPES.get(emotion, ())
                for au, shown in zip(self.aus, self.present, strict=True)]


def face_cues(reasons: list[RegionReason]) -> list[Cue]:
    """The regions drawn on a face for one emotion (``reasons``, strongest first), each with the movements its
    legend names, in the direction this face shows them."""
    return [Cue(reason.sign, reason.region, tuple(m.words() for m in reason.named()), tuple(m.au for m in reason.named()),
                tuple(m.shown for m in reason.named()))
            for reason in reasons[:SHOWN] if reason.named()]


def teaches(emotion: str, cues: list[Cue]) -> bool:
    """Whether the cues that raise ``emotion`` hold a true one: a prototype movement present on the face (for an
    emotion without a prototype, such as neutral, a movement at rest)."""
    if emotion in PROTOTYPES:
        return any(any(cue.typical_of(emotion)) for cue in cues)
    return any(not shown for cue in cues if cue.sign == "+" for shown in cue.present)


def candidates(model: AuModel, table: pd.DataFrame) -> pd.DataFrame:
    """Every measured face of ``table`` (an AU table: path, label, success, features) whose label the model knows:
    ``probability`` of its label, ``predicted``, the region ``reasons`` for the label (what a drawing marks), their
    ``cues`` and whether it ``teaches``."""
    rows = table[table.success.astype(bool) & table.label.isin(model.classes)].reset_index(drop=True)
    columns = ["path", "label", "predicted", "probability", "reasons", "cues", "teaches"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    values = feature_matrix(rows, model.features_)
    probabilities = model.predict_proba(values)
    label_index = rows.label.map(model.classes.index).to_numpy()
    reasons = regions_for(model, values, list(rows.label))
    cues = [face_cues(face) for face in reasons]
    return rows.assign(
        predicted=np.asarray(model.classes)[probabilities.argmax(axis=1)],
        probability=probabilities[np.arange(len(rows)), label_index].round(4),
        reasons=reasons,
        cues=cues,
        teaches=[teaches(label, face) for label, face in zip(rows.label, cues, strict=True)],
    )[[*columns, *[c for c in rows.columns if c not in columns]]]


def qualifying(found: pd.DataFrame, min_confidence: float) -> pd.DataFrame:
    """The candidates that make a lesson: answered as labelled, with at least ``min_confidence``, for a true cue."""
    return found[(found.predicted == found.label) & (found.probability >= min_confidence) & found.teaches.astype(bool)]


def shuffled_by_emotion(faces: pd.DataFrame, classes: list[str], seed: int) -> dict[str, pd.DataFrame]:
    """Per emotion, its faces in a seeded random order (a deck takes them from the front)."""
    rng = np.random.default_rng(seed)
    return {emotion: faces[faces.label == emotion].iloc[rng.permutation(int((faces.label == emotion).sum()))]
            for emotion in classes}


def look_for(emotion: str) -> str:
    """The movements to look for in ``emotion``, in plain words (its FACS prototype)."""
    if emotion not in PROTOTYPES:
        return "a face at rest, no movement standing out"
    return ", ".join(f"{PLAIN_WORDS[au]} (AU{au})" for au in PROTOTYPES[emotion] if au in PLAIN_WORDS)


def hidden_mouth(emotion: str, unmasked: list[Cue] | None = None) -> str:
    """What the mouth hidden by a mask shows: the lower-face movements that raise ``emotion`` on the same face
    unmasked (``unmasked``: its cues there) and are present on it, else what that emotion's prototype adds there."""
    shown = [words for cue in unmasked or [] if cue.sign == "+"
             for au, words, present in zip(cue.aus, cue.movements, cue.present, strict=True)
             if present and au not in UPPER_FACE_AUS and au not in HEAD_POSITIONS]
    if shown:
        return f"Without the mask, this face also shows {emotion} here: {'; '.join(shown)}."
    if emotion not in PROTOTYPES:
        return "Under the mask, the mouth is relaxed too."
    lower = [f"{PLAIN_WORDS[au]} (AU{au})" for au in PROTOTYPES[emotion] if au not in UPPER_FACE_AUS and au in PLAIN_WORDS]
    return f"Under the mask, {emotion} often shows too: {' and '.join(lower)}." if lower else ""
