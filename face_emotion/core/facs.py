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


PLAIN_WORDS: dict[int, str] = {
    1: "inner brows raised", 2: "outer brows raised", 4: "brows lowered and drawn together", 5: "upper lids raised",
    6: "cheeks raised", 7: "lids tightened", 9: "nose wrinkled", 10: "upper lip raised", 12: "lip corners pulled up",
    14: "dimples", 15: "lip corners pulled down", 17: "chin raised", 20: "lips stretched sideways",
    23: "lips pressed tight", 25: "lips parted", 26: "jaw dropped", 45: "eyes closed", 51: "head turned",
    52: "head turned", 53: "head up", 54: "head down",
}
"""What each movement looks like, in words a child or a teacher uses."""
AT_REST_WORDS: dict[int, str] = {
    1: "inner brows not raised", 2: "outer brows not raised", 4: "brows smooth, not drawn together",
    5: "upper lids not raised", 6: "cheeks not raised", 7: "lids relaxed", 9: "nose smooth",
    10: "upper lip not raised", 12: "lip corners not pulled up", 14: "no dimples", 15: "lip corners not pulled down",
    17: "chin relaxed", 20: "lips not stretched", 23: "lips relaxed", 25: "lips closed", 26: "jaw not dropped",
    45: "eyes open", 51: "head straight", 52: "head straight", 53: "head not raised", 54: "head not lowered",
}
"""The same places when the movement is no stronger than on a neutral face: what a reason says when its absence
counts ('surprise, because the lids are relaxed')."""
OPPOSED: tuple[frozenset[int], ...] = (frozenset({12, 15}), frozenset({5, 45}), frozenset({23, 25}), frozenset({23, 26}))
"""Movements whose plain words say opposite things of one place (lip corners up and down, lids raised and closed,
lips pressed and apart): one reason never names both."""


def au_label(number: int) -> str:
    """'AU12 lip corner puller'; codes this project does not measure are 'not measured here'."""
    return f"AU{number:02d} {AU_NAMES.get(number, 'not measured here')}"
