"""The AU backends, one module each, behind face_emotion.au.backends.base.AuBackend; ``au.backend`` picks one."""

from __future__ import annotations

import typing

from face_emotion.au.backends.base import AuBackend
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.au.backends.openface import OpenFaceBackend
from face_emotion.au.backends.openface_csv import OpenFaceCsvBackend
from face_emotion.core.config import AuParams

BACKENDS: dict[str, type[AuBackend]] = {backend.name: backend
                                        for backend in (MediaPipeBackend, OpenFaceBackend, OpenFaceCsvBackend)}
"""Backend name (the ``au.backend`` param) -> class."""
assert set(BACKENDS) == {typing.get_args(typing.get_type_hints(p)["backend"])[0] for p in typing.get_args(AuParams)}, \
    "au.backends.BACKENDS and config.AuParams disagree"
