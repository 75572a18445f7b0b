"""The one table that turns MediaPipe blendshapes and landmarks into OpenFace-style AU intensities (0-5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from face_emotion.au.geometry import GEOMETRY, LEFT_EYE_OUTER, LOWER_INNER_LIP, RIGHT_EYE_OUTER, UPPER_INNER_LIP

AU_MAX = 5.0
AU_DECIMALS = 2
"""OpenFace's precision. MediaPipe's cheekSquint and noseSneer give ~1e-5 on FER2013 faces: kept, such noise would be
standardised into large, meaningless contributions ("AU09 nose wrinkler +1.4" on a face with no wrinkle)."""
BLENDSHAPE_DECIMALS = 3
"""The raw blendshape scores (0-1), kept to 0.001 for the same reason."""


@dataclass(frozen=True)
class ActionUnit:
    """One FACS Action Unit: its number, its FACS name and how MediaPipe measures it."""

    number: int
    name: str
    blendshapes: tuple[str, ...]
    """Blendshapes averaged for this AU (left/right pairs); empty when measured from landmarks."""
    scale: float = AU_MAX
    """Intensity = clip(scale x measurement, 0, 5)."""

    @property
    def column(self) -> str:
        """The OpenFace column name, e.g. 'AU06_r'."""
        return f"AU{self.number:02d}_r"


ACTION_UNITS: tuple[ActionUnit, ...] = (
    ActionUnit(1, "inner brow raiser", ("browInnerUp",)),
    ActionUnit(2, "outer brow raiser", ("browOuterUpLeft", "browOuterUpRight")),
    ActionUnit(4, "brow lowerer", ("browDownLeft", "browDownRight")),
    ActionUnit(5, "upper lid raiser", ("eyeWideLeft", "eyeWideRight")),
    ActionUnit(6, "cheek raiser", ("cheekSquintLeft", "cheekSquintRight")),
    ActionUnit(7, "lid tightener", ("eyeSquintLeft", "eyeSquintRight")),
    ActionUnit(9, "nose wrinkler", ("noseSneerLeft", "noseSneerRight")),
    ActionUnit(10, "upper lip raiser", ("mouthUpperUpLeft", "mouthUpperUpRight")),
    ActionUnit(12, "lip corner puller", ("mouthSmileLeft", "mouthSmileRight")),
    ActionUnit(14, "dimpler", ("mouthDimpleLeft", "mouthDimpleRight")),
    ActionUnit(15, "lip corner depressor", ("mouthFrownLeft", "mouthFrownRight")),
    ActionUnit(17, "chin raiser", ("mouthShrugLower",)),
    ActionUnit(20, "lip stretcher", ("mouthStretchLeft", "mouthStretchRight")),
    ActionUnit(23, "lip tightener", ("mouthPressLeft", "mouthPressRight")),
    ActionUnit(25, "lips part", (), scale=20.0),
    ActionUnit(26, "jaw drop", ("jawOpen",)),
    ActionUnit(45, "blink", ("eyeBlinkLeft", "eyeBlinkRight")),
)
"""Blendshape AUs: 5 x the mean of the pair. AU25 from landmarks: inner-lip gap / inter-ocular distance."""

AU_COLUMNS: tuple[str, ...] = tuple(au.column for au in ACTION_UNITS)
AU_NAMES: dict[str, str] = {au.column: au.name for au in ACTION_UNITS}
HEAD_POSITIONS: dict[int, str] = {51: "head turn left", 52: "head turn right", 53: "head up", 54: "head down"}
"""FACS head position codes, named by the landmark geometry."""
AU_NAME_BY_NUMBER: dict[int, str] = {au.number: au.name for au in ACTION_UNITS} | HEAD_POSITIONS
UPPER_FACE_COLUMNS: tuple[str, ...] = tuple(f"AU{n:02d}_r" for n in (1, 2, 4, 5, 6, 7, 45))
"""FACS upper-face AUs: brows, lids and cheeks, and the blink."""

BLENDSHAPES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
"""MediaPipe FaceLandmarker's 52 blendshape categories, in its output order."""
BLENDSHAPE_COLUMNS: tuple[str, ...] = tuple(f"bs_{name}" for name in BLENDSHAPES)
BLENDSHAPE_AU: dict[str, ActionUnit] = {f"bs_{name}": au for au in ACTION_UNITS for name in au.blendshapes}
"""The AU each mapped blendshape column measures (for explanations and FACS agreement)."""


PAIR_SEPARATOR = "*"
AU_PAIRS: tuple[str, ...] = tuple(f"{a}{PAIR_SEPARATOR}{b}" for i, a in enumerate(AU_COLUMNS) for b in AU_COLUMNS[i + 1:])
"""All 136 products of two AU intensities, e.g. 'AU06_r*AU12_r' (cheek raiser together with lip corner puller)."""


def action_units_of(column: str) -> tuple[int, ...]:
    """The AU numbers a feature measures: 'AU12_r' -> (12,), 'bs_mouthSmileLeft' -> (12,), 'lm_cheek_lift' -> (6,),
    'AU06_r*AU12_r' -> (6, 12)."""
    if PAIR_SEPARATOR in column:
        return tuple(n for part in column.split(PAIR_SEPARATOR) for n in action_units_of(part))
    if column in AU_NAMES:
        return (int(column[2:4]),)
    if column in GEOMETRY:
        return GEOMETRY[column][1]
    au = BLENDSHAPE_AU.get(column)
    return (au.number,) if au else ()


def lip_gap(landmarks: np.ndarray) -> float:
    """Vertical inner-lip opening relative to the inter-ocular distance (scale-free, ~0 when closed)."""
    ocular = np.linalg.norm(landmarks[LEFT_EYE_OUTER, :2] - landmarks[RIGHT_EYE_OUTER, :2])
    gap = np.linalg.norm(landmarks[LOWER_INNER_LIP, :2] - landmarks[UPPER_INNER_LIP, :2])
    return float(gap / ocular) if ocular > 0 else 0.0


def intensities(blendshapes: dict[str, float], landmarks: np.ndarray) -> dict[str, float]:
    """AU intensities (0-5, to AU_DECIMALS) from one face's 52 blendshape scores and its (478, 3) landmarks."""
    values = {}
    for au in ACTION_UNITS:
        measurement = float(np.mean([blendshapes[name] for name in au.blendshapes])) if au.blendshapes else lip_gap(landmarks)
        values[au.column] = round(float(np.clip(au.scale * measurement, 0.0, AU_MAX)), AU_DECIMALS)
    return values


def describe(column: str) -> str:
    """A readable label: 'AU12 lip corner puller', 'mouthSmileLeft (AU12 lip corner puller)',
    'cheek lift (AU06 cheek raiser)', 'AU06 ... x AU12 ...'."""
    if PAIR_SEPARATOR in column:
        return " x ".join(describe(part) for part in column.split(PAIR_SEPARATOR))
    if column in AU_NAMES:
        return f"{column[:4]} {AU_NAMES[column]}"
    if column in GEOMETRY:
        name, numbers = GEOMETRY[column]
        return f"{name} ({' / '.join(f'AU{n:02d} {AU_NAME_BY_NUMBER[n]}' for n in numbers)})"
    au = BLENDSHAPE_AU.get(column)
    name = column.removeprefix("bs_")
    return f"{name} (AU{au.number:02d} {au.name})" if au else name
