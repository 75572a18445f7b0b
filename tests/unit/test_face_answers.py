"""The answers of the models on raw faces, read back by evaluate and surrogates: labels that look like numbers stay
labels, the detector's verdicts stay booleans, and answers missing, damaged or older than the faces are one line."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from face_emotion.core.errors import UserError
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import CNN
from face_emotion.evaluation.comparison import compare
from face_emotion.evaluation.face_answers import MASK_DETECTOR, TEST, FaceAnswers
from tests.helpers import REPO


@pytest.fixture
def paths(tmp_path):
    paths = replace(load_paths(REPO), face_answers=tmp_path / "face_answers")
    paths.face_answers.mkdir()
    return paths


def write_answers(paths, table: pd.DataFrame, models: list[str]) -> None:
    table.to_csv(paths.face_answers_of(TEST), index=False)
    paths.face_answers_info.write_text(json.dumps({
        "models": models, "black_boxes": [], "sizes_mb": dict.fromkeys(models, 1.0),
        "seconds": {TEST: dict.fromkeys(models, 0.5)}, "cnn_concepts": None}))


def test_answers_come_back_in_the_faces_order_as_labels_and_verdicts(paths):
    write_answers(paths, pd.DataFrame({"path": ["b.jpg", "a.jpg"], CNN: ["happy", "sad"], "tm_01": ["1", "0"],
                                       MASK_DETECTOR: [True, False]}), [CNN, "tm_01"])
    found = FaceAnswers.read(paths)
    rows = found.of(TEST, pd.Series(["a.jpg", "b.jpg"]))
    assert list(rows[CNN]) == ["sad", "happy"] and list(rows["tm_01"]) == ["0", "1"]  # Teachable Machine labels "0", "1"
    assert rows[MASK_DETECTOR].dtype == bool and list(rows[MASK_DETECTOR]) == [False, True]
    assert found.seconds[TEST] == {CNN: 0.5, "tm_01": 0.5} and found.cnn_concepts is None


def test_scores_come_from_the_answers_with_the_seconds_they_took(paths):
    test = pd.DataFrame({"path": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"], "label": ["happy", "sad", "sad", "happy"],
                         "in_train": [False, False, True, False]})
    answers = pd.DataFrame({"path": test.path, CNN: ["happy", "sad", "happy", "happy"]})
    results = compare(test, pd.DataFrame(), {}, answers, {CNN: 2.0}, ["happy", "sad"])
    assert results[CNN].scores["accuracy"] == 0.75 and results[CNN].scores["images_per_s"] == 2.0
    assert results[CNN].scores["dedup"]["accuracy"] == 1.0  # c.jpg has a copy in the training data
    assert list(results[CNN].confusion.predicted) == list(answers[CNN])


def test_answers_older_than_the_faces_are_one_line(paths):
    write_answers(paths, pd.DataFrame({"path": ["a.jpg"], CNN: ["happy"]}), [CNN])
    with pytest.raises(UserError, match=r"^test: some faces have no answer .*'dvc repro answer_faces'$"):
        FaceAnswers.read(paths).of(TEST, pd.Series(["a.jpg", "new.jpg"]))
    assert FaceAnswers.read(paths).of("masked", pd.Series([], dtype=str)).empty  # no masked faces: nothing to answer


@pytest.mark.parametrize(("damage", "message"), [
    (lambda paths: paths.face_answers_info.unlink(), r"answers\.json not found: run 'dvc repro answer_faces'"),
    (lambda paths: paths.face_answers_info.write_text("[1]"), r"answers\.json is damaged .*answer_faces"),
    (lambda paths: paths.face_answers_of(TEST).write_bytes(b'path,cnn\n"a.jpg,happy\n'),
     r"test\.csv is damaged \(ParserError\): rerun 'dvc repro --force answer_faces'"),
    (lambda paths: paths.face_answers_of(TEST).unlink(), r"test\.csv not found: run 'dvc repro answer_faces'"),
    (lambda paths: paths.face_answers_of(TEST).write_text("path,tm\na.jpg,happy\n"),
     r"test\.csv is damaged \(no column 'cnn'\)"),
    (lambda paths: paths.face_answers_of(TEST).write_text("path,cnn\na.jpg,happy\na.jpg,sad\n"),
     r"test\.csv is damaged \(a face answered twice\)"),
    (lambda paths: paths.face_answers_info.write_text('{"models": ["cnn"]}'), r"answers\.json is damaged \(no 'black_boxes'\)"),
    (lambda paths: paths.face_answers_info.write_text('{"models": [], "black_boxes": [], "sizes_mb": {}, "seconds": [1], '
                                                      '"cnn_concepts": null}'),
     r"answers\.json is damaged \('seconds' is not a table per face set\)"),
])
def test_missing_or_damaged_answers_are_one_line(paths, damage, message):
    write_answers(paths, pd.DataFrame({"path": ["a.jpg"], CNN: ["happy"]}), [CNN])
    damage(paths)
    with pytest.raises(UserError, match=message) as raised:
        FaceAnswers.read(paths)
    assert "\n" not in str(raised.value)


def test_no_model_on_raw_faces_scores_only_the_au_models(paths):
    write_answers(paths, pd.DataFrame({"path": ["a.jpg"]}), [])
    found = FaceAnswers.read(paths)
    rows = found.of(TEST, pd.Series(["a.jpg"]))
    assert list(rows.columns) == ["path"] and found.models == [] and found.sizes == {}
