"""FACS knowledge, in one place: the emotions, the Action Units (number, name, the MediaPipe blendshapes that show
each), the head positions, and the EMFACS prototype of each emotion."""

from __future__ import annotations

from dataclasses import dataclass

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "happy", "neutral", "sad", "surprise")
"""The six emotions this project knows; a configuration picks from these."""
NEUTRAL = "neutral"
"""The face at rest: movements are measured against its training faces (their median)."""


@dataclass(frozen=True)
class ActionUnit:
    """One FACS Action Unit and the MediaPipe (ARKit-style) blendshapes that show it."""

    number: int
    name: str
    blendshapes: tuple[str, ...]
    """Left/right pairs are averaged; empty when the AU is measured from landmarks."""

    @property
    def column(self) -> str:
        """The OpenFace column name, e.g. 'AU06_r'."""
        return au_column(self.number)


def au_column(number: int) -> str:
    """OpenFace's intensity column for an AU number: 6 -> 'AU06_r'."""
    return f"AU{number:02d}_r"


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
    ActionUnit(25, "lips part", ()),
    ActionUnit(26, "jaw drop", ("jawOpen",)),
    ActionUnit(45, "blink", ("eyeBlinkLeft", "eyeBlinkRight")),
)
"""The 17 AUs OpenFace measures (its AU*_r intensity columns), in its column order."""

HEAD_POSITIONS: dict[int, str] = {51: "head turn left", 52: "head turn right", 53: "head up", 54: "head down"}
"""FACS head position codes, named by the landmark geometry."""
AU_NAMES: dict[int, str] = {au.number: au.name for au in ACTION_UNITS} | HEAD_POSITIONS
"""Every FACS code this project names: AU number -> FACS name."""
UPPER_FACE_AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 45)
"""Brows, lids and cheeks, and the blink: what a face mask leaves visible."""

PROTOTYPES: dict[str, tuple[int, ...]] = {
    "happy": (6, 12),
    "sad": (1, 4, 15),
    "surprise": (1, 2, 5, 26),
    "angry": (4, 5, 7, 23),
    "disgust": (9, 15, 16),
    "fear": (1, 2, 4, 5, 7, 20, 26),
}
"""EMFACS prototypes (Friesen & Ekman): the AUs that make up each emotion's typical display."""


def au_label(number: int) -> str:
    """'AU12 lip corner puller'; codes this project does not measure are 'not measured here'."""
    return f"AU{number:02d} {AU_NAMES.get(number, 'not measured here')}"
