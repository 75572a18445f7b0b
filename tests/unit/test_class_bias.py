"""Class offsets (cnn.class_bias): chosen for macro-F1 without costing accuracy, on the faces they are tuned on, what
they are worth on faces they were not, and kept only where that is a gain."""

import numpy as np
import pytest
from sklearn.metrics import f1_score

from face_emotion.cnn import class_bias


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def skewed_answers(seed: int = 0, counts: tuple[int, ...] = (500, 200, 60)) -> tuple[list[np.ndarray], np.ndarray]:
    """Probabilities of a model that favours its frequent classes (its logits carry the log of the class counts),
    for faces whose labels occur with ``counts``: the rare class is answered too seldom."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(counts)), counts)
    logits = 1.2 * np.eye(len(counts))[labels] + rng.normal(0, 1, (len(labels), len(counts)))
    prior = np.log(np.asarray(counts) / sum(counts)) * 1.5
    return [softmax(logits + prior)], labels


def test_offsets_raise_macro_f1_and_keep_accuracy_on_the_faces_they_are_chosen_on():
    views, labels = skewed_answers()
    offsets = class_bias.tuned_offsets(views, labels)
    before, after = class_bias.scores(views, labels, np.zeros(3)), class_bias.scores(views, labels, offsets)
    assert after[0] > before[0] + 0.02
    assert after[1] >= before[1]
    assert offsets[2] > 0  # the rare class gets answered more often
    assert set(np.round(offsets, 2)) <= set(class_bias.GRID)


@pytest.mark.parametrize("offsets", [np.zeros(3), np.array([0.0, 0.5, 1.5]), np.array([-1.5, 0.0, 0.0])])
def test_macro_f1_is_scikit_learns(offsets):
    views, labels = skewed_answers()
    predicted = class_bias.answers(views, offsets)
    expected = f1_score(labels, predicted, labels=[0, 1, 2], average="macro", zero_division=0)
    assert class_bias.scores(views, labels, offsets) == pytest.approx((expected, np.mean(predicted == labels)))


def test_a_model_that_is_already_right_gets_no_offsets():
    labels = np.repeat(np.arange(3), 20)
    views = [softmax(4.0 * np.eye(3)[labels])]
    assert np.array_equal(class_bias.tuned_offsets(views, labels), np.zeros(3))


def test_the_answer_is_the_mean_over_the_views_after_the_offsets():
    mirrored = [skewed_answers(seed=0)[0][0], skewed_answers(seed=1)[0][0]]
    offsets = np.array([0.0, 0.3, 0.8])
    expected = sum(softmax(np.log(view) + offsets) for view in mirrored).argmax(axis=1)
    assert np.array_equal(class_bias.answers(mirrored, offsets), expected)
    assert np.array_equal(class_bias.answers(mirrored, np.zeros(3)), (mirrored[0] + mirrored[1]).argmax(axis=1))


def test_the_heldout_gain_is_measured_on_halves_the_offsets_never_saw():
    views, labels = skewed_answers(counts=(1000, 400, 120))
    gain = class_bias.heldout_gain(views, labels, seed=0)
    assert gain["macro_f1"] > 0
    assert gain == class_bias.heldout_gain(views, labels, seed=0)  # seeded halves


def balanced_answers(per_class: int = 200) -> tuple[list[np.ndarray], np.ndarray]:
    """Probabilities of a model without a favourite, for faces of three classes in equal numbers."""
    labels = np.repeat(np.arange(3), per_class)
    logits = 1.2 * np.eye(3)[labels] + np.random.default_rng(0).normal(0, 1, (len(labels), 3))
    return [softmax(logits)], labels


def test_offsets_are_kept_only_where_they_raised_macro_f1_on_faces_they_were_not_chosen_on():
    views, labels = skewed_answers()
    offsets, gain = class_bias.chosen_offsets(views, labels, "macro_f1", seed=0)
    assert gain["macro_f1"] > 0 and np.array_equal(offsets, class_bias.tuned_offsets(views, labels))
    views, labels = balanced_answers()
    assert class_bias.tuned_offsets(views, labels).any()  # on the faces they are chosen on, offsets fit the noise
    offsets, gain = class_bias.chosen_offsets(views, labels, "macro_f1", seed=0)
    assert gain["macro_f1"] <= 0 and np.array_equal(offsets, np.zeros(3))
    offsets, gain = class_bias.chosen_offsets(*skewed_answers(), None, seed=0)
    assert gain["macro_f1"] > 0 and np.array_equal(offsets, np.zeros(3))  # measured, not added


@pytest.mark.parametrize("kept", [np.array([0, 1]), np.array([], int)], ids=["a class missing", "no faces"])
def test_validation_faces_without_every_class_or_without_any_give_finite_offsets(kept):
    views, labels = skewed_answers()
    rows = np.isin(labels, kept)
    offsets = class_bias.tuned_offsets([views[0][rows]], labels[rows])
    assert offsets.shape == (3,) and np.isfinite(offsets).all()
    assert set(class_bias.heldout_gain([views[0][rows]], labels[rows], seed=0)) == {"macro_f1", "accuracy"}
