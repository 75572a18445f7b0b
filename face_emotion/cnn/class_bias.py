"""Class offsets for the CNN's answers (``cnn.class_bias``): one number per emotion added to the logits of its emotion
layer, chosen on the validation faces to raise macro-F1 without lowering accuracy, and kept only where such offsets
raised macro-F1 on validation faces they were not chosen on.

A CNN trained on FER2013's counts favours its frequent classes (in training, about 16 'happy' faces to each 'disgust'
face): the rare ones are answered too seldom, and macro-F1, the mean over the emotions, pays for it. The concept
model cannot weigh classes in training (Keras weighs classes only for a model with one output), so this is its
lever. The offsets are added to the emotion layer's biases: every answer, probability and reason reads from the
tuned model, and a concept model's reasons still sum to its answer (the offsets are part of its intercepts)."""

from __future__ import annotations

import numpy as np

from face_emotion.cnn.model import EMOTION_OUTPUT, concept_outputs, is_concept_model, model_outputs
from face_emotion.core.config import ClassBias

GRID = np.round(np.arange(-1.5, 1.5001, 0.05), 2)
"""The offsets tried per class (logit units)."""
ROUNDS = 3
"""Passes over the classes."""


def answer_views(model, faces: np.ndarray) -> list[np.ndarray]:
    """The (n, classes) probabilities whose mean is the model's answer as `face-emotion predict` gives it (each face
    averaged with its mirror image: cnn_tta in evaluate): a concept model's from its mirror-averaged concepts, a plain
    CNN's per view."""
    if is_concept_model(model):
        return [concept_outputs(model, faces, tta=True)[0]]
    return [np.asarray(model_outputs(model, view.astype(np.float32)), float)
            for view in (faces, faces[:, :, ::-1])]


def answers(views: list[np.ndarray], offsets: np.ndarray) -> np.ndarray:
    """Class indices of the mean over ``views`` once ``offsets`` are added to each view's logits."""
    total = 0.0
    for probabilities in views:
        logits = np.log(np.clip(probabilities, 1e-12, None)) + offsets
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        total = total + exp / exp.sum(axis=1, keepdims=True)
    return np.asarray(total).argmax(axis=1)


def scores(views: list[np.ndarray], labels: np.ndarray, offsets: np.ndarray) -> tuple[float, float]:
    """(macro-F1, accuracy) of the answers with ``offsets`` against class indices ``labels``: scikit-learn's macro-F1
    over every class (0 for a class neither labelled nor answered), counted directly, as the search calls it
    thousands of times."""
    predicted = answers(views, offsets)
    n_classes = views[0].shape[1]
    right = np.bincount(labels[predicted == labels], minlength=n_classes)
    counted = np.bincount(labels, minlength=n_classes) + np.bincount(predicted, minlength=n_classes)
    f1 = np.divide(2 * right, counted, out=np.zeros(n_classes), where=counted > 0)
    accuracy = float(np.mean(predicted == labels)) if len(labels) else 0.0
    return float(f1.mean()), accuracy


def tuned_offsets(views: list[np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Coordinate ascent from no offsets: per class in turn, the offset of ``GRID`` with the highest macro-F1 among
    those that keep accuracy at least that of no offsets (the smallest such offset on a tie); ``ROUNDS`` passes.
    (classes,) offsets; all 0 where no move helps."""
    offsets = np.zeros(views[0].shape[1])
    if not len(labels):
        return offsets
    best_f1, floor = scores(views, labels, offsets)
    for _ in range(ROUNDS):
        moved = False
        for k in range(len(offsets)):
            for value in sorted(GRID, key=abs):
                trial = offsets.copy()
                trial[k] = value
                f1, accuracy = scores(views, labels, trial)
                if f1 > best_f1 + 1e-9 and accuracy >= floor:
                    best_f1, offsets, moved = f1, trial, True
        if not moved:
            break
    return offsets


def heldout_gain(views: list[np.ndarray], labels: np.ndarray, seed: int) -> dict[str, float]:
    """What the offsets are worth on faces they were not chosen on: the validation faces split in two halves (seeded),
    offsets tuned on each half and scored on the other; the mean change of macro-F1 and accuracy over the two."""
    if len(labels) < 2:
        return {"macro_f1": 0.0, "accuracy": 0.0}
    order = np.random.default_rng(seed).permutation(len(labels))
    halves = order[: len(order) // 2], order[len(order) // 2:]
    gains = []
    for tune, score in (halves, halves[::-1]):
        offsets = tuned_offsets([view[tune] for view in views], labels[tune])
        held = [view[score] for view in views]
        before, after = scores(held, labels[score], np.zeros_like(offsets)), scores(held, labels[score], offsets)
        gains.append(np.subtract(after, before))
    f1_gain, accuracy_gain = np.mean(gains, axis=0)
    return {"macro_f1": round(float(f1_gain), 4), "accuracy": round(float(accuracy_gain), 4)}


def chosen_offsets(views: list[np.ndarray], labels: np.ndarray, kind: ClassBias, seed: int
                   ) -> tuple[np.ndarray, dict[str, float]]:
    """The offsets ``cnn.class_bias`` gives answers ``views`` of validation faces (class indices ``labels``), and what
    tuning them is worth on held-out halves (measured for every ``kind``). For ``kind='macro_f1'``, tuned on every
    face, unless on the held-out halves they did not raise macro-F1 (a model already balanced: the offsets would fit
    noise); zeros otherwise."""
    gain = heldout_gain(views, labels, seed)
    if kind == "macro_f1" and gain["macro_f1"] > 0:
        return tuned_offsets(views, labels), gain
    return np.zeros(views[0].shape[1]), gain


def fit(model, faces: np.ndarray, labels: np.ndarray, kind: ClassBias, seed: int
        ) -> tuple[np.ndarray, dict[str, object]]:
    """``cnn.class_bias`` on a trained model and its validation faces (class indices ``labels``): the offsets
    (``chosen_offsets``), added to the model, and the metrics train_cnn reports: macro-F1 with them and what tuning
    them is worth on held-out halves."""
    views = answer_views(model, faces)
    offsets, gain = chosen_offsets(views, labels, kind, seed)
    add_offsets(model, offsets)
    return offsets, {"val_macro_f1": round(scores(views, labels, offsets)[0], 4), "val_class_bias_heldout_gain": gain}


def add_offsets(model, offsets: np.ndarray) -> None:
    """Add ``offsets`` to the biases of the model's emotion layer (its logits: the layer's softmax comes after)."""
    layer = model.get_layer(EMOTION_OUTPUT)
    weights, bias = layer.get_weights()
    layer.set_weights([weights, (bias + offsets).astype(bias.dtype)])
