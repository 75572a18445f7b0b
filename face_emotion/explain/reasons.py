"""Per-face reasons: the features that raise the predicted emotion's logit most, in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from face_emotion.au_model.base import AuModel
from face_emotion.au_model.features import feature_matrix
from face_emotion.core.tables import describe

LOW = " (low)"
MOUTH_HIDDEN = "; mouth hidden by a mask"
"""Ends the masked-face AU model's reasons: they name only what the mask leaves visible."""
EXAMPLES_PER_KIND = 2
"""Per emotion: this many of the AU model's most confident correct answers, and as many wrong ones."""


def top_reasons(model: AuModel, row_contributions: np.ndarray, row_below_average: np.ndarray, emotion: str,
                count: int = 3) -> list[tuple[str, float]]:
    """The features that raise ``emotion``'s logit most for one face, largest first (positive terms only).

    ``row_contributions``: that face's (classes, features) slice of ``AuModel.contributions``;
    ``row_below_average``: which of its features are below the training mean. A feature that raises the emotion by
    being *weaker* than on the average training face gets ' (low)': 'AU07 lid tightener (low) +1.1' for a surprised
    face's open eyes.
    """
    terms = row_contributions[model.classes.index(emotion)]
    order = np.argsort(-terms)[:count]
    return [(f"{model.features_[j]}{LOW if row_below_average[j] else ''}", float(terms[j])) for j in order if terms[j] > 0]


def reason_text(emotion: str, probability: float, reasons: list[tuple[str, float]]) -> str:
    """'happy (0.91): AU12 lip corner puller +2.3, AU06 cheek raiser +1.1'; a weaker-than-average AU says '(low)'."""
    because = ", ".join(f"{describe(feature.removesuffix(LOW))}{LOW if feature.endswith(LOW) else ''} {value:+.1f}"
                        for feature, value in reasons)
    return f"{emotion} ({probability:.2f}): {because or 'no AU raises it above the baseline'}"


@dataclass(frozen=True)
class Reasoned:
    """One face's answer from a readable model: the emotion, its probabilities, the reasons in words and the
    emotion's per-feature terms (to draw)."""

    emotion: str
    probabilities: np.ndarray
    text: str
    terms: np.ndarray


def reasoned(model: AuModel, values: np.ndarray, count: int = 3) -> list[Reasoned]:
    """Each row of raw feature ``values``: its answer and the ``count`` features that raise it most, in words."""
    probabilities, contributions = model.explained(values)
    answers = []
    for p, terms, low in zip(probabilities, contributions, model.standardise(values) < 0, strict=True):
        emotion = model.classes[int(p.argmax())]
        answers.append(Reasoned(emotion, p, reason_text(emotion, float(p.max()), top_reasons(model, terms, low, emotion,
                                                                                            count)),
                                terms[model.classes.index(emotion)]))
    return answers


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
