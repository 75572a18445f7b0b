"""Labelled videos measured by OpenFace FeatureExtraction as data (data.kind=openface_videos): every frame accounted
for, whole videos per split, bad files rejected with a reason."""

import dataclasses
import shutil

import pandas as pd
import pytest

from face_emotion.au.backends.openface_csv import OpenFaceCsvBackend
from face_emotion.core.errors import UserError
from face_emotion.data import manifest as dataset
from face_emotion.data.openface_csv import NOT_TRACKED
from tests.helpers import CLASSES, SHARED_FIXTURES, default_params, seed_video_folder

VIDEOS = default_params("experiment=openface_videos")
OPENFACE = SHARED_FIXTURES / "openface"


def params(root, **changes):
    return dataclasses.replace(VIDEOS.data, root=str(root), **changes)


def test_whole_videos_go_to_one_split_and_every_class_to_each(tmp_path):
    root = seed_video_folder(tmp_path / "videos", videos_per_class=8, frames=10)
    manifest = dataset.build_manifest(params(root, frame_step=1), seed=42)
    assert len(manifest) == 8 * 10 * len(CLASSES) and (manifest.status == "ok").all()
    assert manifest.groupby("group").split.nunique().max() == 1  # excluded frames too
    videos = manifest.drop_duplicates("group")
    assert set(videos.split) == {"train", "val", "test"}
    for split, rows in videos.groupby("split"):
        assert set(rows.label) == set(CLASSES), split
    assert manifest.path.iloc[0] == f"{(root / 'angry' / 'angry_0.csv').as_posix()}#0"
    again = dataset.build_manifest(params(root, frame_step=1), seed=42)
    assert list(again.split) == list(manifest.split)


def test_frame_step_keeps_every_nth_frame_and_the_rest_is_counted(tmp_path):
    root = seed_video_folder(tmp_path / "videos", videos_per_class=5, frames=10)
    manifest = dataset.build_manifest(params(root, frame_step=3), seed=0)
    used = manifest[manifest.status == "ok"]
    assert manifest.groupby("group").split.nunique().max() == 1  # the frames between go with their video
    assert set(used.path.str.rpartition("#")[2].astype(int)) == {0, 3, 6, 9}
    assert set(manifest.loc[manifest.status == "excluded", "reason"]) == {"between analysed frames (data.frame_step=3)"}


def test_the_real_feature_extraction_output_is_read_frame_by_frame(tmp_path):
    """OpenFace's own FeatureExtraction CSV as a video of each class; its rows read back through the AU backend."""
    for emotion in CLASSES:
        (tmp_path / emotion).mkdir()
        shutil.copy(OPENFACE / "FeatureExtraction" / "default.csv", tmp_path / emotion / "take.csv")
    manifest = dataset.scan_openface_videos(params(tmp_path))
    assert len(manifest) == 6 * 288 and (manifest.status == "ok").sum() == 6 * 58  # every 5th frame
    first = manifest.path.iloc[0]
    with OpenFaceCsvBackend(VIDEOS.au) as backend:
        row = backend.measure(first)
    assert row["success"] and row["AU20_r"] == pytest.approx(2.18)


def test_bad_files_and_frames_are_counted_with_reasons(tmp_path):
    root = seed_video_folder(tmp_path / "videos", videos_per_class=5, frames=10)
    happy = root / "happy" / "happy_0.csv"
    table = pd.read_csv(happy)
    table.loc[2, "success"] = 0
    twice = table.iloc[[4]].assign(face_id=1, confidence=0.5)
    pd.concat([table, twice]).sort_values(["frame", "face_id"]).to_csv(happy, index=False)
    shutil.copy(OPENFACE / "FaceLandmarkImg" / "face.csv", root / "sad" / "still.csv")
    (root / "sad" / "notes.txt").write_text("recorded on Monday\n")
    (root / "angry" / "semicolons.csv").write_text("frame;AU01_r\n1;0,5\n")
    (root / "README.csv").write_text("not in a class folder\n")
    (root / "fear").mkdir()
    shutil.copy(OPENFACE / "FeatureExtraction" / "default.csv", root / "fear" / "scared.csv")
    manifest = dataset.build_manifest(params(root, frame_step=1), seed=0).set_index("path")
    assert manifest.loc[f"{happy.as_posix()}#2", "reason"] == NOT_TRACKED
    assert manifest.loc[f"{happy.as_posix()}#5", "reason"] == "another face of the frame is more confident"
    assert manifest.loc[f"{happy.as_posix()}#4", "status"] == "ok"
    reasons = {path.rpartition("/")[2]: reason for path, reason in manifest.reason.items() if "#" not in path}
    assert reasons == {
        "still.csv": "not an OpenFace FeatureExtraction table (no 'frame' column)",
        "notes.txt": "not a CSV file (.txt)",
        "semicolons.csv": "is separated by ';' (a spreadsheet export?): OpenFace writes comma-separated values with "
                          "decimal points",
        "README.csv": "not inside a class folder (<class>/<video>)",
        "scared.csv": "class 'fear' not in data.classes"}
    assert (manifest.status == "ok").sum() == 5 * 10 * len(CLASSES) - 1


def test_missing_folders_and_too_few_videos_are_one_line(tmp_path):
    with pytest.raises(UserError, match=r"data folder '.*absent' not found"):
        dataset.build_manifest(params(tmp_path / "absent"), seed=0)
    root = seed_video_folder(tmp_path / "videos", videos_per_class=1, frames=10)
    shutil.rmtree(root / "disgust")
    with pytest.raises(UserError, match=r"has no 'disgust/' folder \(expected .*/<class>/<video>.csv"):
        dataset.build_manifest(params(root), seed=0)
    (root / "disgust").mkdir()
    with pytest.raises(UserError, match=r"no usable (train|test) faces of class"):
        dataset.build_manifest(params(root, frame_step=1), seed=0)
    empty = tmp_path / "empty"
    for emotion in CLASSES:
        (empty / emotion).mkdir(parents=True)
    with pytest.raises(UserError, match=r"video folder '.*empty' has no usable rows to split"):
        dataset.build_manifest(params(empty), seed=0)
