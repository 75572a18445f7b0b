"""The CNN: both architectures trained for real on real faces, seeded repeatability, masks on the fly, reload, the
face cache; the mask detector trained on real faces."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from face_emotion.cnn import class_bias, mask_detector, training
from face_emotion.cnn import model as cnn
from face_emotion.core.errors import UserError
from face_emotion.data.faces import decode_faces, load_face_cache, write_face_cache
from face_emotion.data.manifest import build_manifest
from face_emotion.data.masking import mask_faces
from tests.helpers import CLASSES, build_face_folder, default_params, real_faces

TINY = default_params("cnn=vgg", "cnn.filters=[4,8]", "cnn.dense_units=8", "cnn.epochs=1", "cnn.batch_size=16",
                      "cnn.learning_rate=0.01", "cnn.patience=1").cnn
MASK = default_params().mask


@pytest.fixture(scope="module")
def face_cache(tmp_path_factory):
    """The face cache as the prepare stage writes it, from 8 real faces per class and split (2 of train to val)."""
    root = tmp_path_factory.mktemp("cnn")
    faces = build_face_folder(root / "faces", per_class=8)
    data = dataclasses.replace(default_params().data, root=str(faces), val_fraction=0.25)
    manifest = build_manifest(data, seed=0)
    counts = write_face_cache(manifest, root / "faces.npz")
    assert counts == {"train": 36, "val": 12, "test": 48}
    return root / "faces.npz"


def split(face_cache, name):
    return load_face_cache(face_cache, name, CLASSES)


def weights(model) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("arch", ["vgg", "xception"])
def test_each_architecture_trains_on_real_faces(face_cache, tmp_path, arch):
    params = dataclasses.replace(TINY, arch=arch, schedule="cosine" if arch == "xception" else "plateau",
                                 class_weight="balanced", concepts=None, optimizer="sgd" if arch == "vgg" else "adam")
    model = training.train(split(face_cache, "train"), split(face_cache, "val"), len(CLASSES), params, MASK, 0,
                           tmp_path / "live", 1)
    probabilities = cnn.predict_proba(model, split(face_cache, "test")[0])
    assert probabilities.shape == (48, len(CLASSES)) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (tmp_path / "live" / "plots" / "metrics" / "train" / "loss.tsv").is_file()
    assert (tmp_path / "live" / "plots" / "metrics" / "eval" / "accuracy.tsv").is_file()


def test_one_seed_trains_the_same_model_twice(face_cache):
    train, val = split(face_cache, "train"), split(face_cache, "val")
    first = weights(training.train(train, val, len(CLASSES), TINY, MASK, 7, None, 1))
    again = weights(training.train(train, val, len(CLASSES), TINY, MASK, 7, None, 1))
    other = weights(training.train(train, val, len(CLASSES), TINY, MASK, 8, None, 1))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_saved_model_reloads_and_predicts_the_same(face_cache, tmp_path):
    model = training.train(split(face_cache, "train"), split(face_cache, "val"), len(CLASSES), TINY, MASK, 0, None, 1)
    model.save(tmp_path / cnn.MODEL_FILE)
    reloaded = cnn.load(tmp_path)
    test = split(face_cache, "test")[0]
    assert np.allclose(cnn.predict_proba(model, test), cnn.predict_proba(reloaded, test), atol=1e-6)


def test_test_time_augmentation_averages_a_face_and_its_mirror(face_cache):
    model = cnn.build_model(TINY, len(CLASSES))
    faces = split(face_cache, "test")[0][:5]
    mirrored = faces[:, :, ::-1]
    expected = (cnn.predict_proba(model, faces) + cnn.predict_proba(model, mirrored)) / 2
    assert np.allclose(cnn.predict_proba(model, faces, tta=True), expected, atol=1e-6)


def test_class_offsets_add_to_the_logits_of_the_answer_evaluate_reads(face_cache):
    model = cnn.build_model(TINY, len(CLASSES))
    faces = split(face_cache, "test")[0]
    views = class_bias.answer_views(model, faces)
    assert np.allclose((views[0] + views[1]) / 2, cnn.predict_proba(model, faces, tta=True), atol=1e-6)
    offsets = np.linspace(-0.5, 0.5, len(CLASSES))
    class_bias.add_offsets(model, offsets)
    shifted = np.log(views[0]) + offsets
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    assert np.allclose(cnn.predict_proba(model, faces), expected, atol=1e-5)
    assert np.array_equal(cnn.predict_proba(model, faces, tta=True).argmax(axis=1), class_bias.answers(views, offsets))


def test_class_bias_null_leaves_the_model_as_trained_and_still_measures_what_offsets_would_be_worth(face_cache):
    model = cnn.build_model(TINY, len(CLASSES))
    faces, labels = split(face_cache, "val")
    before = cnn.predict_proba(model, faces)
    offsets, metrics = class_bias.fit(model, faces, labels, None, seed=0)
    assert np.array_equal(offsets, np.zeros(len(CLASSES))) and np.array_equal(cnn.predict_proba(model, faces), before)
    assert set(metrics) == {"val_macro_f1", "val_class_bias_heldout_gain"}
    views = class_bias.answer_views(model, faces)
    tuned, _ = class_bias.fit(model, faces, labels, "macro_f1", seed=0)
    assert np.array_equal(tuned, class_bias.chosen_offsets(views, labels, "macro_f1", seed=0)[0])
    assert np.array_equal(cnn.predict_proba(model, faces, tta=True).argmax(axis=1), class_bias.answers(views, tuned))


def test_balanced_class_weights_average_one():
    labels = np.array([0] * 6 + [1] * 2 + [2] * 2)
    found = training.class_weights(labels, 3)
    assert found[0] == pytest.approx(10 / 18) and found[1] == pytest.approx(10 / 6)
    assert np.mean([found[k] for k in labels]) == pytest.approx(1.0)  # every face weighs 1 on average
    assert training.class_weights(labels, 4)[3] == 0.0  # a class without faces


def test_damaged_or_foreign_face_caches_give_one_line(face_cache, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(face_cache.read_bytes()[:5000])
    text = tmp_path / "text.npz"
    text.write_text("not an array file\n")
    wrong_shape = tmp_path / "shape.npz"
    np.savez(wrong_shape, train_faces=np.zeros((2, 32, 32), np.uint8), train_labels=np.array(["happy", "sad"]),
             train_paths=np.array(["a.png", "b.png"]))
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, train_faces=np.zeros((1, 48, 48, 1), np.uint8), train_labels=np.array(["fear"]),
             train_paths=np.array(["a.png"]))
    cases = [(truncated, "is damaged"), (text, "is damaged"), (wrong_shape, "wrong shape"),
             (foreign, "class 'fear', not in data.classes"), (tmp_path / "absent.npz", "not found")]
    for path, message in cases:
        with pytest.raises(UserError, match=message) as excinfo:
            load_face_cache(path, "train", CLASSES)
        assert "\n" not in str(excinfo.value)
    with pytest.raises(UserError, match="is damaged"):
        load_face_cache(face_cache, "holdout", CLASSES)  # a split the cache does not have


def test_missing_truncated_or_foreign_model_files_give_one_line(face_cache, tmp_path):
    model = cnn.build_model(TINY, len(CLASSES))
    model.save(tmp_path / cnn.MODEL_FILE)
    good = (tmp_path / cnn.MODEL_FILE).read_bytes()
    (tmp_path / cnn.MODEL_FILE).write_bytes(good[: len(good) // 2])
    with pytest.raises(UserError, match="is damaged or not a Keras model") as raised:
        cnn.load(tmp_path)
    assert "\n" not in str(raised.value)
    (tmp_path / cnn.MODEL_FILE).write_text("{}")
    with pytest.raises(UserError, match="is damaged or not a Keras model"):
        cnn.load(tmp_path)
    with pytest.raises(UserError, match="not found"):
        cnn.load(tmp_path / "nowhere")


def unaugmented(mask_prob: float):
    return dataclasses.replace(TINY, mask_prob=mask_prob, augment=dataclasses.replace(
        TINY.augment, flip=False, shift=0.0, rotation=0.0, zoom=0.0, brightness=0.0))


def test_training_faces_are_masked_on_the_fly_with_new_masks_each_epoch(face_cache):
    faces, labels = split(face_cache, "train")
    by_eyes = {face[:14].tobytes(): face for face in faces.astype(np.float32)}  # the eyes identify the face
    masked_ds, _ = training.datasets((faces, labels), (faces, labels), unaugmented(1.0), MASK, 0)
    epochs = [{face[:14].tobytes(): face for x, _ in masked_ds for face in x.numpy()} for _ in range(2)]
    assert set(epochs[0]) == set(by_eyes)  # the upper face untouched
    assert all(not np.array_equal(face[38:], by_eyes[eyes][38:]) for eyes, face in epochs[0].items())  # mouth covered
    assert sum(not np.array_equal(epochs[0][e], epochs[1][e]) for e in by_eyes) == len(by_eyes)  # redrawn each epoch
    plain_ds, _ = training.datasets((faces, labels), (faces, labels), unaugmented(0.0), MASK, 0)
    assert all(np.array_equal(face, by_eyes[face[:14].tobytes()]) for x, _ in plain_ds for face in x.numpy())


def test_the_mask_detector_learns_masks_on_real_faces_and_spots_an_unseen_style():
    """Trained on 1,200 real faces (half masked in mask.styles), it tells 300 other real faces from their masked
    copies, in the test style and in the style training never drew."""
    train_faces = decode_faces(pd.DataFrame({"path": [p for c in CLASSES for p in real_faces("train", c, 200)]}))
    test_faces = decode_faces(pd.DataFrame({"path": [p for c in CLASSES for p in real_faces("test", c, 50)]}))
    detector, val_accuracy = mask_detector.train(train_faces[::2], train_faces[1::2], MASK, seed=0, epochs=8)
    assert val_accuracy > 0.85
    rng = np.random.default_rng(0)
    for style in (MASK.test_style, MASK.unseen_style):
        masked = mask_faces(test_faces, rng, 1.0, [style], (MASK.test_height, MASK.test_height))
        right = np.concatenate([~mask_detector.is_masked(detector, test_faces), mask_detector.is_masked(detector, masked)])
        assert right.mean() > 0.85, style
