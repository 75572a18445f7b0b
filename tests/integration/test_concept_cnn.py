"""The concept-bottleneck CNN (cnn.concepts), trained for real on real faces with their real MediaPipe measurements as
concept targets: its head is the linear AU model's arithmetic, masked faces lose the targets the mask hides, both
training orders, reload, predict's reasons, and bad input."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from face_emotion.cnn import class_bias, training
from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn import model as cnn
from face_emotion.core.errors import UserError
from face_emotion.core.tables import UPPER_FACE_COLUMNS, describe
from face_emotion.data.faces import face_paths, load_face_cache
from face_emotion.data.masking import mask_faces
from face_emotion.explain.reasons import MOUTH_HIDDEN
from face_emotion.predict import CONCEPT_ROUTED_NOTE, FaceAnswer, PredictOptions, load_predictor, predict_files
from tests.helpers import CLASSES, SHARED_FIXTURES, default_params, measured_face_cache

TINY = default_params("cnn.filters=[4,8]", "cnn.epochs=2", "cnn.batch_size=16", "cnn.patience=2",
                      "cnn.concepts=au17_geometry", "cnn.concept_weight=0.5").cnn
MASK = default_params().mask


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return measured_face_cache(tmp_path_factory.mktemp("concepts"))


def concept_data(project) -> tuple[concept_model.Concepts, training.ConceptData]:
    faces, table = project
    concepts = concept_model.Concepts.fitted(table[table.split == "train"], TINY.concepts)
    return concepts, training.ConceptData(concepts.targets(table, face_paths(faces, "train")),
                                               concepts.targets(table, face_paths(faces, "val")),
                                               concepts.hidden_by_mask())


def trained(project, params=TINY):
    faces, _ = project
    _, data = concept_data(project)
    return training.train(load_face_cache(faces, "train", CLASSES), load_face_cache(faces, "val", CLASSES),
                          len(CLASSES), params, MASK, 0, None, 1, data)


def save(model, concepts: concept_model.Concepts, folder: Path, masked_head=None) -> Path:
    """The model folder train_cnn writes for a concept model."""
    folder.mkdir()
    model.save(folder / cnn.MODEL_FILE)
    masked = {concept_model.MASKED_HEAD: masked_head.to_dict()} if masked_head is not None else {}
    (folder / cnn.INFO_FILE).write_text(json.dumps({"role": cnn.EMOTION_ROLE, "classes": CLASSES,
                                                    "concept_set": TINY.concepts, **concepts.to_info(), **masked}))
    return folder


def test_targets_are_the_measured_values_of_each_cached_face_standardised(project):
    faces, table = project
    concepts, data = concept_data(project)
    assert concepts.columns[:17] == [c for c in table.columns if c.startswith("AU") and c.endswith("_r")]
    paths = face_paths(faces, "train")
    row = table.set_index("path").loc[paths[3]]
    expected = (row[concepts.columns].to_numpy(float) - concepts.mean) / concepts.scale
    assert np.allclose(data.train[3], expected, equal_nan=True)
    measured = table[(table.split == "train") & table.success]
    assert np.allclose(np.nanmean(concepts.targets(table, measured.path.to_numpy()), axis=0), 0, atol=1e-9)
    unmeasured = concepts.targets(table, np.array(["nowhere.png"]))
    assert np.isnan(unmeasured).all()  # a face without a measurement adds no concept loss


def test_the_head_is_the_linear_au_model_on_the_concepts(project):
    faces, _ = project
    concepts, _ = concept_data(project)
    model = trained(project)
    test = load_face_cache(faces, "test", CLASSES)[0]
    probabilities, standardised = cnn.concept_outputs(model, test)
    head = concept_model.head(model, concepts, CLASSES, TINY.concepts)
    values = concepts.in_units(standardised)
    assert np.allclose(head.predict_proba(values), probabilities, atol=1e-5)
    weights, _ = cnn.head_weights(model)
    assert np.allclose(head.contributions(values), standardised[:, None, :] * weights.T[None], atol=1e-5)
    assert np.allclose(cnn.predict_proba(model, test), probabilities, atol=1e-6)
    mirrored = cnn.concept_outputs(model, test[:, :, ::-1])[1]
    flipped = cnn.concept_outputs(model, test, tta=True)
    assert np.allclose(flipped[1], (standardised + mirrored) / 2, atol=1e-6)  # the answer from the mean concepts
    assert np.allclose(head.predict_proba(concepts.in_units(flipped[1])), flipped[0], atol=1e-5)


def test_class_offsets_become_the_heads_intercepts_and_the_reasons_still_sum_to_the_answer(project):
    faces, _ = project
    concepts, _ = concept_data(project)
    model = cnn.build_model(TINY, len(CLASSES), len(concepts.columns))
    test = load_face_cache(faces, "test", CLASSES)[0]
    views = class_bias.answer_views(model, test)
    offsets = np.linspace(-0.5, 0.5, len(CLASSES))
    before = concept_model.head(model, concepts, CLASSES, TINY.concepts).intercept_
    class_bias.add_offsets(model, offsets)
    head = concept_model.head(model, concepts, CLASSES, TINY.concepts)
    assert np.allclose(np.subtract(head.intercept_, before), offsets, atol=1e-6)
    probabilities, standardised = cnn.concept_outputs(model, test, tta=True)
    assert np.array_equal(probabilities.argmax(axis=1), class_bias.answers(views, offsets))
    values = concepts.in_units(standardised)
    assert np.allclose(head.predict_proba(values), probabilities, atol=1e-5)


def test_a_face_masked_on_the_fly_has_no_target_for_what_the_mask_hides(project):
    faces, _ = project
    concepts, data = concept_data(project)
    train = load_face_cache(faces, "train", CLASSES)
    targets = data.targets(train[1], "train")
    hidden = concepts.hidden_by_mask()
    assert not hidden[[concepts.columns.index(c) for c in UPPER_FACE_COLUMNS]].any()
    assert hidden[concepts.columns.index("AU12_r")] and hidden[concepts.columns.index("lm_lip_gap")]
    plain = dataclasses.replace(TINY, augment=dataclasses.replace(TINY.augment, flip=False, shift=0.0))
    empty = np.isnan(targets[cnn.CONCEPTS_OUTPUT]).sum(axis=0)
    for mask_prob in (1.0, 0.0):
        dataset, _ = training.datasets((train[0], targets), (train[0], targets), dataclasses.replace(
            plain, mask_prob=mask_prob), MASK, 0, hidden)
        seen = np.concatenate([y[cnn.CONCEPTS_OUTPUT].numpy() for _, y in dataset])
        assert len(seen) == len(train[0])
        if mask_prob:
            assert np.isnan(seen[:, hidden]).all()
        assert (np.isnan(seen).sum(axis=0)[~hidden] == empty[~hidden]).all()  # the upper face keeps its targets
        assert mask_prob or (np.isnan(seen).sum(axis=0) == empty).all()


def test_missing_targets_add_no_loss():
    import keras

    y_true = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], np.float32)
    y_pred = np.array([[0.0, 100.0, 1.0], [5.0, 5.0, 5.0]], np.float32)
    loss = keras.ops.convert_to_numpy(training.masked_squared_error(y_true, y_pred))
    assert np.allclose(loss, [(1 + 4) / 2, 0.0])


def test_sequential_training_fits_the_head_on_the_frozen_concepts(project):
    faces, _ = project
    model = trained(project, dataclasses.replace(TINY, concept_training="sequential"))
    train = load_face_cache(faces, "train", CLASSES)
    standardised = cnn.concept_outputs(model, train[0])[1]
    expected = LogisticRegression(max_iter=5000, random_state=0).fit(standardised, train[1])
    weights, bias = cnn.head_weights(model)
    assert np.allclose(weights, expected.coef_.T, atol=1e-5) and np.allclose(bias, expected.intercept_, atol=1e-5)


def test_the_saved_concept_model_reloads_and_predict_gives_and_draws_its_reasons(project, tmp_path):
    faces, _ = project
    concepts, _ = concept_data(project)
    model = trained(project)
    folder = save(model, concepts, tmp_path / "cnn")
    test = load_face_cache(faces, "test", CLASSES)[0]
    assert np.allclose(cnn.predict_proba(cnn.load(folder), test), cnn.predict_proba(model, test), atol=1e-6)
    # the stages' batch-by-batch outputs (here in batches of 7) are Keras' predict's; no faces give no outputs
    by_batch, keras_predict = cnn.model_outputs(model, test / 1.0, 7), model.predict(test / 1.0, verbose=0)
    assert all(np.allclose(by_batch[name], keras_predict[name], atol=1e-6) for name in keras_predict)
    assert all(len(outputs) == 0 for outputs in cnn.model_outputs(model, test[:0] / 1.0).values())
    drawn = tmp_path / "drawn"
    inputs = [Path(p) for p in face_paths(faces, "test")[:6]] + [SHARED_FIXTURES / "media" / "multi_face.jpg"]
    table = predict_files(load_predictor(folder), inputs, PredictOptions(annotate=drawn))
    assert (table.path.str.endswith("multi_face.jpg").sum() == 5) and table.annotation.str.endswith(".png").all()
    assert len(list(drawn.iterdir())) == 7  # each input's faces drawn with the regions behind their answers
    rows = table[~table.path.str.endswith("multi_face.jpg")]
    assert len(rows) == 6 and set(rows.emotion) <= set(CLASSES)
    for row in rows.itertuples():
        assert row.au_reasons.startswith(f"{row.emotion} ({row.confidence:.2f}): ")
        named = row.au_reasons.split(": ", 1)[1]
        assert any(word in named for word in ("AU", "brow", "eye", "lip", "cheek", "nose", "chin", "mouth", "head")) \
            or named == "no AU raises it above the baseline", named


def test_masked_faces_are_answered_from_the_concepts_a_mask_leaves_visible(project, tmp_path):
    """The head of masked faces reads only brows, lids, cheeks and head; predict routes a face the mask detector sees
    masked to it, and its reasons end saying the mouth is hidden."""
    faces, _ = project
    concepts, _ = concept_data(project)
    model = trained(project)
    train = load_face_cache(faces, "train", CLASSES)
    masked = mask_faces(train[0], np.random.default_rng(0), 1.0, MASK.styles, MASK.height_range())
    masked_head = concept_model.fit_masked_head(model, concepts, masked, train[1], CLASSES, TINY.concepts, 0)
    hidden = {c for c, h in zip(concepts.columns, concepts.hidden_by_mask(), strict=True) if h}
    assert masked_head.features_ and not hidden & set(masked_head.features_)
    assert set(masked_head.features_) >= set(UPPER_FACE_COLUMNS)
    folder = save(model, concepts, tmp_path / "cnn", masked_head)
    predictor = load_predictor(folder)
    assert predictor.masked_head.to_dict() == masked_head.to_dict()
    test = load_face_cache(faces, "test", CLASSES)[0][:4]
    standardised = cnn.concept_outputs(model, test, tta=True)[1]
    expected = concept_model.masked_head_outputs(model, masked_head, concepts, test, tta=True)
    for row, p in zip(standardised, expected, strict=True):
        routed = predictor.explained(FaceAnswer(masked=True), row)
        assert np.allclose(routed.probabilities, p, atol=1e-5) and routed.reason == CONCEPT_ROUTED_NOTE
        assert routed.au_reasons.endswith(MOUTH_HIDDEN)
        assert not any(describe(c) in routed.au_reasons for c in hidden)
        whole = predictor.explained(FaceAnswer(masked=False), row)
        assert np.allclose(whole.probabilities, predictor.head.predict_proba(concepts.in_units(row[None]))[0])
    info = json.loads((folder / cnn.INFO_FILE).read_text())
    info[concept_model.MASKED_HEAD]["coef"] = [[1.0]]
    (folder / cnn.INFO_FILE).write_text(json.dumps(info))
    with pytest.raises(UserError, match="holds a damaged masked_head"):
        load_predictor(folder)


def test_a_folder_without_concepts_or_a_table_without_them_is_one_line(project, tmp_path):
    _, table = project
    concepts, _ = concept_data(project)
    folder = save(trained(project), concepts, tmp_path / "cnn")
    info = json.loads((folder / cnn.INFO_FILE).read_text())
    for key in ("concept_mean", "concept_neutral", "concepts"):  # the same damage in each list the head reads
        damaged = {**info, key: info[key][:-1]}
        (folder / cnn.INFO_FILE).write_text(json.dumps(damaged))
        with pytest.raises(UserError, match=r"does not fit its model .* retrain it"):
            load_predictor(folder)
    with pytest.raises(UserError, match="names no concepts"):
        concept_model.Concepts.from_info({"role": cnn.EMOTION_ROLE, "classes": CLASSES})
    before_neutral = {key: value for key, value in info.items() if key != "concept_neutral"}  # an older model
    with pytest.raises(UserError, match="names no concepts of this version: retrain it"):
        concept_model.Concepts.from_info(before_neutral)
    with pytest.raises(UserError, match="AU table has no column 'lm_"):
        concept_model.Concepts.fitted(table.drop(columns=["lm_brow_gap"]), "au17_geometry")
    with pytest.raises(UserError, match="no measured training faces"):
        concept_model.Concepts.fitted(table.assign(success=False), "au17")
