"""The AU-table columns each feature set names (``au_model.features``), and reading them as a matrix."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd

from face_emotion.core.config import FeatureSet
from face_emotion.core.errors import UserError
from face_emotion.core.tables import (
    AU_COLUMNS,
    AU_PAIRS,
    BLENDSHAPE_COLUMNS,
    GEOMETRY_COLUMNS,
    PAIR_SEPARATOR,
    UPPER_FACE_BLENDSHAPE_COLUMNS,
    UPPER_FACE_COLUMNS,
    UPPER_FACE_GEOMETRY_COLUMNS,
)

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "au17": AU_COLUMNS,
    "au17_pairs": AU_COLUMNS + AU_PAIRS,
    "blendshapes": BLENDSHAPE_COLUMNS,
    "both": AU_COLUMNS + BLENDSHAPE_COLUMNS,
    "au17_geometry": AU_COLUMNS + GEOMETRY_COLUMNS,
    "au17_geometry_blendshapes": AU_COLUMNS + GEOMETRY_COLUMNS + BLENDSHAPE_COLUMNS,
    "au17_pairs_geometry": AU_COLUMNS + AU_PAIRS + GEOMETRY_COLUMNS,
    "au17_pairs_geometry_blendshapes": AU_COLUMNS + AU_PAIRS + GEOMETRY_COLUMNS + BLENDSHAPE_COLUMNS,
    "upper_face": UPPER_FACE_COLUMNS,
    "upper_face_geometry_blendshapes": UPPER_FACE_COLUMNS + UPPER_FACE_GEOMETRY_COLUMNS + UPPER_FACE_BLENDSHAPE_COLUMNS,
}
"""upper_face: the FACS upper-face AUs (brows, lids, cheeks, blink), what a face mask leaves visible;
upper_face_geometry_blendshapes: and the landmark measurements and blendshapes of the same regions and the head's
position (the masked-face AU model's features, mask.au_features);
au17_geometry: the AUs and the 15 landmark measurements (AU06 and AU09 among them); au17_geometry_blendshapes: and
MediaPipe's 52 blendshapes; au17_pairs_geometry: the AUs, their pairs (products, 'AU06_r*AU12_r') and the landmark
measurements; au17_pairs_geometry_blendshapes: all of them."""
assert set(FEATURE_SETS) == set(typing.get_args(FeatureSet)), "FEATURE_SETS and config.FeatureSet disagree"


def feature_matrix(table: pd.DataFrame, features: tuple[str, ...] | list[str]) -> np.ndarray:
    """The features of ``table`` as floats (pairs 'A*B' as products); a missing column or NaN value is a clear error."""
    columns = list(dict.fromkeys(part for f in features for part in f.split(PAIR_SEPARATOR)))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"AU table has no column '{missing[0]}' (the bs_* and lm_* features are measured by au=mediapipe)")
    base = table[columns].to_numpy(dtype=float)
    position = {c: i for i, c in enumerate(columns)}
    values = np.column_stack([np.prod(base[:, [position[p] for p in f.split(PAIR_SEPARATOR)]], axis=1) for f in features])
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        first = table.iloc[int(np.argmax(bad))].get("path", "?")
        raise UserError(f"AU table has {int(bad.sum())} measured rows with NaN features (first: {first})")
    return values
