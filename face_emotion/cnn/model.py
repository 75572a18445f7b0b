"""The reference CNN on raw 48x48 grayscale faces (Keras): its two architectures, loading and predicting."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face_emotion.core.config import CnnParams
from face_emotion.core.errors import UserError
from face_emotion.core.io import read_json
from face_emotion.data.images import FACE_SIZE

MODEL_FILE = "model.keras"
INFO_FILE = "model_info.json"
"""Beside the model: its role, class order, architecture, input and preprocessing."""
EMOTION_ROLE, MASK_DETECTOR_ROLE = "emotion CNN", "mask detector"
"""The roles a Keras model folder's model_info.json names."""
CONCEPTS_OUTPUT, EMOTION_OUTPUT = "concepts", "emotion"
"""The concept model's two outputs (and layers)."""


def recorded_role(info: dict) -> str | None:
    """The role a model_info.json names; for folders written before roles were recorded, the one its keys show (the
    CNN's class list, the mask detector's threshold)."""
    if "role" in info:
        return info["role"]
    return EMOTION_ROLE if "classes" in info else MASK_DETECTOR_ROLE if "threshold" in info else None


def check_role(folder: str | Path, role: str, stage: str) -> dict:
    """The folder's model_info.json, when it names ``role``; else one line saying what the folder holds."""
    if not Path(folder).is_dir():
        raise UserError(f"{folder} is not a model folder: train it with 'dvc repro {stage}'")
    if (Path(folder) / "model.json").is_file() and not (Path(folder) / INFO_FILE).is_file():
        raise UserError(f"{folder} holds an AU model (model.json), not '{role}': name a folder holding the {role}")
    info = read_json(Path(folder) / INFO_FILE, stage)
    if recorded_role(info) != role:
        held = f"'{recorded_role(info)}'" if recorded_role(info) else "not recorded"
        raise UserError(f"{folder} holds a model whose role is {held}, not '{role}': name a folder holding the {role}, or "
                        f"retrain this one with 'dvc repro --force {stage}'")
    return info


def _vgg(x, params: CnnParams):
    """Per entry of ``filters``: two 3x3 convs with batch norm, max-pool, dropout; then a dense layer."""
    from keras import layers

    for width in params.filters:
        for _ in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(params.dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(params.dense_units, activation="relu")(x)
    return layers.Dropout(params.dropout)(x)


def _xception(x, params: CnnParams):
    """Mini-Xception: two plain 3x3 convs, then per entry of ``filters`` a residual module of two depthwise-separable
    convs and a strided max-pool beside a strided 1x1 shortcut; global average pooling."""
    from keras import layers

    for _ in range(2):
        x = layers.Conv2D(params.filters[0] // 2, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    for width in params.filters:
        shortcut = layers.Conv2D(width, 1, strides=2, padding="same", use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
        for step in range(2):
            x = layers.SeparableConv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            if step == 0:
                x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        x = layers.Add()([x, shortcut])
    x = layers.GlobalAveragePooling2D()(x)
    if params.dense_units:
        x = layers.Dense(params.dense_units, activation="relu")(x)
    return layers.Dropout(params.dropout)(x)


BODIES = {"vgg": _vgg, "xception": _xception}


def build_model(params: CnnParams, n_classes: int, n_concepts: int = 0):  # -> keras.Model
    """The configured architecture on (48, 48, 1) uint8-valued input (the model rescales), softmax over classes; with
    ``n_concepts``, a concept layer of that many linear units between the body and the softmax, and two outputs
    (emotion, concepts)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(FACE_SIZE, FACE_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    x = BODIES[params.arch](x, params)
    if not n_concepts:
        outputs = layers.Dense(n_classes, activation="softmax", name=EMOTION_OUTPUT)(x)
        return keras.Model(inputs, outputs, name=f"cnn_{params.arch}")
    concepts = layers.Dense(n_concepts, name=CONCEPTS_OUTPUT)(x)
    emotion = layers.Dense(n_classes, activation="softmax", name=EMOTION_OUTPUT)(concepts)
    return keras.Model(inputs, {EMOTION_OUTPUT: emotion, CONCEPTS_OUTPUT: concepts}, name=f"concept_cnn_{params.arch}")


def model_outputs(model, inputs: np.ndarray, batch_size: int = 256):  # -> np.ndarray | dict[str, np.ndarray]
    """A Keras model's outputs for ``inputs``, batch by batch through its compiled predict function: Keras' ``predict``
    builds a dataset and callbacks on every call, about 0.1 s, most of the time of the small calls the stages make."""
    batches = [model.predict_on_batch(inputs[start:start + batch_size])
               for start in range(0, max(len(inputs), 1), batch_size)]
    if isinstance(batches[0], dict):
        return {name: np.concatenate([batch[name] for batch in batches]) for name in batches[0]}
    return np.concatenate(batches)


def predict_proba(model, faces: np.ndarray, batch_size: int = 256, tta: bool = False) -> np.ndarray:
    """Class probabilities for (n, 48, 48, 1) uint8 faces; with ``tta``, averaged with their mirror images (a
    concept model's: from its averaged concepts)."""
    if is_concept_model(model):
        return concept_outputs(model, faces, batch_size, tta)[0]
    faces = faces.astype(np.float32)
    probabilities = model_outputs(model, faces, batch_size)
    if tta:
        probabilities = (probabilities + model_outputs(model, faces[:, :, ::-1], batch_size)) / 2
    return probabilities


def is_concept_model(model) -> bool:
    """Whether a loaded Keras model has the concept layer."""
    return any(layer.name == CONCEPTS_OUTPUT for layer in model.layers)


def head_weights(model) -> tuple[np.ndarray, np.ndarray]:
    """The linear head: (concepts, classes) weights and (classes,) biases."""
    weights, bias = model.get_layer(EMOTION_OUTPUT).get_weights()
    return np.asarray(weights, float), np.asarray(bias, float)


def concept_outputs(model, faces: np.ndarray, batch_size: int = 256, tta: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(n, classes) probabilities and (n, concepts) standardised concepts of (n, 48, 48, 1) faces; with ``tta`` the
    concepts are averaged with the mirror image's, and the head answers from the average (its logits are then the
    two logits' mean, so the reasons still sum to the answer)."""
    concepts = _concepts(model, faces, batch_size)
    if tta:
        concepts = (concepts + _concepts(model, faces[:, :, ::-1], batch_size)) / 2
    weights, bias = head_weights(model)
    logits = concepts @ weights + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True), concepts


def _concepts(model, faces: np.ndarray, batch_size: int) -> np.ndarray:
    return np.asarray(model_outputs(model, faces.astype(np.float32), batch_size)[CONCEPTS_OUTPUT], float)


def load_keras(folder: str | Path, stage: str):  # -> keras.Model
    """The Keras model saved in ``folder`` by ``stage``, loaded in safe mode (no code runs on load); missing or damaged
    is one clear error."""
    import keras

    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        raise UserError(f"{path} not found: train it with 'dvc repro {stage}'")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)  # for predicting: no loss, no optimizer
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path} is damaged or not a Keras model ({type(exc).__name__}): "
                        f"retrain it with 'dvc repro --force {stage}'") from None


def load(folder: str | Path):  # -> keras.Model
    """The CNN saved in ``folder``."""
    return load_keras(folder, "train_cnn")
