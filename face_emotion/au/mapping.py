"""MediaPipe's blendshapes and landmarks turned into OpenFace-style AU intensities (0-5): 5 x the mean of the AU's
blendshapes (face_emotion.core.facs names them), and AU25 (lips part) from the landmarks."""

from __future__ import annotations

import numpy as np

from face_emotion.au.geometry import LEFT_EYE_OUTER, LOWER_INNER_LIP, RIGHT_EYE_OUTER, UPPER_INNER_LIP
from face_emotion.core.facs import ACTION_UNITS
from face_emotion.core.tables import AU_DECIMALS, AU_MAX

LIP_GAP_SCALE = 20.0
"""AU25 = 20 x the inner-lip gap in inter-ocular distances (a closed mouth is 0, a wide-open one about 0.25)."""


def lip_gap(landmarks: np.ndarray) -> float:
    """Vertical inner-lip opening relative to the inter-ocular distance (scale-free, ~0 when closed)."""
    ocular = np.linalg.norm(landmarks[LEFT_EYE_OUTER, :2] - landmarks[RIGHT_EYE_OUTER, :2])
    gap = np.linalg.norm(landmarks[LOWER_INNER_LIP, :2] - landmarks[UPPER_INNER_LIP, :2])
    return float(gap / ocular) if ocular > 0 else 0.0


def intensities(blendshapes: dict[str, float], landmarks: np.ndarray) -> dict[str, float]:
    """AU intensities (0-5, to AU_DECIMALS) from one face's 52 blendshape scores and its (478, 3) landmarks."""
    values = {}
    for au in ACTION_UNITS:
        if au.blendshapes:
            intensity = AU_MAX * float(np.mean([blendshapes[name] for name in au.blendshapes]))
        else:
            intensity = LIP_GAP_SCALE * lip_gap(landmarks)
        values[au.column] = round(float(np.clip(intensity, 0.0, AU_MAX)), AU_DECIMALS)
    return values
