"""The one table that turns MediaPipe blendshapes and landmarks into OpenFace-style AU intensities (0-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

AU_MAX = 5.0


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

# FaceLandmarker mesh indices: inner lip midpoints and outer eye corners.
UPPER_INNER_LIP, LOWER_INNER_LIP = 13, 14
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


def lip_gap(landmarks: np.ndarray) -> float:
    """Vertical inner-lip opening relative to the inter-ocular distance (scale-free, ~0 when closed)."""
    ocular = np.linalg.norm(landmarks[LEFT_EYE_OUTER, :2] - landmarks[RIGHT_EYE_OUTER, :2])
    gap = np.linalg.norm(landmarks[LOWER_INNER_LIP, :2] - landmarks[UPPER_INNER_LIP, :2])
    return float(gap / ocular) if ocular > 0 else 0.0


def intensities(blendshapes: dict[str, float], landmarks: np.ndarray) -> dict[str, float]:
    """AU intensities (0-5) from one face's 52 blendshape scores and its (478, 3) landmarks."""
    values = {}
    for au in ACTION_UNITS:
        measurement = float(np.mean([blendshapes[name] for name in au.blendshapes])) if au.blendshapes else lip_gap(landmarks)
        values[au.column] = float(np.clip(au.scale * measurement, 0.0, AU_MAX))
    return values


def describe(columns: Sequence[str]) -> list[str]:
    """Readable labels such as 'AU12 lip corner puller' for AU columns (other names pass through)."""
    return [f"{c[:4]} {AU_NAMES[c]}" if c in AU_NAMES else c for c in columns]
