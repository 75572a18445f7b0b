"""Labelled video files as data (data.kind=videos): real MediaPipe finds the face of each analysed frame, its crop is
the frame's face image, whole videos go to one split, and bad videos and faceless frames are counted with reasons."""

import dataclasses
import shutil

import numpy as np
import pytest
from PIL import Image

from face_emotion.core.errors import UserError
from face_emotion.data import manifest as dataset
from face_emotion.data.video_faces import CROP_SIDE, NO_FACE
from tests.helpers import SHARED_FIXTURES, default_params, video_clip_folder

TWO_CLASSES = ["happy", "sad"]
VIDEOS = dataclasses.replace(default_params("data=videos").data, classes=TWO_CLASSES, frame_step=4)
MEDIA = SHARED_FIXTURES / "media"


def test_each_analysed_frame_becomes_a_face_crop_and_videos_stay_whole(tmp_path):
    root = video_clip_folder(tmp_path / "videos", TWO_CLASSES, clips_per_class=8)
    manifest = dataset.build_manifest(dataclasses.replace(VIDEOS, root=str(root)), seed=0, crops_dir=tmp_path / "crops")
    assert (manifest.status == "ok").all() and len(manifest) == 16 * 3  # 12 frames per clip, every 4th
    assert manifest.groupby("group").split.nunique().max() == 1
    videos = manifest.drop_duplicates("group")
    for split in ("train", "val", "test"):
        assert set(videos.loc[videos.split == split, "label"]) == set(TWO_CLASSES), split
    first = manifest.iloc[0]
    assert first.path == (tmp_path / "crops" / "happy" / "clip_0.mp4_000000.png").as_posix()
    crop = np.asarray(Image.open(first.path).convert("L"), dtype=float)
    assert first.width == first.height == CROP_SIDE and crop.std() > 20


def test_faceless_frames_and_bad_files_are_counted_with_reasons(tmp_path):
    root = video_clip_folder(tmp_path / "videos", TWO_CLASSES, clips_per_class=4)
    shutil.copy(MEDIA / "no_face.mp4", root / "sad" / "empty_room.mp4")
    (root / "happy" / "broken.mp4").write_text("not a video\n")
    (root / "happy" / "notes.txt").write_text("recorded on Monday\n")
    (root / "happy" / "zero.mov").write_bytes(b"")
    whole = (MEDIA / "WolfgangLanger_Pexels.mp4").read_bytes()
    (root / "sad" / "cut_off.mp4").write_bytes(whole[: len(whole) // 3])
    manifest = dataset.build_manifest(dataclasses.replace(VIDEOS, root=str(root), test_fraction=0.5, val_fraction=0.5),
                                      seed=0, crops_dir=tmp_path / "crops")
    empty_room = manifest[manifest.group.str.endswith("empty_room.mp4")]
    assert len(empty_room) > 1 and (empty_room.reason == NO_FACE).all()
    assert empty_room.path.str.contains("#frame=").all()
    reasons = {path.rpartition("/")[2]: reason for path, reason in zip(manifest.path, manifest.reason, strict=True)
               if "#" not in path and not path.endswith(".png")}
    assert reasons["broken.mp4"].startswith("not a readable video")
    assert reasons["notes.txt"] == "not a video file (.txt)"
    assert reasons["zero.mov"] == "empty file (0 bytes)"
    cut_off = manifest[manifest.group.str.endswith("cut_off.mp4")]
    assert (cut_off.status == "ok").sum() > 10
    assert cut_off.reason.iloc[-1].startswith("video ends after") and "of 472 frames" in cut_off.reason.iloc[-1]
    assert (manifest[~manifest.group.str.endswith("cut_off.mp4")].status == "ok").sum() == 8 * 3


def test_missing_class_folder_is_one_line(tmp_path):
    (tmp_path / "happy").mkdir()
    with pytest.raises(UserError, match=r"has no 'sad/' folder \(expected .*/<class>/<video> for each"):
        dataset.build_manifest(dataclasses.replace(VIDEOS, root=str(tmp_path)), seed=0, crops_dir=tmp_path / "crops")
