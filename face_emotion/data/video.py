"""Reading video files frame by frame with OpenCV's bundled FFmpeg (installed with MediaPipe): upright by their
rotation metadata, each frame with its own time (variable frame rates keep true times)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # FFmpeg's own lines about damaged files; the reason is ours
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"})


TRUNCATED_SHARE = 0.9
"""A video whose decoded frames fall short of this share of the frames its container announces is reported."""


class VideoRejected(Exception):
    """A file that cannot be read as a video; ``str(exc)`` is the reason."""


def is_video_name(path: str | Path) -> bool:
    """Whether the file name has one of the supported video extensions."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the video, its time in seconds, its RGB pixels (height, width, 3)."""

    index: int
    time_s: float
    rgb: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (its frame count is an estimate for some formats)."""

    frames: int
    fps: float
    width: int
    height: int


def open_video(path: str | Path) -> tuple[object, VideoInfo]:
    """An opened cv2.VideoCapture and its VideoInfo; VideoRejected with a short reason when ``path`` is empty, not a
    video, or has no video stream."""
    import cv2

    path = Path(path)
    if path.stat().st_size == 0:
        raise VideoRejected("empty file (0 bytes)")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        raise VideoRejected("not a readable video (damaged, or no video stream)")
    capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    info = VideoInfo(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS)),
                     int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    if info.width <= 0 or info.height <= 0:
        capture.release()
        raise VideoRejected("not a readable video (no video stream)")
    return capture, info


def read_frames(capture: object, info: VideoInfo, step: int = 1) -> Iterator[Frame]:
    """Every ``step``-th frame of an opened video, decoded to RGB (the frames between are skipped undecoded). Ends
    at the video's end or at the first frame that cannot be decoded (a truncated file)."""
    import cv2

    index = 0
    while True:
        if index % step == 0:
            ok, bgr = capture.read()  # type: ignore[attr-defined]
        else:
            ok, bgr = capture.grab(), None  # type: ignore[attr-defined]
        if not ok:
            return
        if bgr is not None:
            time_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))  # type: ignore[attr-defined]
            time_s = time_ms / 1000 if time_ms > 0 or index == 0 else index / (info.fps or 1.0)
            yield Frame(index, round(time_s, 3), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        index += 1


def ended_early(frames_read: int, info: VideoInfo) -> str:
    """Why a video that ended after ``frames_read`` frames is incomplete ('' when it is not): truncated or damaged."""
    if frames_read < TRUNCATED_SHARE * info.frames:
        return f"video ends after {frames_read} of {info.frames} frames (truncated or damaged)"
    return ""
