"""A face a landmarker found, and the geometry of finding faces: the views a tight crop or a photo is shown in, the
tiles a group photo is searched in, one find per face, a face's mirror-image partner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from face_emotion.core.config import MediaPipeParams

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
