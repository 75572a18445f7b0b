"""Teachable Machine: its tf.keras 2 exports loaded with Keras 3 and scored, and the training-image export."""

import dataclasses

import keras
import numpy as np
import pytest

from face_emotion.cli import main as cli
from face_emotion.core.errors import UserError
from face_emotion.data.faces import decode_faces
from face_emotion.data.manifest import build_manifest
from face_emotion.evaluation.teachable_machine import (
    check_export,
    export_training_images,
    find_exports,
    load_export,
    read_labels,
    to_model_input,
)
from tests.helpers import CLASSES, build_face_folder, build_teachable_machine_export, default_params


def data_params(root, val_fraction: float):
    return dataclasses.replace(default_params().data, root=str(root), val_fraction=val_fraction)

EXPORT_LABELS = ["Happy", "Sad", "Angry", "Neutral", "Surprise", "Disgust"]  # its own order and spelling


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return build_teachable_machine_export(tmp_path_factory.mktemp("tm") / "classroom", EXPORT_LABELS)


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    return build_face_folder(tmp_path_factory.mktemp("faces"), per_class=4)


def test_the_export_is_in_the_format_keras_3_rejects(export):
    with pytest.raises(Exception, match="groups"):
        keras.models.load_model(export / "keras_model.h5", compile=False)


def test_export_loads_and_predicts_its_own_labels(export, faces):
    model = load_export(export)
    assert model.name == "tm_classroom" and model.labels == [label.lower() for label in EXPORT_LABELS]
    manifest = build_manifest(data_params(faces, val_fraction=0.0), seed=0)
    images = decode_faces(manifest[manifest.split == "test"])
    predicted = model.predict_labels(images)
    by_hand = model.model.predict(to_model_input(images), verbose=0).argmax(axis=1)
    assert list(predicted) == [model.labels[i] for i in by_hand]
    assert len(predicted) == 4 * len(CLASSES)


def test_model_input_is_224_rgb_scaled_to_plus_minus_one():
    faces = np.zeros((2, 48, 48, 1), dtype=np.uint8)
    faces[1] = 255
    scaled = to_model_input(faces)
    assert scaled.shape == (2, 224, 224, 3) and scaled.dtype == np.float32
    assert scaled[0].max() == -1.0 and scaled[1].min() == 1.0


def test_exports_are_found_in_subfolders(export, tmp_path):
    assert find_exports(export.parent) == [export]
    assert find_exports(export) == [export]
    assert find_exports(tmp_path / "absent") == []


@pytest.mark.parametrize(
    ("labels", "message"),
    [("", "lists no classes"), ("0 happy\n2 sad\n", "line 2 is '2 sad'"), ("happy\nsad\n", "line 1 is 'happy'"),
     ("0 happy\n1 Happy\n", "lists a class twice")],
)
def test_bad_labels_give_one_line(tmp_path, labels, message):
    (tmp_path / "labels.txt").write_text(labels)
    with pytest.raises(UserError, match=message):
        read_labels(tmp_path / "labels.txt")


def test_broken_exports_give_one_line(export, tmp_path):
    missing = tmp_path / "no_labels"
    missing.mkdir()
    (missing / "keras_model.h5").write_bytes((export / "keras_model.h5").read_bytes())
    with pytest.raises(UserError, match=r"has no labels\.txt"):
        load_export(missing)
    wrong_count = tmp_path / "wrong_count"
    wrong_count.mkdir()
    (wrong_count / "keras_model.h5").write_bytes((export / "keras_model.h5").read_bytes())
    (wrong_count / "labels.txt").write_text("0 happy\n1 sad\n")
    with pytest.raises(UserError, match=r"6 outputs but labels\.txt lists 2"):
        load_export(wrong_count)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "keras_model.h5").write_text("not a model\n")
    (corrupt / "labels.txt").write_text((export / "labels.txt").read_text())
    with pytest.raises(UserError, match="could not be loaded") as excinfo:
        load_export(corrupt)
    assert "\n" not in str(excinfo.value)


def test_exports_are_checked_without_loading_them(export, tmp_path):
    """check_params's check: labels readable as text, a complete Keras HDF5 file; no TensorFlow."""
    check_export(export)
    damaged = {"truncated": ("keras_model.h5", (export / "keras_model.h5").read_bytes()[:3000]),
               "text": ("keras_model.h5", b"not a model\n"), "binary_labels": ("labels.txt", b"\xff\xfe0 happy\n")}
    for name, (file, content) in damaged.items():
        folder = tmp_path / name
        folder.mkdir()
        for part in ("keras_model.h5", "labels.txt"):
            (folder / part).write_bytes(content if part == file else (export / part).read_bytes())
        with pytest.raises(UserError, match=r"is damaged or not an HDF5 file|cannot be read as text") as excinfo:
            check_export(folder)
        assert "\n" not in str(excinfo.value)
    weights_only = tmp_path / "weights_only"
    weights_only.mkdir()
    (weights_only / "labels.txt").write_bytes((export / "labels.txt").read_bytes())
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(6)]).save_weights(weights_only / "keras_model.weights.h5")
    (weights_only / "keras_model.weights.h5").rename(weights_only / "keras_model.h5")
    with pytest.raises(UserError, match="holds no Keras model"):
        check_export(weights_only)


def test_an_export_that_does_not_take_images_is_one_line(tmp_path):
    folder = tmp_path / "numbers"
    folder.mkdir()
    keras.Sequential([keras.Input((10,)), keras.layers.Dense(len(CLASSES))]).save(folder / "keras_model.h5")
    (folder / "labels.txt").write_text("".join(f"{i} {c}\n" for i, c in enumerate(CLASSES)))
    check_export(folder)  # a complete model file: only loading shows what it takes
    with pytest.raises(UserError, match=r"takes input of shape \(None, 10\), not images"):
        load_export(folder)


def test_training_images_exported_one_folder_per_class(faces, tmp_path):
    manifest = build_manifest(data_params(faces, val_fraction=0.25), seed=0)
    counts = export_training_images(manifest, tmp_path / "upload")
    assert counts == {label: 4 for label in CLASSES}  # train and val, never test
    for label in CLASSES:
        files = sorted((tmp_path / "upload" / label).iterdir())
        assert len(files) == 4 and all(f.suffix == ".jpg" for f in files)
    assert export_training_images(manifest, tmp_path / "capped", max_per_class=2) == {label: 2 for label in CLASSES}


def test_export_command_and_its_bad_cases(faces, tmp_path, capsys):
    from face_emotion.core.io import write_csv

    manifest_path = tmp_path / "manifest.csv"
    write_csv(build_manifest(data_params(faces, val_fraction=0.0), seed=0), manifest_path)
    out = tmp_path / "upload"
    assert cli(["export-teachable-machine", "--manifest", str(manifest_path), "--output", str(out)]) == 0
    assert "wrote 24 training images" in capsys.readouterr().out
    assert cli(["export-teachable-machine", "--manifest", str(manifest_path), "--output", str(out)]) == 2
    assert "is not empty" in capsys.readouterr().err  # nothing is overwritten
    assert cli(["export-teachable-machine", "--manifest", str(tmp_path / "none.csv"), "--output", str(tmp_path / "x")]) == 2
    assert "run 'dvc repro prepare' first" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("kept\n")
    assert cli(["export-teachable-machine", "--manifest", str(manifest_path), "--output", str(tmp_path / "a_file")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err and (tmp_path / "a_file").read_text() == "kept\n"
    with pytest.raises(SystemExit):  # argparse: one usage line and the reason
        cli(["export-teachable-machine", "--manifest", str(manifest_path), "--output", str(tmp_path / "y"),
             "--max-per-class", "-1"])
    assert "must be at least 1, got -1" in capsys.readouterr().err and not (tmp_path / "y").exists()
