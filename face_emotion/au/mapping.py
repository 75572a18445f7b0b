"""MediaPipe's blendshapes and landmark measurements turned into OpenFace-style AU intensities (0-5).

Each AU is read from the source that measured best (``python benchmarks/au_sources.py`` compares them on the
validation split): 5 x the mean of the AU's blendshapes (face_emotion.core.facs names them), or, where the
blendshape stays flat on these faces or the landmarks show the movement better, one landmark measurement
(face_emotion.au.geometry) on a fixed scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from face_emotion.core.facs import ACTION_UNITS, NEUTRAL
from face_emotion.core.tables import AU_DECIMALS, AU_MAX


@dataclass(frozen=True)
class LandmarkScale:
    """An AU read from one landmark measurement (inter-ocular units): 0 at ``rest``, 5 at ``full``."""

    column: str
    rest: float
    """The measurement on a face at rest: the median of the neutral training faces (AU25: a closed mouth)."""
    full: float
    """The measurement of a strong movement: the 99th percentile of all training faces (AU25: a wide-open mouth)."""

    def intensity(self, value: float) -> float:
        """The 0-5 intensity of a measurement (clipped)."""
        return float(np.clip(AU_MAX * (value - self.rest) / (self.full - self.rest), 0.0, AU_MAX))


LANDMARK_SOURCES: dict[int, LandmarkScale] = {
    6: LandmarkScale("lm_lower_lid_raise", rest=-0.0375, full=-0.0023),
    9: LandmarkScale("lm_nose_lift", rest=-0.4341, full=-0.276),
    23: LandmarkScale("lm_lip_narrowing", rest=-0.1688, full=-0.098),
    25: LandmarkScale("lm_lip_gap", rest=0.0, full=0.25),
}
"""The AUs read from landmarks. AU06 and AU09: MediaPipe's cheekSquint and noseSneer stay near 0 on FER2013 faces
(AU09 from the nose wings' lift against the eyes, not against the brows, which AU04 lowers);
AU23: the narrowing of the red of the lips, FACS's sign of the lip tightener; AU25: ``1 - mouthClose`` saturates.
AU06, AU09, AU23 are scaled as fitted_scale fits them, on the 22,076 FER2013 training faces of the default run at
9758504 (``python benchmarks/au_sources.py`` fits them again on a run's table); AU25 keeps its physical scale (a
closed mouth 0, lips a quarter of the eye distance apart 5)."""


def fitted_scale(column: str, values: np.ndarray, labels: np.ndarray) -> LandmarkScale:
    """A landmark measurement's scale fitted on training faces: ``rest`` the median of the neutral ones, ``full`` the
    99th percentile of all (faces where it was not measured left out)."""
    return LandmarkScale(column, rest=round(float(np.nanmedian(values[labels == NEUTRAL])), 4),
                         full=round(float(np.nanpercentile(values, 99)), 4))


def intensities(blendshapes: dict[str, float], shape: dict[str, float]) -> dict[str, float]:
    """AU intensities (0-5, to AU_DECIMALS) from one face's 52 blendshape scores and its landmark measurements."""
    values = {}
    for au in ACTION_UNITS:
        if au.number in LANDMARK_SOURCES:
            intensity = LANDMARK_SOURCES[au.number].intensity(shape[LANDMARK_SOURCES[au.number].column])
        else:
            intensity = AU_MAX * float(np.mean([blendshapes[name] for name in au.blendshapes]))
        values[au.column] = round(float(np.clip(intensity, 0.0, AU_MAX)), AU_DECIMALS)
    return values
