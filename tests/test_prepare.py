"""The prepare step on small folders of real faces: every file accounted for, bad ones rejected with reasons."""

import json

import pytest

from face_emotion import dataset
from face_emotion.config import DataParams
from face_emotion.errors import UserError

from .conftest import CLASSES, add_bad_files, build_face_folder, copy_project, run


def data_params(root, **changes) -> DataParams:
    values = {"root": str(root), "classes": CLASSES, "val_fraction": 0.25, "max_per_class": None}
    return DataParams(**{**values, **changes})


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    root = build_face_folder(tmp_path_factory.mktemp("faces"), per_class=8)
    build_face_folder(root, per_class=3, labels=["fear"])
    return root, add_bad_files(root)


def test_every_file_is_in_the_manifest_with_a_status(faces):
    root, bad = faces
    manifest = dataset.build_manifest(data_params(root), seed=1)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {p.removeprefix(f"{root}/") for p in manifest.path} == files
    by_name = manifest.assign(name=manifest.path.str.removeprefix(f"{root}/")).set_index("name")
    for name, reason in bad.items():
        assert by_name.loc[name, "status"] in ("rejected", "excluded")
        assert reason in by_name.loc[name, "reason"]
    fear = manifest[manifest.label == "fear"]
    assert (fear.status == "excluded").all() and len(fear) == 6
    assert (manifest.status == "ok").sum() == 8 * 2 * len(CLASSES)


def test_validation_split_is_stratified_and_seeded(faces):
    root, _ = faces
    first = dataset.build_manifest(data_params(root), seed=7)
    again = dataset.build_manifest(data_params(root), seed=7)
    other = dataset.build_manifest(data_params(root), seed=8)
    val = first[first.split == "val"]
    assert val.label.value_counts().to_dict() == dict.fromkeys(CLASSES, 2)
    assert list(again.split) == list(first.split)
    assert list(other.split) != list(first.split)


def test_cap_excludes_with_a_reason(faces):
    root, _ = faces
    manifest = dataset.build_manifest(data_params(root, max_per_class=4), seed=1)
    used = manifest[manifest.status == "ok"]
    assert used.groupby("label").size().to_dict() == dict.fromkeys(CLASSES, 8)
    assert manifest.reason.str.contains("over data.max_per_class=4").sum() == 4 * 2 * len(CLASSES)


def test_duplicates_across_splits_are_flagged(tmp_path):
    root = build_face_folder(tmp_path / "faces", per_class=4)
    copy = next((root / "train" / "sad").glob("*.jpg"))
    (root / "test" / "sad" / "copy_of_train.jpg").write_bytes(copy.read_bytes())
    manifest = dataset.build_manifest(data_params(root, val_fraction=0.25), seed=1)
    flagged = manifest[manifest.in_train]
    assert list(flagged.path) == [(root / "test" / "sad" / "copy_of_train.jpg").as_posix()]
    report = dataset.quality_report(manifest)
    assert report["duplicates_of_train"]["test"] == 1


def test_missing_data_folder_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found: run 'dvc pull'"):
        dataset.build_manifest(data_params(tmp_path / "nowhere"), seed=1)


def test_missing_class_is_one_clear_error(tmp_path):
    root = build_face_folder(tmp_path / "faces", per_class=2, labels=CLASSES[:-1])
    with pytest.raises(UserError, match="no usable train faces of class 'surprise'"):
        dataset.build_manifest(data_params(root), seed=1)


def test_stage_reports_bad_config_in_one_line(tmp_path):
    """The real stage entry point: an unknown class and a missing folder end with one line and exit code 2."""
    project = copy_project(tmp_path / "project")
    params = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(params.replace("- surprise", "- contempt"))
    result = run(["python", "-m", "stages.prepare"], cwd=project, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: params: unknown class 'contempt' in data.classes " \
        "(known: angry, disgust, happy, neutral, sad, surprise)"
    (project / "params.yaml").write_text(params.replace("root: data/fer2013", "root: missing/fer2013"))
    result = run(["python", "-m", "stages.prepare"], cwd=project, check=False)
    assert result.returncode == 2
    expected = "error: data folder 'missing/fer2013' not found: run 'dvc pull' or set data.root"
    assert result.stderr.strip().splitlines() == [expected]


def test_stage_writes_manifest_and_report(tmp_path, faces):
    root, _bad = faces
    project = copy_project(tmp_path / "project")
    params = (project / "params.yaml").read_text().replace("root: data/fer2013", f"root: {root}")
    (project / "params.yaml").write_text(params)
    result = run(["python", "-m", "stages.prepare"], cwd=project)
    assert "5 rejected, 7 excluded" in result.stdout
    report = json.loads((project / "metrics" / "data_quality.json").read_text())
    assert report["rejected"] == 5 and report["used"] == 96
    markdown = (project / "reports" / "data_quality.md").read_text()
    assert "truncated.jpg" in markdown and "empty.jpg" in markdown
