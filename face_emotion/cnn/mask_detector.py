"""Is the lower face covered? A small Keras CNN on the same 48x48 grayscale faces as the emotion CNN, trained on the
training faces, half of them under a synthetic mask (mask.styles, mask.height), so predict and evaluate can say per
face whether the mouth is hidden."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face_emotion.cnn.model import INFO_FILE, MASK_DETECTOR_ROLE, check_role, load_keras
from face_emotion.core.config import MaskParams
from face_emotion.core.errors import UserError
from face_emotion.data.images import FACE_SIZE
from face_emotion.data.masking import mask_faces

STAGE = "train_mask_detector"
THRESHOLD = 0.5
"""A face is called masked when the detector's probability reaches this."""
EPOCHS = 4
BATCH_SIZE = 128
MASKED_SHARE = 0.5
"""Share of the training faces drawn under a mask."""
MIN_VAL_ACCURACY = 0.9
"""A detector below this validation accuracy (e.g. from a quick run on a few faces) is not used by predict."""


def build():  # -> keras.Model
    """Three conv-pool blocks and a logistic output on (48, 48, 1) uint8-valued input; the location of the mask
    matters, so the last map is flattened, not pooled."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(FACE_SIZE, FACE_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for width in (8, 16, 32):
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(1, activation="sigmoid", name="masked")(x)
    return keras.Model(inputs, outputs, name="mask_detector")


def labelled(faces: np.ndarray, mask: MaskParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``faces`` with a share MASKED_SHARE of them masked, and the labels (1: masked)."""
    chosen = rng.random(len(faces)) < MASKED_SHARE
    masked = faces.copy()
    masked[chosen] = mask_faces(faces[chosen], rng, 1.0, mask.styles, mask.height_range())
    return masked, chosen.astype(np.float32)


def train(train_faces: np.ndarray, val_faces: np.ndarray, mask: MaskParams, seed: int,
          epochs: int = EPOCHS):  # -> (keras.Model, float)
    """The detector fitted on ``train_faces`` (half masked, seeded) and its accuracy on ``val_faces`` (half masked)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(seed)
    x_train, y_train = labelled(train_faces, mask, rng)
    x_val, y_val = labelled(val_faces, mask, rng)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train.astype(np.float32), y_train, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=2)
    accuracy = float(np.mean(is_masked(model, x_val) == y_val.astype(bool))) if len(x_val) else float("nan")
    return model, accuracy


def masked_probability(model, faces: np.ndarray) -> np.ndarray:
    """Per (n, 48, 48, 1) uint8 face, the probability that its lower face is covered."""
    if not len(faces):
        return np.zeros(0, dtype=np.float32)
    return np.asarray(model.predict_on_batch(faces.astype(np.float32)))[:, 0]


def is_masked(model, faces: np.ndarray) -> np.ndarray:
    """Per face, whether the detector calls it masked."""
    return masked_probability(model, faces) >= THRESHOLD


def load(folder: str | Path):  # -> keras.Model
    """The detector saved in ``folder``."""
    return load_keras(folder, STAGE)


def load_trusted(folder: str | Path) -> tuple[object | None, str]:
    """The detector in ``folder`` and '', or None and why it is not used: its validation accuracy (model_info.json)
    under MIN_VAL_ACCURACY. Missing, damaged or a folder of another role is one clear error."""
    info = check_role(folder, MASK_DETECTOR_ROLE, STAGE)
    detector = load(folder)
    try:
        accuracy = None if info.get("val_accuracy") is None else float(info["val_accuracy"])
    except (ValueError, TypeError):
        raise UserError(f"{Path(folder) / INFO_FILE} is damaged (val_accuracy {info['val_accuracy']!r}): retrain the "
                        f"detector with 'dvc repro --force {STAGE}'") from None
    if accuracy is not None and accuracy < MIN_VAL_ACCURACY:
        return None, (f"the mask detector in {folder} is too weak to trust (validation accuracy {accuracy:.2f}, "
                      f"under {MIN_VAL_ACCURACY}: trained on too few faces?)")
    return detector, ""
