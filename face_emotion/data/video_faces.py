"""Labelled videos as face images: the face of every analysed frame, found by MediaPipe (VIDEO mode: tracked from
frame to frame), cropped as FER2013 faces are framed and scaled to a tight crop's size, is written as a PNG, which
the pipeline then reads as it reads FER2013's face images."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from face_emotion.data.video import ended_early, open_video, read_frames
from face_emotion.faces.finder import finding_settings
from face_emotion.faces.found import TIGHT_CROP_MAX_SIDE
from face_emotion.faces.tracks import VideoFaces

NO_FACE = "no face found in the frame"
CROP_SIDE = TIGHT_CROP_MAX_SIDE
"""Side (px) of a written face crop: measured as a tight face crop, as FER2013 faces are (no face search again)."""


@dataclass(frozen=True)
class FrameFace:
    """One analysed frame: where its face crop was written, or None with the reason (no face; the video ends early)."""

    index: int
    crop: Path | None
    reason: str = ""


def frame_path(video: Path, index: int) -> str:
    """The manifest path of a frame with no face crop: '<video>#frame=<index>'."""
    return f"{video.as_posix()}#frame={index}"


def write_face_crops(video: Path, out_dir: Path, frame_step: int) -> Iterator[FrameFace]:
    """Every ``frame_step``-th frame of ``video`` with the crop of its largest face written to ``out_dir`` as
    '<video file name>_<frame>.png', then, for a video that ends early, one more with the reason; VideoRejected
    when the file cannot be read as a video."""
    capture, info = open_video(video)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames_read = 0
    try:
        with VideoFaces(finding_settings(), max_faces=1) as tracked:
            for frame in read_frames(capture, info, frame_step):
                frames_read = frame.index + frame_step  # as far as the analysed frames reach
                found = tracked.faces(frame.rgb, frame.time_s)
                if not found:
                    yield FrameFace(frame.index, None, NO_FACE)
                    continue
                crop = out_dir / f"{video.name}_{frame.index:06d}.png"
                face = Image.fromarray(frame.rgb).crop(found[0][1].box())
                face.resize((CROP_SIDE, CROP_SIDE), Image.Resampling.LANCZOS).save(crop)
                yield FrameFace(frame.index, crop)
    finally:
        capture.release()  # type: ignore[attr-defined]
    if truncated := ended_early(frames_read, info):
        yield FrameFace(frames_read, None, truncated)
