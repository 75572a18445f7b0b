"""Measuring the faces of a video's frames with MediaPipe's VIDEO mode: faces are tracked from frame to frame (a
fresh detection only when tracking is lost), and each keeps an id while it stays in view."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import numpy as np

from face_emotion.au.backends.mediapipe import (
    PHOTO_MAX_SIDE,
    FoundFace,
    create_landmarker,
    found_faces,
    mediapipe_module,
    mirror_averaged,
    mirror_partner,
)
from face_emotion.core.config import MediaPipeParams
from face_emotion.data.video import Frame

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


class VideoMeasurer:
    """The faces of one video's frames, in order, each with its AU-table row and id; with ``au.mirror`` a second
    landmarker follows the mirrored frames, in a second thread. Use as a context manager, one per video."""

    def __init__(self, params: MediaPipeParams, max_faces: int) -> None:
        self._mp = mediapipe_module()
        self.params = params
        self._plain = create_landmarker(params, video=True, max_faces=max_faces)
        self._mirrored = create_landmarker(params, video=True, max_faces=max_faces) if params.mirror else None
        self._threads = ThreadPoolExecutor(max_workers=1) if params.mirror else None
        self._tracks = FaceTracks()
        self._last_ms = -1

    def __enter__(self) -> VideoMeasurer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._plain.close()
        if self._mirrored is not None:
            self._mirrored.close()
        if self._threads is not None:
            self._threads.shutdown()

    def measure(self, frame: Frame) -> list[tuple[int, FoundFace, dict[str, object]]]:
        """(face id, face, row) for each face in ``frame``, largest first."""
        import cv2

        rgb = frame.rgb
        height, width = rgb.shape[:2]
        if max(height, width) > PHOTO_MAX_SIDE:
            scale = PHOTO_MAX_SIDE / max(height, width)
            rgb = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        self._last_ms = max(self._last_ms + 1, round(frame.time_s * 1000))
        mirrored = None
        if self._threads is not None:
            mirrored = self._threads.submit(self._faces, self._mirrored, cv2.flip(rgb, 1), width)
        faces = self._faces(self._plain, rgb, width)
        partners = mirrored.result() if mirrored is not None else []
        ids = self._tracks.ids(faces)
        return [(face_id, face, mirror_averaged(face, mirror_partner(face, partners, width), self.params.mirror,
                                                (width, height))) for face_id, face in zip(ids, faces, strict=True)]

    def _faces(self, landmarker: object, rgb: np.ndarray, width: int) -> list[FoundFace]:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        result = landmarker.detect_for_video(image, self._last_ms)  # type: ignore[attr-defined]
        return found_faces(result, lambda points: points, rgb.shape[1], rgb.shape[0], scale=width / rgb.shape[1])
