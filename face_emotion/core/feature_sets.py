"""The AU-table columns each feature set names (``au_model.features``), and reading them as a matrix."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

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
    REGIONAL_COLUMNS,
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
au17_geometry: the AUs and the 17 landmark measurements; au17_geometry_blendshapes: and
MediaPipe's 52 blendshapes; au17_pairs_geometry: the AUs, their pairs (products, 'AU06_r*AU12_r') and the landmark
measurements; au17_pairs_geometry_blendshapes: all of them."""


def feature_matrix(table: pd.DataFrame, features: tuple[str, ...] | list[str]) -> np.ndarray:
    """The features of ``table`` as floats (pairs 'A*B' as products); NaN where a measured face's region lay outside
    the image (REGIONAL_COLUMNS); a missing column, or NaN in another column, is a clear error."""
    columns = _source_columns(features, table.columns)
    return _combined(table[columns].to_numpy(dtype=float), columns, features,
                     lambda row: table.iloc[row].get("path", "?"))


def feature_rows(rows: Sequence[Mapping[str, object]], features: tuple[str, ...] | list[str]) -> np.ndarray:
    """What feature_matrix gives for a table of ``rows`` (AU-table rows as dicts: predict's faces), without building
    the table (most of the cost for one face)."""
    if not rows:
        return np.zeros((0, len(features)))
    columns = _source_columns(features, set.intersection(*(set(row) for row in rows)))
    base = np.array([[row[c] for c in columns] for row in rows], dtype=float).reshape(len(rows), len(columns))
    return _combined(base, columns, features, lambda row: rows[row].get("path", "?"))


def source_columns(feature_set: FeatureSet) -> set[str]:
    """The AU-table columns a feature set is made of."""
    return {part for feature in FEATURE_SETS[feature_set] for part in feature.split(PAIR_SEPARATOR)}


def _source_columns(features: tuple[str, ...] | list[str], present: Collection[str]) -> list[str]:
    """The AU-table columns ``features`` are made of (a pair of two), each once; one missing is a clear error."""
    columns = list(dict.fromkeys(part for f in features for part in f.split(PAIR_SEPARATOR)))
    missing = [c for c in columns if c not in present]
    if missing:
        raise UserError(f"AU table has no column '{missing[0]}' (the bs_* and lm_* features are measured by au=mediapipe)")
    return columns


def _combined(base: np.ndarray, columns: list[str], features: tuple[str, ...] | list[str],
              path_of: Callable[[int], object]) -> np.ndarray:
    """The features from their source ``columns`` (pairs as products); a row with a NaN is a clear error."""
    position = {c: i for i, c in enumerate(columns)}
    parts = [[position[p] for p in f.split(PAIR_SEPARATOR)] for f in features]
    values = base[:, [first for first, *_ in parts]]
    for k, pair in enumerate(parts):
        if len(pair) > 1:
            values[:, k] = np.prod(base[:, pair], axis=1)
    may_be_empty = [all(part in REGIONAL_COLUMNS for part in f.split(PAIR_SEPARATOR)) for f in features]
    bad = np.isnan(values[:, ~np.asarray(may_be_empty, dtype=bool)]).any(axis=1)
    if bad.any():
        raise UserError(f"AU table has {int(bad.sum())} measured rows with NaN features (first: {path_of(int(np.argmax(bad)))})")
    return values
