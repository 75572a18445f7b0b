"""The prepare step on small folders of real faces: every file accounted for, bad ones rejected with reasons."""

import dataclasses

import pandas as pd
import pytest

from face_emotion.core.config import ImageData
from face_emotion.core.errors import UserError
from face_emotion.data import manifest as dataset
from tests.helpers import CLASSES, add_bad_files, build_face_folder, default_params


def data_params(root, **changes) -> ImageData:
    """conf/'s data params for a folder of faces, with a quarter of train held out for validation by default."""
    return dataclasses.replace(default_params().data, root=str(root), **{"val_fraction": 0.25, **changes})


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


def test_an_impossible_validation_split_is_one_line_before_any_file_is_read(faces):
    """check_params counts the files (at most data.max_per_class per class): a validation share that leaves no training
    face for a class, or a class with a single face, stops the run before prepare would."""
    root, _ = faces
    for changes, message in (({"val_fraction": 0.99}, r"data.val_fraction=0.99 leaves \d+ of \d+ training images to "
                                                       r"train on, fewer than one per class \(6\): lower it"),
                             ({"max_per_class": 1}, r"too few usable training images for a validation split \(angry: 1; "
                                                    r"at least 2 per class\)")):
        with pytest.raises(UserError, match=message):
            dataset.check_split(data_params(root, **changes))
        with pytest.raises(UserError, match=message):  # prepare says the same
            dataset.build_manifest(data_params(root, **changes), seed=1)
    dataset.check_split(data_params(root, val_fraction=0.5, max_per_class=2))  # one of each class on each side
    assert dataset.validation_size(pd.Series({"happy": 4, "sad": 6}), 0.25) == 2


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
    with pytest.raises(UserError, match="has no 'train/surprise/' folder"):
        dataset.check_source(data_params(root))
    (root / "train" / "surprise").mkdir()
    (root / "test" / "surprise").mkdir()
    (root / "train" / "surprise" / "broken.jpg").write_bytes(b"")
    with pytest.raises(UserError, match="no usable train faces of class 'surprise'"):
        dataset.build_manifest(data_params(root), seed=1)


@pytest.mark.parametrize(("content", "message"), [
    (None, "not found: run 'dvc repro prepare'"),
    ("", "is damaged .EmptyDataError"),
    ('path,label\n"a,b\n', "is damaged .ParserError"),
    ("path,label\nx.jpg,happy\n", "has no column 'split'"),
])
def test_a_missing_or_damaged_manifest_is_one_line(tmp_path, content, message):
    from face_emotion.core.tables import read_manifest

    path = tmp_path / "manifest.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message) as raised:
        read_manifest(path)
    assert "\n" not in str(raised.value)
