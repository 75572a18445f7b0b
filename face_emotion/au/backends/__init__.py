"""The AU backends, one module each, behind face_emotion.au.backends.base.AuBackend; ``au.backend`` picks one."""

from __future__ import annotations

from face_emotion.au.backends.base import AuBackend
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.au.backends.openface import OpenFaceBackend
from face_emotion.au.backends.openface_csv import OpenFaceCsvBackend

BACKENDS: dict[str, type[AuBackend]] = {backend.name: backend
                                        for backend in (MediaPipeBackend, OpenFaceBackend, OpenFaceCsvBackend)}
"""Backend name (the ``au.backend`` param) -> class."""
