"""Does each AU column measure its movement? Checks that need no FACS-coded faces.

- Spread: a column with (almost) no spread over a run's faces is dead, whatever it is called.
- Prototype AUC: on the validation split, how well the AU's intensity separates the emotions whose EMFACS prototype
  contains it (face_emotion.core.facs.PROTOTYPES) from the other emotions (0.5: not at all). A proxy for agreement
  with human FACS coders: an emotion label says which movements are likely, not which a face shows.
- Montages: the validation faces an AU scores highest and lowest, for a person to see whether "AU23" picks pressed
  lips.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw
from sklearn.metrics import roc_auc_score

from face_emotion.core.facs import ACTION_UNITS, PROTOTYPES, ActionUnit, au_label
from face_emotion.core.tables import AU_DECIMALS

MIN_SPREAD = 0.1
"""A column whose standard deviation over a run's faces (0-5 scale) is below this is dead."""
MONTAGE_FACES = 8
"""Faces per row of a montage: the highest-scoring row, then the lowest."""
FACE_PIXELS = 64
LABEL_HEIGHT = 18
SCORE_COLUMNS = ["au", "name", "prototype_of", "auc", "spread"]
"""The scores table (reports/au_validity/scores.csv): AU column, FACS name, the emotions whose prototype holds it
(';'-separated; empty: none of the run's classes), prototype AUC on the validation split (empty: no such emotion),
standard deviation over every measured face."""


def prototype_of(au: ActionUnit, classes: list[str]) -> list[str]:
    """The run's emotions whose EMFACS prototype contains ``au``."""
    return [emotion for emotion in classes if au.number in PROTOTYPES.get(emotion, ())]


def scores(table: pd.DataFrame, classes: list[str]) -> pd.DataFrame:
    """One row per AU (SCORE_COLUMNS) for an AU table: spread over its measured faces, prototype AUC on its
    measured validation faces (each AU on the faces where its region lies in the image)."""
    measured = table[table.success.astype(bool)]
    val = measured[measured.split == "val"]
    rows = []
    for au in ACTION_UNITS:
        emotions = prototype_of(au, classes)
        known = val[val[au.column].notna()]
        positive = known.label.isin(emotions)
        auc = (roc_auc_score(positive, known[au.column]) if emotions and 0 < positive.sum() < len(known) else np.nan)
        rows.append({"au": au.column, "name": au.name, "prototype_of": ";".join(emotions),
                     "auc": round(float(auc), 3), "spread": round(float(measured[au.column].std(ddof=0)), 3)})
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def dead_columns(au_scores: pd.DataFrame) -> list[str]:
    """The AU columns with less than MIN_SPREAD spread (NaN: no measured face at all)."""
    return [row.au for row in au_scores.itertuples() if not row.spread >= MIN_SPREAD]


def metrics(au_scores: pd.DataFrame) -> dict[str, object]:
    """The DVC metrics: ``au_validity`` (the mean prototype AUC over the AUs that have one), the AUC and spread per
    AU, and the dead columns."""
    scored = au_scores.dropna(subset=["auc"])
    return {"au_validity": round(float(scored.auc.mean()), 3) if len(scored) else None,
            "auc": {row.au: row.auc for row in scored.itertuples()},
            "spread": {row.au: row.spread for row in au_scores.itertuples()},
            "dead": dead_columns(au_scores)}


def extremes(values: pd.Series, count: int = MONTAGE_FACES) -> tuple[list[int], list[int]]:
    """Positions of the ``count`` highest and the ``count`` lowest values (ties in table order)."""
    order = np.argsort(-values.to_numpy(dtype=float), kind="stable")
    highest = [int(i) for i in order[:count]]
    lowest = [int(i) for i in np.argsort(values.to_numpy(dtype=float), kind="stable")[:count]]
    return highest, lowest


def montage(faces: list[np.ndarray], values: list[float], rows: int = 2) -> Image.Image:
    """Faces (48x48 grey) in ``rows`` rows, each enlarged to FACE_PIXELS with its intensity printed below."""
    per_row = max(1, -(-len(faces) // rows))
    sheet = Image.new("L", (per_row * FACE_PIXELS, rows * (FACE_PIXELS + LABEL_HEIGHT)), 255)
    draw = ImageDraw.Draw(sheet)
    for i, (face, value) in enumerate(zip(faces, values, strict=True)):
        left, top = (i % per_row) * FACE_PIXELS, (i // per_row) * (FACE_PIXELS + LABEL_HEIGHT)
        sheet.paste(Image.fromarray(face.reshape(face.shape[:2])).resize((FACE_PIXELS, FACE_PIXELS)), (left, top))
        draw.text((left + 4, top + FACE_PIXELS + 3), f"{value:.{AU_DECIMALS}f}", fill=0)
    return sheet


def montage_title(au: ActionUnit) -> str:
    """What a montage shows, in words."""
    return f"{au_label(au.number)}: the {MONTAGE_FACES} validation faces measured highest (top) and lowest (bottom)"
