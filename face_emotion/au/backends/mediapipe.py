"""The default AU backend: MediaPipe FaceLandmarker blendshapes and landmarks, offline. Faces are found by
face_emotion.faces; this module turns a found face into its AU-table row."""

from __future__ import annotations

import importlib.metadata
import math

import numpy as np
from PIL import Image, ImageOps

from face_emotion.au import geometry
from face_emotion.au.backends.base import AuBackend
from face_emotion.au.mapping import intensities
from face_emotion.core.config import MediaPipeParams
from face_emotion.core.tables import (
    BLENDSHAPE_COLUMNS,
    BLENDSHAPE_DECIMALS,
    BLENDSHAPES,
    COLUMN_DECIMALS,
    GEOMETRY_COLUMNS,
)
from face_emotion.data.images import ImageRejected, read_image
from face_emotion.faces.finder import TRAINING_MAX_FACES, FaceFinder
from face_emotion.faces.found import FoundFace, is_tight_crop, mirror_partner
from face_emotion.faces.landmarker import MODEL_SHA256, verified_model_path

TABLE_VERSION = 8
"""Bumped when what is measured from a face changes (2: the lm_* landmark geometry; 3: AUs to 0.01, blendshapes to
0.001; 4: six more lm_* measurements; 5: a rescue pass for tight crops no view finds; 6: AU06, AU09 and AU23 from
landmarks, three more lm_* measurements; 7: AU09 from the nose wings' lift, not their distance to the brows, which
the brows' lowering (AU04) shortens as much; 8: columns read from a region outside the image left empty, with the
reason in ``unmeasured``); part of the cache key."""


def measured(face: FoundFace | None, size: tuple[int, int]) -> dict[str, object]:
    """The AU-table row of one found face in an image of ``size`` (width, height): AU intensities, the 52
    blendshapes, the landmark geometry; the columns read from a region outside the image are empty (NaN), and
    ``unmeasured`` says which and why."""
    if face is None:
        return {"success": False, "failure_reason": "no face found"}
    if not face.blendshapes:
        return {"success": False, "failure_reason": "face found without blendshapes"}
    try:
        shape = geometry.measure(face.landmarks)
    except ValueError as exc:
        return {"success": False, "failure_reason": f"landmarks unusable: {exc}"}
    outside = geometry.regions_outside(face.points, *size)
    if "eyes" in outside:
        return {"success": False, "failure_reason": "eyes outside the image"}
    blendshape_columns = {f"bs_{name}": round(face.blendshapes.get(name, 0.0), BLENDSHAPE_DECIMALS) for name in BLENDSHAPES}
    return {"success": True, "failure_reason": "", "unmeasured": geometry.unmeasured_text(outside),
            **intensities(face.blendshapes, shape), **blendshape_columns, **shape,
            **dict.fromkeys(geometry.resting_on(outside), math.nan)}


def mirror_averaged(face: FoundFace | None, mirrored: FoundFace | None, mirror: bool,
                    size: tuple[int, int]) -> dict[str, object]:
    """A face's row in an image of ``size``; with ``mirror``, averaged with that of the same face found in the mirror
    image (or either alone, when only one of them is measured)."""
    plain = measured(face, size)
    if not mirror:
        return plain
    return averaged([row for row in (plain, with_sides_swapped(measured(mirrored, size))) if row["success"]]) or plain


class MediaPipeBackend(AuBackend):
    """Measures one image at a time; use as a context manager so the landmarkers are closed cleanly. The pipeline
    measures the most prominent face of each image; predict every face (up to ``max_faces``)."""

    name = "mediapipe"
    extras = BLENDSHAPE_COLUMNS + GEOMETRY_COLUMNS
    params: MediaPipeParams

    @classmethod
    def version(cls, params: MediaPipeParams) -> str:
        """The library and model version recorded beside every measurement."""
        return f"mediapipe-{importlib.metadata.version('mediapipe')}+face_landmarker-{MODEL_SHA256[:8]}+table-{TABLE_VERSION}"

    @classmethod
    def check(cls, params: MediaPipeParams) -> None:
        """Fail with one line before any work starts if the model file is missing or altered."""
        verified_model_path()

    def __init__(self, params: MediaPipeParams, max_faces: int = TRAINING_MAX_FACES) -> None:
        super().__init__(params)
        self.finder = FaceFinder(params, max_faces)

    def close(self) -> None:
        self.finder.close()

    def detect(self, image: Image.Image) -> tuple[np.ndarray, dict[str, float]] | None:
        """Landmarks (as measured) and blendshapes of the most prominent face, or None."""
        faces = self.finder.faces(image)
        return (faces[0].landmarks, faces[0].blendshapes) if faces else None

    def measure_image(self, image: Image.Image) -> dict[str, object]:
        """AU intensities, the 52 blendshapes and the landmark geometry of the most prominent face in a decoded image;
        with ``au.mirror``, averaged with those of its mirror image (or either alone, when only one finds the face)."""
        if is_tight_crop(image):
            return mirror_averaged(*self.finder.crop_and_mirror(image), self.params.mirror, image.size)
        mirrored = self.finder.faces(ImageOps.mirror(image)) if self.params.mirror else []
        return mirror_averaged(next(iter(self.finder.faces(image)), None), next(iter(mirrored), None), self.params.mirror,
                               image.size)

    def measure_faces(self, image: Image.Image) -> list[tuple[FoundFace | None, dict[str, object]]]:
        """Every face with its row, largest first (none found: an empty list). A tight crop is one face, measured as
        measure_image measures it (its face is None when only its mirror image shows one)."""
        if is_tight_crop(image):
            face, mirrored_face = self.finder.crop_and_mirror(image)
            return [] if face is None and mirrored_face is None else [
                (face, mirror_averaged(face, mirrored_face, self.params.mirror, image.size))]
        plain = self.finder.every_face(image)
        mirrored = self.finder.every_face(ImageOps.mirror(image)) if self.params.mirror else []
        return [(face, mirror_averaged(face, mirror_partner(face, mirrored, image.width), self.params.mirror,
                                       image.size)) for face in plain]

    def measure(self, path: str) -> dict[str, object]:
        """What measure_image gives for the image at ``path``, or the reason it cannot be read."""
        try:
            image = read_image(path)
        except ImageRejected as exc:
            return {"success": False, "failure_reason": str(exc)}
        return self.measure_image(image)


def with_sides_swapped(row: dict[str, object]) -> dict[str, object]:
    """A mirror image's measurement told from the subject's sides: its *Left blendshapes are the face's right."""
    return {_other_side(column): value for column, value in row.items()}


def _other_side(column: str) -> str:
    if column.endswith("Left"):
        return column.removesuffix("Left") + "Right"
    return column.removesuffix("Right") + "Left" if column.endswith("Right") else column


def averaged(rows: list[dict[str, object]]) -> dict[str, object] | None:
    """The mean of successful measurements of one face, each column to its own precision, empty where any of them is
    (``unmeasured`` names every region outside the image in either); None for no rows."""
    if not rows:
        return None
    first = rows[0]
    mean = {column: round(math.fsum(float(row[column]) for row in rows) / len(rows), COLUMN_DECIMALS[column])
            if column in COLUMN_DECIMALS else value for column, value in first.items()}
    if "unmeasured" in first:
        mean["unmeasured"] = geometry.unmeasured_text([r for row in rows for r in geometry.regions_named(row["unmeasured"])])
    return mean
