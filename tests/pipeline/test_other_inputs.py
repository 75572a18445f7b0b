"""The pipeline on other kinds of input, each run in a project of its own (not on the shared quick run): the original
project's AU table, labelled OpenFace videos, labelled video files."""

import json

from face_emotion.core.paths import load_paths
from face_emotion.core.tables import AU_MODEL, AU_ROUTE, read_manifest
from tests.helpers import (
    ALL_STAGES,
    CLASSES,
    copy_project,
    run,
    seed_table_sample,
    seed_video_folder,
    stages_run,
    video_clip_folder,
)


def test_seed_reproduction_trains_the_au_model_on_the_original_table(tmp_path):
    """`dvc exp run -S experiment=seed_reproduction` on 800 real rows of the original project's AU table."""
    project = copy_project(tmp_path / "project")
    seed_table_sample(project / "seed.csv", 800)
    result = run(["dvc", "exp", "run", "-S", "experiment=seed_reproduction", "-S", "data.root=seed.csv"], cwd=project)
    assert "train_cnn: skipped" in result.stdout and "the masked comparison is skipped" in result.stdout
    paths = load_paths(project)
    headline = json.loads(paths.evaluate_metrics.read_text())
    details = json.loads(paths.comparison_details.read_text())
    assert set(headline) == {AU_MODEL} and details["models"][AU_MODEL]["n"] == 200
    assert headline[AU_MODEL]["accuracy"] > 0.5
    assert "0.7551" in paths.comparison.read_text()
    page = paths.report.read_text()
    assert "What each emotion looks like" in page and "<img src=" not in page  # an AU table has no face images
    assert stages_run(run(["dvc", "repro"], cwd=project).stdout) == []


def test_labelled_openface_videos_train_and_compare_the_au_model_on_whole_videos(tmp_path):
    """`dvc exp run -S experiment=openface_videos` on 60 videos of FeatureExtraction tables (real OpenFace rows)."""
    project = copy_project(tmp_path / "project")
    seed_video_folder(project / "videos", videos_per_class=10, frames=20)
    result = run(["dvc", "exp", "run", "-S", "experiment=openface_videos", "-S", "data.root=videos",
                  "-S", "data.frame_step=2"], cwd=project)
    assert "train_cnn: skipped" in result.stdout
    paths = load_paths(project)
    manifest = read_manifest(paths.manifest)
    assert manifest.groupby("group").split.nunique().max() == 1 and len(manifest) == 60 * 20
    test_frames = int(((manifest.split == "test") & (manifest.status == "ok")).sum())
    quality = paths.data_quality_page.read_text()
    assert "1200 rows: 600 used, 0 rejected, 600 excluded" in quality and "Groups (videos" in quality
    details = json.loads(paths.comparison_details.read_text())
    assert set(json.loads(paths.evaluate_metrics.read_text())) == {AU_MODEL}
    assert details["models"][AU_MODEL]["n"] == test_frames == 12 * 10
    assert details["models"][AU_MODEL]["accuracy"] > 1 / len(CLASSES)


def test_labelled_video_files_run_every_stage_on_their_face_crops(tmp_path):
    """`dvc exp run -S data=videos` on 16 clips of the fixture video, two classes: the faces of every 4th frame are
    cropped, and the AU models, the CNN and the masked comparison run on the crops, whole videos per split."""
    project = copy_project(tmp_path / "project")
    video_clip_folder(project / "videos", ["happy", "sad"], clips_per_class=8)
    result = run(["dvc", "exp", "run", "-S", "experiment=quick", "-S", "data=videos", "-S", "data.root=videos",
                  "-S", "data.classes=[happy,sad]", "-S", "data.frame_step=4"], cwd=project)
    assert sorted(stages_run(result.stdout)) == sorted(ALL_STAGES)
    paths = load_paths(project)
    manifest = read_manifest(paths.manifest)
    assert len(manifest) == 16 * 3 and manifest.groupby("group").split.nunique().max() == 1
    assert len(list(paths.video_faces.rglob("*.png"))) == 16 * 3
    details = json.loads(paths.comparison_details.read_text())
    test_frames = int((manifest.split == "test").sum())
    assert {AU_MODEL, "cnn", AU_ROUTE} <= set(details["models"]) and details["models"]["cnn"]["n"] == test_frames
    assert set(details["masked"]) == {"masked", "unseen_mask"}
