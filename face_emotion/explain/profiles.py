"""Per-emotion AU profiles (the movements that raise and lower each emotion's odds) and their agreement with the
FACS prototypes. A movement is a feature's rise, or its fall where that is a movement of its own
(face_emotion.core.tables.GEOMETRY: lowered inner brows are AU04)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from face_emotion.au_models.base import AuModel
from face_emotion.core.facs import PROTOTYPES
from face_emotion.core.tables import action_units_of, describe


def movements(model: AuModel, emotion: str) -> list[tuple[str, bool, float]]:
    """How each feature moves ``emotion``'s odds, as movements of the face: (feature, falling, strength), its rise
    with its coefficient and, where its fall is a movement of its own (a low brow slant: AU04), its fall with the
    opposite sign."""
    coef = np.asarray(model.coef_[model.classes.index(emotion)], dtype=float)
    rises = [(feature, False, float(c)) for feature, c in zip(model.features_, coef, strict=True)]
    return rises + [(feature, True, -float(c)) for feature, c in zip(model.features_, coef, strict=True)
                    if action_units_of(feature, falling=True)]


def strongest(model: AuModel, emotion: str, count: int, raising: bool = True) -> list[tuple[str, bool, float]]:
    """The ``count`` movements that raise (or lower) ``emotion``'s odds most, strongest first."""
    chosen = [m for m in movements(model, emotion) if (m[2] > 0 if raising else m[2] < 0)]
    return sorted(chosen, key=lambda m: -abs(m[2]))[:count]


def profiles(model: AuModel, count: int = 5) -> pd.DataFrame:
    """Per emotion, the ``count`` movements that raise its odds most and the ``count`` that lower them most."""
    rows = [{"emotion": emotion, "direction": "raises" if raising else "lowers", "rank": rank + 1, "feature": feature,
             "description": describe(feature, falling), "coefficient": round(strength, 4)}
            for emotion in model.classes for raising in (True, False)
            for rank, (feature, falling, strength) in enumerate(strongest(model, emotion, count, raising))]
    return pd.DataFrame(rows, columns=["emotion", "direction", "rank", "feature", "description", "coefficient"])


def facs_agreement(model: AuModel, count: int = 5) -> dict[str, dict[str, object]]:
    """For each emotion with a FACS prototype: which prototype AUs its ``count`` strongest raising movements show."""
    measurable = {au for f in model.features_ for falling in (False, True) for au in action_units_of(f, falling)}
    agreement = {}
    for emotion in model.classes:
        if emotion not in PROTOTYPES:
            continue
        top_aus = sorted({au for feature, falling, _ in strongest(model, emotion, count)
                          for au in action_units_of(feature, falling)})
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
