"""Finding the faces of an image with MediaPipe's FaceLandmarker: a tight face crop (FER2013 style) shown in padded
views, with a rescue pass at a lower confidence; a photo as a whole and in overlapping tiles, one find per face."""

from __future__ import annotations

import functools
from types import TracebackType

import numpy as np
import yaml
from PIL import Image

from face_emotion.core.config import CONF_DIR, MediaPipeParams, parse_section
from face_emotion.core.errors import UserError
from face_emotion.faces.found import (
    PAD_GREY,
    RESCUE_PADS,
    FoundFace,
    found_faces,
    is_tight_crop,
    mirrored_view,
    one_per_face,
    padded_view,
    photo_tiles,
    photo_view,
    view_pads,
)
from face_emotion.faces.landmarker import create_landmarker, mediapipe_module

TRAINING_MAX_FACES = 3
"""Faces the pipeline's landmarker looks for in an image; it measures and draws the most prominent."""


FINDING_SETTINGS = CONF_DIR / "au" / "mediapipe.yaml"
"""MediaPipe's default settings (the offline AU backend's) are the ones faces are found with, to crop them (video
frames, a CNN's faces in predict): prepare declares their keys as params in dvc.yaml."""


@functools.cache
def finding_settings() -> MediaPipeParams:
    """MediaPipe as FINDING_SETTINGS configures it, once per image: for finding faces, not for measuring them. Read
    once per process."""
    try:
        raw = yaml.safe_load(FINDING_SETTINGS.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"{FINDING_SETTINGS} cannot be read ({type(exc).__name__}): restore it with 'git checkout "
                        f"-- conf'") from None
    return parse_section(MediaPipeParams, {**raw, "mirror": False} if isinstance(raw, dict) else raw, "au")


class FaceFinder:
    """Finds the faces of one image at a time with the landmarker ``settings`` configure (up to ``max_faces``); use
    as a context manager so the landmarkers are closed cleanly."""

    def __init__(self, settings: MediaPipeParams, max_faces: int) -> None:
        self.settings, self.max_faces = settings, max_faces
        self._mp = mediapipe_module()
        self._landmarker = create_landmarker(settings, video=False, max_faces=max_faces)
        warm_up = np.full((settings.size, settings.size, 3), PAD_GREY, dtype=np.uint8)
        self._landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=warm_up))

    def __enter__(self) -> FaceFinder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @functools.cached_property
    def _rescuer(self) -> object:
        """The rescue landmarker (au.rescue_confidence, one face), opened when a crop first needs it."""
        return create_landmarker(self.settings, video=False, max_faces=1, confidence=self.settings.rescue_confidence)

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

    def _crop_faces(self, crop: Image.Image, rescue: bool = False, mirrored: bool = False,
                    views: dict[int, np.ndarray] | None = None) -> list[FoundFace]:
        """The face of a tight crop (with ``mirrored``, of its mirror image) in the first of its views that shows one:
        the usual views, or with ``rescue`` the RESCUE_PADS views at the rescue confidence. ``views`` keeps the views
        made, by pad, for the next search of the same crop (its mirror image's)."""
        landmarker, pads = (self._rescuer, RESCUE_PADS) if rescue else (self._landmarker, view_pads(self.settings))
        views = {} if views is None else views
        for pad in pads:
            if pad not in views:
                views[pad] = padded_view(crop, pad, self.settings.size)
            view = views[pad]
            result = landmarker.detect(self._mp.Image(image_format=self._mp.ImageFormat.SRGB,
                                                      data=mirrored_view(view) if mirrored else view))
            if result.face_landmarks:
                framed = np.array([crop.width + 2 * pad, crop.height + 2 * pad]) / self.settings.size
                to_image = lambda points, framed=framed, pad=pad: points * framed - pad  # noqa: E731
                return found_faces(result, to_image, view.shape[1], view.shape[0])
        return []

    def _rescued(self, crop: Image.Image, mirrored: bool = False,
                 views: dict[int, np.ndarray] | None = None) -> list[FoundFace]:
        """A tight crop's face (or its mirror image's) as the rescue landmarker finds it (none when rescue is off)."""
        if self.settings.rescue_confidence is None:
            return []
        return self._crop_faces(crop, rescue=True, mirrored=mirrored, views=views)

    def crop_and_mirror(self, crop: Image.Image) -> tuple[FoundFace | None, FoundFace | None]:
        """A tight crop's face and (with au.mirror) its mirror image's; when the usual views find neither, both are
        searched again by the rescue landmarker (so a face found by the usual views is measured as it always was)."""
        views: dict[int, np.ndarray] = {}
        plain = self._crop_faces(crop, views=views)
        mirrored = self._crop_faces(crop, mirrored=True, views=views) if self.settings.mirror else []
        if not plain and not mirrored:
            plain = self._rescued(crop, views=views)
            mirrored = self._rescued(crop, mirrored=True, views=views) if self.settings.mirror else []
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

    def image_landmarks(self, image: Image.Image) -> np.ndarray | None:
        """(478, 2) landmarks of the most prominent face in pixels of ``image`` itself (to draw on it), or None."""
        faces = self.faces(image)
        return faces[0].points if faces else None
