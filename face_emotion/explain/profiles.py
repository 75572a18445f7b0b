"""Per-emotion AU profiles (the movements that raise and lower each emotion's odds) and their agreement with the
FACS prototypes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from face_emotion.au_model.base import AuModel
from face_emotion.core.facs import PROTOTYPES
from face_emotion.core.tables import action_units_of, describe


def profiles(model: AuModel, count: int = 5) -> pd.DataFrame:
    """Per emotion, the ``count`` features that raise its odds most and the ``count`` that lower them most."""
    rows = []
    for k, emotion in enumerate(model.classes):
        coef = np.asarray(model.coef_[k])
        for direction, order in (("raises", np.argsort(-coef)), ("lowers", np.argsort(coef))):
            chosen = [j for j in order if (coef[j] > 0 if direction == "raises" else coef[j] < 0)][:count]
            rows += [{"emotion": emotion, "direction": direction, "rank": r + 1, "feature": model.features_[j],
                      "description": describe(model.features_[j]), "coefficient": round(float(coef[j]), 4)}
                     for r, j in enumerate(chosen)]
    return pd.DataFrame(rows, columns=["emotion", "direction", "rank", "feature", "description", "coefficient"])


def facs_agreement(model: AuModel, count: int = 5) -> dict[str, dict[str, object]]:
    """For each emotion with a FACS prototype: which prototype AUs are among its top positive features."""
    measurable = {au for f in model.features_ for au in action_units_of(f)}
    agreement = {}
    for k, emotion in enumerate(model.classes):
        if emotion not in PROTOTYPES:
            continue
        coef = np.asarray(model.coef_[k])
        top = [j for j in np.argsort(-coef) if coef[j] > 0][:count]
        top_aus = sorted({au for j in top for au in action_units_of(model.features_[j])})
        prototype = [au for au in PROTOTYPES[emotion] if au in measurable]
        hits = [au for au in prototype if au in top_aus]
        agreement[emotion] = {
            "prototype": list(PROTOTYPES[emotion]),
            "measurable": prototype,
            "top_aus": top_aus,
            "hits": len(hits),
            "share": round(len(hits) / len(prototype), 4) if prototype else 0.0,
        }
    return agreement


def agreement_score(agreement: dict[str, dict[str, object]]) -> float:
    """The headline number: the mean share of each emotion's measurable prototype AUs found among its top five."""
    shares = [float(v["share"]) for v in agreement.values()]  # type: ignore[arg-type]
    return round(float(np.mean(shares)), 4) if shares else 0.0
