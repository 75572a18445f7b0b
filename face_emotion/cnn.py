"""The reference CNN on raw 48x48 grayscale faces (Keras), trained with a tf.data pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from face_emotion.config import CnnParams
from face_emotion.errors import UserError
from face_emotion.images import FACE_SIZE

ARCHITECTURES = ("vgg",)


def configure_threads(threads: int) -> None:
    """Give TensorFlow ``threads`` intra-op threads (0: every core of this machine)."""
    import tensorflow as tf

    count = threads or os.cpu_count() or 1
    tf.config.threading.set_intra_op_parallelism_threads(count)
    tf.config.threading.set_inter_op_parallelism_threads(min(count, 2))


def build_model(params: CnnParams, n_classes: int):  # -> keras.Model
    """A compact VGG-style net: per entry of ``filters`` two 3x3 convs, batch norm, max-pool, dropout."""
    import keras
    from keras import layers

    if params.arch not in ARCHITECTURES:
        raise UserError(f"params: unknown cnn.arch '{params.arch}' (known: {', '.join(ARCHITECTURES)})")
    inputs = keras.Input(shape=(FACE_SIZE, FACE_SIZE, 1), name="face")
    x = layers.Rescaling(1.0 / 255.0)(inputs)
    for width in params.filters:
        for _ in range(2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(params.dropout / 2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(params.dense_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name=f"cnn_{params.arch}")


def _augmenter(params: CnnParams, seed: int):  # -> keras.Sequential | None
    """The configured random transforms, or None when augmentation is off."""
    from keras import Sequential, layers

    steps = []
    if params.augment.flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if params.augment.shift:
        steps.append(layers.RandomTranslation(params.augment.shift, params.augment.shift, fill_mode="nearest", seed=seed))
    if params.augment.rotation:
        steps.append(layers.RandomRotation(params.augment.rotation, fill_mode="nearest", seed=seed))
    if params.augment.zoom:
        steps.append(layers.RandomZoom(params.augment.zoom, fill_mode="nearest", seed=seed))
    return Sequential(steps, name="augment") if steps else None


def datasets(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], params: CnnParams, seed: int):
    """Shuffled, augmented, batched and prefetched training data; batched validation data."""
    import tensorflow as tf

    augment = _augmenter(params, seed)

    def prepare(x, y):
        x = tf.cast(x, tf.float32)
        return (augment(x, training=True) if augment is not None else x), y

    train_ds = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train[0]), seed=seed, reshuffle_each_iteration=True)
        .batch(params.batch_size)
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(params.batch_size * 2).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds


def train(train_data: tuple[np.ndarray, np.ndarray], val_data: tuple[np.ndarray, np.ndarray], n_classes: int,
          params: CnnParams, seed: int, live_dir: str | Path):  # -> keras.Model
    """Fit with early stopping on validation loss (best epoch restored); per-epoch metrics via dvclive."""
    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    keras.utils.set_random_seed(seed)
    configure_threads(params.threads)
    model = build_model(params, n_classes)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_ds, val_ds = datasets(train_data, val_data, params, seed)
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, params.patience // 2)),
    ]
    with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
        callbacks.append(DVCLiveCallback(live=live))
        model.fit(train_ds, validation_data=val_ds, epochs=params.epochs, callbacks=callbacks, shuffle=False, verbose=2)
    return model


def predict_proba(model, faces: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for (n, 48, 48, 1) uint8 faces."""
    return model.predict(faces.astype(np.float32), batch_size=batch_size, verbose=0)
