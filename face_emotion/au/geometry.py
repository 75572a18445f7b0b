"""Face-shape measurements from MediaPipe landmarks, each tied to the Action Unit whose movement it shows.

MediaPipe's blendshapes for AU06 (cheekSquint) and AU09 (noseSneer) stay at zero on 48x48 faces; the landmarks
still move, and face_emotion.au.mapping reads those AUs (and AU23, AU25) from these measurements. Each measurement
is taken in a frame where the outer eye corners sit at (0, 0) and (1, 0), free of position, size and head roll
(units: inter-ocular distances), and signed so that more of its AU is larger.
"""

from __future__ import annotations

import numpy as np

from face_emotion.core.tables import GEOMETRY_COLUMNS, GEOMETRY_DECIMALS, UNMEASURED_SEPARATOR

# FaceLandmarker mesh indices; "right" is the subject's right (the image's left).
RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_LID_UPPER, RIGHT_LID_LOWER = 33, 133, 159, 145
LEFT_EYE_OUTER, LEFT_EYE_INNER, LEFT_LID_UPPER, LEFT_LID_LOWER = 263, 362, 386, 374
RIGHT_BROW_INNER, LEFT_BROW_INNER, RIGHT_BROW_OUTER, LEFT_BROW_OUTER = 55, 285, 46, 276
RIGHT_CHEEK, LEFT_CHEEK, RIGHT_ALA, LEFT_ALA = 50, 280, 64, 294
UPPER_LIP_TOP, SUBNASALE, UPPER_INNER_LIP, LOWER_INNER_LIP = 0, 2, 13, 14
RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER, LOWER_LIP_BOTTOM = 61, 291, 17
NOSE_TIP, CHIN = 1, 152

REGIONS: dict[str, tuple[int, ...]] = {
    "eyes": (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, RIGHT_LID_UPPER, RIGHT_LID_LOWER, LEFT_EYE_OUTER, LEFT_EYE_INNER,
             LEFT_LID_UPPER, LEFT_LID_LOWER),
    "brows": (RIGHT_BROW_INNER, LEFT_BROW_INNER, RIGHT_BROW_OUTER, LEFT_BROW_OUTER),
    "cheeks": (RIGHT_CHEEK, LEFT_CHEEK),
    "nose": (RIGHT_ALA, LEFT_ALA, SUBNASALE, NOSE_TIP),
    "mouth": (UPPER_LIP_TOP, UPPER_INNER_LIP, LOWER_INNER_LIP, RIGHT_MOUTH_CORNER, LEFT_MOUTH_CORNER, LOWER_LIP_BOTTOM),
    "chin": (CHIN,),
}
"""The landmarks of each face region the measurements rest on."""
RESTS_ON: dict[str, tuple[str, ...]] = {
    "AU01_r": ("brows",), "AU02_r": ("brows",), "AU04_r": ("brows",), "AU05_r": ("eyes",), "AU06_r": ("eyes",),
    "AU07_r": ("eyes",), "AU09_r": ("nose",), "AU10_r": ("nose", "mouth"), "AU12_r": ("mouth",), "AU14_r": ("mouth",),
    "AU15_r": ("mouth",), "AU17_r": ("mouth", "chin"), "AU20_r": ("mouth",), "AU23_r": ("mouth",), "AU25_r": ("mouth",),
    "AU26_r": ("mouth",), "AU45_r": ("eyes",),
    "lm_inner_brow_height": ("brows",), "lm_outer_brow_height": ("brows",), "lm_brow_slant": ("brows",),
    "lm_brow_gap": ("brows",), "lm_eye_opening": ("eyes",), "lm_lower_lid_raise": ("eyes",), "lm_cheek_lift": ("cheeks",),
    "lm_nose_lift": ("nose",), "lm_upper_lip_lift": ("nose", "mouth"), "lm_corner_lift": ("mouth",),
    "lm_corner_depression": ("mouth",), "lm_lip_narrowing": ("mouth",), "lm_lip_gap": ("mouth",),
    "lm_chin_raise": ("mouth", "chin"), "lm_mouth_width": ("mouth",), "lm_head_turn": ("nose",),
    "lm_head_pitch": ("nose",),
}
"""The regions each AU and landmark measurement is read from, besides the eyes every measurement is framed by (an
AU26 jaw drop shows in the mouth's opening; AU17's chin raiser is the chin itself)."""
OUTSIDE_TOLERANCE = 0.1
"""A region is outside the image when one of its landmarks lies more than this many inter-ocular distances past the
image's edge. The landmarker places points a little past an edge from the face around them (the chin of about half
of FER2013's crops); a chin a tenth of the eye distance or more below the crop (about 15 % of them) is a guess."""


def regions_outside(points: np.ndarray, width: int, height: int) -> list[str]:
    """The regions of a face whose landmarks (``points``: (478, 2) in the image's pixels) lie outside the
    ``width`` x ``height`` image, beyond OUTSIDE_TOLERANCE."""
    ocular = float(np.linalg.norm(points[LEFT_EYE_OUTER] - points[RIGHT_EYE_OUTER]))
    beyond = np.maximum.reduce([-points[:, 0], points[:, 0] - width, -points[:, 1], points[:, 1] - height])
    return [region for region, marks in REGIONS.items() if beyond[list(marks)].max() > OUTSIDE_TOLERANCE * ocular]


def resting_on(regions: list[str]) -> list[str]:
    """The AU-table columns read from any of ``regions`` (every column, when the eyes are among them)."""
    return [column for column, needs in RESTS_ON.items() if set(regions) & {"eyes", *needs}]


OUTSIDE = " outside the image"


def unmeasured_text(regions: list[str]) -> str:
    """The ``unmeasured`` entry of a face whose ``regions`` lie outside the image: 'AU17_r lm_chin_raise: chin
    outside the image' ('' for none)."""
    regions = [region for region in REGIONS if region in regions]
    return f"{' '.join(resting_on(regions))}{UNMEASURED_SEPARATOR}{' and '.join(regions)}{OUTSIDE}" if regions else ""


def regions_named(text: str) -> list[str]:
    """The regions an ``unmeasured`` entry names (its inverse)."""
    return text.split(UNMEASURED_SEPARATOR)[1].removesuffix(OUTSIDE).split(" and ") if text else []


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
