"""Following the faces of a video's frames with MediaPipe's VIDEO mode: faces are tracked from frame to frame (a fresh
detection only when tracking is lost), and each keeps an id while it stays in view."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import numpy as np

from face_emotion.core.config import MediaPipeParams
from face_emotion.faces.found import PHOTO_MAX_SIDE, FoundFace, found_faces, mirror_partner
from face_emotion.faces.landmarker import create_landmarker, mediapipe_module

SAME_FACE_DISTANCE = 0.5
"""A face in a frame continues a face of the frame before when their centres are closer than this share of its
width."""


class FaceTracks:
    """Stable ids for the faces of consecutive frames: a face takes the id of the nearest face of the previous frame
    (within SAME_FACE_DISTANCE of its width), a new face the next free id."""

    def __init__(self) -> None:
        self._last: dict[int, np.ndarray] = {}
        self._next_id = 0

    def ids(self, faces: list[FoundFace]) -> list[int]:
        centres = [face.points.mean(axis=0) for face in faces]
        free = dict(self._last)
        ids = []
        for face, centre in zip(faces, centres, strict=True):
            reach = SAME_FACE_DISTANCE * float(np.ptp(face.points[:, 0]))
            near = {face_id: float(np.hypot(*(centre - last))) for face_id, last in free.items()}
            face_id = min(near, key=near.get) if near and min(near.values()) <= reach else None  # type: ignore[arg-type]
            if face_id is None:
                face_id, self._next_id = self._next_id, self._next_id + 1
            free.pop(face_id, None)
            ids.append(face_id)
        self._last = dict(zip(ids, centres, strict=True))
        return ids


class VideoFaces:
    """The faces of one video's frames, in order, each with its id; with ``settings.mirror`` a second landmarker
    follows the mirrored frames, in a second thread, and each face comes with its mirror-image partner. Use as a
    context manager, one per video."""

    def __init__(self, settings: MediaPipeParams, max_faces: int) -> None:
        self._mp = mediapipe_module()
        self._plain = create_landmarker(settings, video=True, max_faces=max_faces)
        self._mirrored = create_landmarker(settings, video=True, max_faces=max_faces) if settings.mirror else None
        self._threads = ThreadPoolExecutor(max_workers=1) if settings.mirror else None
        self._tracks = FaceTracks()
        self._last_ms = -1

    def __enter__(self) -> VideoFaces:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._plain.close()
        if self._mirrored is not None:
            self._mirrored.close()
        if self._threads is not None:
            self._threads.shutdown()

    def faces(self, rgb: np.ndarray, time_s: float) -> list[tuple[int, FoundFace, FoundFace | None]]:
        """(face id, face, its mirror-image partner or None) for each face of the frame ``rgb`` shown at ``time_s``,
        largest first, in the frame's pixels."""
        import cv2

        height, width = rgb.shape[:2]
        if max(height, width) > PHOTO_MAX_SIDE:
            scale = PHOTO_MAX_SIDE / max(height, width)
            rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        self._last_ms = max(self._last_ms + 1, round(time_s * 1000))
        mirrored = None
        if self._threads is not None:
            mirrored = self._threads.submit(self._found, self._mirrored, cv2.flip(rgb, 1), width)
        faces = self._found(self._plain, rgb, width)
        partners = mirrored.result() if mirrored is not None else []
        return [(face_id, face, mirror_partner(face, partners, width) if partners else None)
                for face_id, face in zip(self._tracks.ids(faces), faces, strict=True)]

    def _found(self, landmarker: object, rgb: np.ndarray, width: int) -> list[FoundFace]:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        result = landmarker.detect_for_video(image, self._last_ms)  # type: ignore[attr-defined]
        return found_faces(result, lambda points: points, rgb.shape[1], rgb.shape[0], scale=width / rgb.shape[1])
