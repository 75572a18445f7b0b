"""Face-shape measurements from MediaPipe landmarks, each tied to the Action Unit whose movement it shows.

MediaPipe's blendshapes for AU06 (cheekSquint) and AU09 (noseSneer) stay at zero on 48x48 faces; the landmarks
still move, and face_emotion.au.mapping reads those AUs (and AU23, AU25) from these measurements. Each measurement
is taken in a frame where the outer eye corners sit at (0, 0) and (1, 0), free of position, size and head roll
(units: inter-ocular distances), and signed so that more of its AU is larger.
"""

from __future__ import annotations

import numpy as np

from face_emotion.core.tables import GEOMETRY_COLUMNS, GEOMETRY_DECIMALS

# FaceLandmarker mesh indices; "right" is the subject's right (the image's left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_LID_UPPER, RIGHT_LID_LOWER = 33, 133, 159, 145
LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_LID_UPPER, LEFT_LID_LOWER = 263, 362, 386, 374
RIGHT_BROW_INNER, LEFT_BROW_INNER, RIGHT_BROW_OUTER, LEFT_BROW_OUTER = 55, 285, 46, 276
RIGHT_CHEEK, LEFT_CHEEK, RIGHT_ALA, LEFT_ALA = 50, 280, 64, 294
UPPER_LIP_TOP, SUBNASALE, UPPER_INNER_LIP, LOWER_INNER_LIP = 0, 2, 13, 14
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER, LOWER_LIP_BOTTOM = 61, 291, 17
NOSE_TIP, CHIN = 1, 152


def eye_frame(landmarks: np.ndarray) -> np.ndarray:
    """(n, 2) landmark positions with the outer eye corners at (0, 0) and (1, 0); y points down the face."""
    points = landmarks[:, :2]
    axis = points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]
    distance = float(np.linalg.norm(axis))
    if distance == 0:
        raise ValueError("both outer eye corners are at one point")
    cos, sin = axis / distance
    return (points - points[RIGHT_EYE_OUTER]) @ np.array([[cos, -sin], [sin, cos]]) / distance


def measure(landmarks: np.ndarray) -> dict[str, float]:
    """Every landmark measurement of the AU table (face_emotion.core.tables.GEOMETRY) of one face, from its (478, 3)
    landmarks."""
    p = eye_frame(landmarks)
    y = p[:, 1]

    def above(upper: tuple[int, int], lower: tuple[int, int]) -> float:
        """How far the two ``upper`` points lie above the two ``lower`` ones, on average (right side first)."""
        return float((y[lower[0]] - y[upper[0]] + y[lower[1]] - y[upper[1]]) / 2)

    corner_line = ((y[RIGHT_EYE_OUTER] + y[RIGHT_EYE_INNER]) / 2, (y[LEFT_EYE_OUTER] + y[LEFT_EYE_INNER]) / 2)
    lower_lids = (y[RIGHT_LID_LOWER], y[LEFT_LID_LOWER])
    values = {
        "lm_inner_brow_height": above((RIGHT_BROW_INNER, LEFT_BROW_INNER), (RIGHT_EYE_INNER, LEFT_EYE_INNER)),
        "lm_outer_brow_height": above((RIGHT_BROW_OUTER, LEFT_BROW_OUTER), (RIGHT_EYE_OUTER, LEFT_EYE_OUTER)),
        "lm_brow_slant": above((RIGHT_BROW_INNER, LEFT_BROW_INNER), (RIGHT_BROW_OUTER, LEFT_BROW_OUTER)),
        "lm_brow_gap": float(p[RIGHT_BROW_INNER, 0] - p[LEFT_BROW_INNER, 0]),
        "lm_eye_opening": above((RIGHT_LID_UPPER, LEFT_LID_UPPER), (RIGHT_LID_LOWER, LEFT_LID_LOWER)),
        "lm_lower_lid_raise": float(np.mean(corner_line) - np.mean(lower_lids)),
        "lm_cheek_lift": above((RIGHT_CHEEK, LEFT_CHEEK), (RIGHT_LID_LOWER, LEFT_LID_LOWER)),
        "lm_nose_lift": above((RIGHT_ALA, LEFT_ALA), (RIGHT_EYE_INNER, LEFT_EYE_INNER)),
        "lm_upper_lip_lift": float(y[SUBNASALE] - y[UPPER_LIP_TOP]),
        "lm_corner_lift": above((RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER), (UPPER_INNER_LIP, LOWER_INNER_LIP)),
        "lm_corner_depression": above((LOWER_LIP_BOTTOM, LOWER_LIP_BOTTOM), (RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER)),
        "lm_lip_narrowing": float(y[UPPER_LIP_TOP] - y[UPPER_INNER_LIP] + y[LOWER_INNER_LIP] - y[LOWER_LIP_BOTTOM]),
        "lm_lip_gap": float(np.linalg.norm(p[LOWER_INNER_LIP] - p[UPPER_INNER_LIP])),
        "lm_chin_raise": float(y[LOWER_LIP_BOTTOM] - y[CHIN]),
        "lm_mouth_width": float(np.linalg.norm(p[LEFT_MOUTH_CORNER] - p[RIGHT_MOUTH_CORNER])),
        "lm_head_turn": abs(float(p[NOSE_TIP, 0]) - 0.5),
        "lm_head_pitch": float(y[NOSE_TIP]),
    }
    return {column: round(values[column], GEOMETRY_DECIMALS) for column in GEOMETRY_COLUMNS}
