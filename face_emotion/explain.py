"""Explanations of the AU model: per-face reasons, per-emotion AU profiles, agreement with FACS prototypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from face_emotion.au.mapping import action_units_of, describe
from face_emotion.logreg import AuModel, feature_matrix

FACS_PROTOTYPES: dict[str, tuple[int, ...]] = {
    "happy": (6, 12),
    "sad": (1, 4, 15),
    "surprise": (1, 2, 5, 26),
    "angry": (4, 5, 7, 23),
    "disgust": (9, 15, 16),
    "fear": (1, 2, 4, 5, 7, 20, 26),
}
"""EMFACS prototypes (Friesen & Ekman): the AUs that make up each emotion's typical display."""
LOW = " (low)"


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
    return [(f"{model.features[j]}{LOW if row_below_average[j] else ''}", float(terms[j])) for j in order if terms[j] > 0]


def reason_text(emotion: str, probability: float, reasons: list[tuple[str, float]]) -> str:
    """'happy (0.91): AU12 lip corner puller +2.3, AU06 cheek raiser +1.1'; a weaker-than-average AU says '(low)'."""
    because = ", ".join(f"{describe(feature.removesuffix(LOW))}{LOW if feature.endswith(LOW) else ''} {value:+.1f}"
                        for feature, value in reasons)
    return f"{emotion} ({probability:.2f}): {because or 'no AU raises it above the baseline'}"


def explain_table(model: AuModel, table: pd.DataFrame, count: int = 3) -> pd.DataFrame:
    """Per face: prediction, probabilities and the top reasons in words; unmeasured faces keep their reason."""
    out = table[["path", "label"]].reset_index(drop=True).copy()
    out["predicted"], out["probability"], out["reasons"] = "", np.nan, ""
    for emotion in model.classes:
        out[f"p_{emotion}"] = np.nan
    measured = table.success.astype(bool).to_numpy()
    out.loc[~measured, "reasons"] = table.loc[~measured, "failure_reason"].to_numpy() if "failure_reason" in table else ""
    if measured.any():
        values = feature_matrix(table[measured], model.features)
        probabilities = model.predict_proba(values)
        terms, below_average = model.contributions(values), model.standardise(values) < 0
        rows = np.flatnonzero(measured)
        for row, p, t, low in zip(rows, probabilities, terms, below_average, strict=True):
            emotion = model.classes[int(p.argmax())]
            out.loc[row, "predicted"] = emotion
            out.loc[row, "probability"] = round(float(p.max()), 4)
            out.loc[row, "reasons"] = reason_text(emotion, float(p.max()), top_reasons(model, t, low, emotion, count))
            out.loc[row, [f"p_{c}" for c in model.classes]] = p.round(4)
    return out


def profiles(model: AuModel, count: int = 5) -> pd.DataFrame:
    """Per emotion, the ``count`` features that raise its odds most and the ``count`` that lower them most."""
    rows = []
    for k, emotion in enumerate(model.classes):
        coef = np.asarray(model.coef[k])
        for direction, order in (("raises", np.argsort(-coef)), ("lowers", np.argsort(coef))):
            chosen = [j for j in order if (coef[j] > 0 if direction == "raises" else coef[j] < 0)][:count]
            rows += [{"emotion": emotion, "direction": direction, "rank": r + 1, "feature": model.features[j],
                      "description": describe(model.features[j]), "coefficient": round(float(coef[j]), 4)}
                     for r, j in enumerate(chosen)]
    return pd.DataFrame(rows, columns=["emotion", "direction", "rank", "feature", "description", "coefficient"])


def facs_agreement(model: AuModel, count: int = 5) -> dict[str, dict[str, object]]:
    """For each emotion with a FACS prototype: which prototype AUs are among its top positive features."""
    measurable = {au for f in model.features for au in action_units_of(f)}
    agreement = {}
    for k, emotion in enumerate(model.classes):
        if emotion not in FACS_PROTOTYPES:
            continue
        coef = np.asarray(model.coef[k])
        top = [j for j in np.argsort(-coef) if coef[j] > 0][:count]
        top_aus = sorted({au for j in top for au in action_units_of(model.features[j])})
        prototype = [au for au in FACS_PROTOTYPES[emotion] if au in measurable]
        hits = [au for au in prototype if au in top_aus]
        agreement[emotion] = {
            "prototype": list(FACS_PROTOTYPES[emotion]),
            "measurable": prototype,
            "top_aus": top_aus,
            "hits": len(hits),
            "share": round(len(hits) / len(prototype), 4) if prototype else 0.0,
        }
    return agreement


def agreement_metrics(agreement: dict[str, dict[str, object]]) -> dict[str, object]:
    """Flat numbers for `dvc exp show`: prototype AUs found per emotion, and the mean share."""
    shares = [float(v["share"]) for v in agreement.values()]  # type: ignore[arg-type]
    return {
        "mean_share": round(float(np.mean(shares)), 4) if shares else 0.0,
        **{emotion: {"hits": v["hits"], "share": v["share"]} for emotion, v in agreement.items()},
    }
