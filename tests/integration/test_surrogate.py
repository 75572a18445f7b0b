"""AU surrogates of black-box models: the AU model fitted to a real plain CNN's answers on real faces with their real
MediaPipe measurements, its agreement with the CNN, predict's surrogate reasons, and bad input."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from face_emotion import au_models
from face_emotion.cnn import model as cnn
from face_emotion.cnn import training
from face_emotion.core.companions import SURROGATE, write_companions
from face_emotion.core.errors import UserError
from face_emotion.core.tables import NO_FACE
from face_emotion.data.faces import face_paths, load_face_cache
from face_emotion.evaluation.surrogate import agreement, fit_surrogate, with_answers
from face_emotion.predict import SURROGATE_PREFIX, load_predictor, predict_files
from tests.helpers import CLASSES, default_params, measured_face_cache

PARAMS = default_params()
# Fits its 36 training faces in inference mode: 1,200 steps, so batch norm's moving statistics (momentum 0.99) forget
# their initial values; fewer leave the net answering one class whatever it learnt.
PLAIN = default_params("cnn=vgg", "cnn.filters=[8]", "cnn.dense_units=16", "cnn.dropout=0", "cnn.epochs=100",
                       "cnn.batch_size=3", "cnn.patience=100", "cnn.mask_prob=0", "cnn.concepts=null",
                       *(f"cnn.augment.{name}={off}" for name, off in
                         [("flip", "false"), ("shift", 0), ("rotation", 0), ("zoom", 0), ("brightness", 0)])).cnn
LINEAR = default_params("au_model=linear").au_model


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return measured_face_cache(tmp_path_factory.mktemp("surrogate"))


@pytest.fixture(scope="module")
def black_box(project):
    """A plain CNN trained for real on the training faces (which are also its early-stopping set, so the epoch kept is
    the one that fits them best), and its answers on the training and test faces."""
    faces, _ = project
    train = load_face_cache(faces, "train", CLASSES)
    model = training.train(train, train, len(CLASSES), PLAIN, PARAMS.mask, 0, None, 1)
    answers = {split: np.asarray(CLASSES)[cnn.predict_proba(model, load_face_cache(faces, split, CLASSES)[0]).argmax(1)]
               for split in ("train", "test")}
    return model, answers


def test_the_surrogate_learns_the_black_boxs_answers_not_the_labels(project, black_box):
    """Fitted to the CNN's answers on faces it did not train on, where it errs; its agreement measured on others."""
    faces, table = project
    _, answers = black_box
    fitted = with_answers(table, face_paths(faces, "test"), answers["test"])
    truth = table.set_index("path").loc[fitted.path]
    assert (fitted.label.to_numpy() == answers["test"][: len(fitted)]).all() and len(fitted) == len(answers["test"])
    assert (fitted.label.to_numpy() != truth.label.to_numpy()).any()  # the CNN errs on some: those keep its answer
    surrogate = fit_surrogate(fitted, LINEAR, CLASSES, 0)
    assert set(surrogate.classes) == set(answers["test"]) & set(CLASSES)
    test = with_answers(table, face_paths(faces, "train"), answers["train"])
    predicted = au_models.predict_table(surrogate, test)
    expected = float(np.mean((predicted == test.label) & (predicted != NO_FACE)))
    assert agreement(surrogate, test) == pytest.approx(expected, abs=1e-4) and 0 < expected <= 1


def test_a_black_box_with_fewer_than_two_answers_has_no_surrogate(project):
    faces, table = project
    paths = face_paths(faces, "train")
    with pytest.raises(UserError, match="fewer than two of the classes"):
        fit_surrogate(with_answers(table, paths, np.array(["happy"] * len(paths), dtype=object)), LINEAR, CLASSES, 0)
    mixed = np.where(np.arange(len(paths)) % 2 == 0, "joy", np.resize(np.asarray(CLASSES, dtype=object), len(paths)))
    surrogate = fit_surrogate(with_answers(table, paths, mixed.astype(object)), LINEAR, CLASSES, 0)
    assert "joy" not in surrogate.classes and set(surrogate.classes) <= set(CLASSES)  # answers outside left out


def test_predict_with_a_plain_cnn_gives_its_surrogates_reasons_and_agreement(project, black_box, tmp_path):
    faces, table = project
    model, answers = black_box
    models = tmp_path / "models"
    (models / "cnn").mkdir(parents=True)
    model.save(models / "cnn" / cnn.MODEL_FILE)
    (models / "cnn" / cnn.INFO_FILE).write_text(json.dumps({"role": cnn.EMOTION_ROLE, "classes": CLASSES}))
    surrogate = fit_surrogate(with_answers(table, face_paths(faces, "train"), answers["train"]), LINEAR, CLASSES, 0)
    au_models.save(surrogate, models / "explained" / "cnn", dataclasses.asdict(PARAMS.au))
    write_companions(models / "cnn", {SURROGATE: models / "explained" / "cnn"})
    inputs = [Path(p) for p in face_paths(faces, "test")[:6]]
    rows = predict_files(load_predictor(models / "cnn"), inputs)
    measured = rows.au_reasons != ""
    assert measured.sum() >= 5 and rows.au_reasons[measured].str.startswith(SURROGATE_PREFIX).all()
    answered = rows.au_reasons[measured].str.removeprefix(SURROGATE_PREFIX).str.split(" ").str[0]
    assert (rows.surrogate_agrees[measured] == (answered == rows.emotion[measured])).all()
    assert "AU01_r" not in rows  # measured for the surrogate, shown only with --aus
    data = json.loads((models / "explained" / "cnn" / au_models.MODEL_FILE).read_text())
    data["classes"] = ["joy", "anger", "calm", "fear", "awe", "envy"][: len(data["classes"])]
    (models / "explained" / "cnn" / au_models.MODEL_FILE).write_text(json.dumps(data))
    with pytest.raises(UserError, match="rerun 'dvc repro surrogates'"):
        load_predictor(models / "cnn")
