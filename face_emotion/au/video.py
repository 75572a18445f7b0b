"""Measuring the faces of a video's frames: each face followed from frame to frame (faces.tracks) and measured as the
MediaPipe backend measures a photo's faces."""

from __future__ import annotations

from types import TracebackType

from face_emotion.au.backends.mediapipe import mirror_averaged
from face_emotion.core.config import MediaPipeParams
from face_emotion.data.video import Frame
from face_emotion.faces.found import FoundFace
from face_emotion.faces.tracks import VideoFaces


class VideoMeasurer:
    """The faces of one video's frames, in order, each with its AU-table row and id; with ``au.mirror`` averaged with
    the same face in the mirrored frame. Use as a context manager, one per video."""

    def __init__(self, params: MediaPipeParams, max_faces: int) -> None:
        self.params = params
        self._faces = VideoFaces(params, max_faces)

    def __enter__(self) -> VideoMeasurer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._faces.__exit__(exc_type, exc, tb)

    def measure(self, frame: Frame) -> list[tuple[int, FoundFace, dict[str, object]]]:
        """(face id, face, row) for each face in ``frame``, largest first."""
        height, width = frame.rgb.shape[:2]
        return [(face_id, face, mirror_averaged(face, partner, self.params.mirror, (width, height)))
                for face_id, face, partner in self._faces.faces(frame.rgb, frame.time_s)]
