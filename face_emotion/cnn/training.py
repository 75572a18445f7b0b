"""Training the reference CNN: a tf.data pipeline with on-the-fly augmentation, early stopping, seeded and
deterministic, per-epoch curves through dvclive."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from face_emotion.cnn.model import build_model
from face_emotion.core.config import CnnParams, MaskParams
from face_emotion.data.masking import mask_faces


def available_cores() -> int:
    """The cores this process may run on (what `nproc` prints), not every core of the machine."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_threads(threads: int) -> None:
    """Give TensorFlow ``threads`` intra-op threads (0: the available cores)."""
    import tensorflow as tf

    count = threads or available_cores()
    tf.config.threading.set_intra_op_parallelism_threads(count)
    tf.config.threading.set_inter_op_parallelism_threads(min(count, 2))


def augmenter(params: CnnParams, seed: int):  # -> keras.Sequential | None
    """The configured random transforms, or None when augmentation is off."""
    from keras import Sequential, layers

    aug = params.augment
    steps = []
    if aug.flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if aug.shift:
        steps.append(layers.RandomTranslation(aug.shift, aug.shift, fill_mode="nearest", seed=seed))
    if aug.rotation:
        steps.append(layers.RandomRotation(aug.rotation, fill_mode="nearest", seed=seed))
    if aug.zoom:
        steps.append(layers.RandomZoom(aug.zoom, fill_mode="nearest", seed=seed))
    if aug.brightness:
        steps.append(layers.RandomBrightness(aug.brightness, value_range=(0.0, 255.0), seed=seed))
    return Sequential(steps, name="augment") if steps else None


def masker(params: CnnParams, mask: MaskParams):  # -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor] | None
    """A tf.data step masking a share ``params.mask_prob`` of a float32 batch (masks drawn from ``mask`` by a batch
    seed), or None when masking is off."""
    import tensorflow as tf

    if not params.mask_prob:
        return None

    def draw(faces: np.ndarray, batch_seed: np.int64) -> np.ndarray:
        rng = np.random.default_rng(int(batch_seed) & 0xFFFFFFFFFFFFFFFF)
        return mask_faces(faces, rng, params.mask_prob, mask.styles, mask.height_range())

    def apply(faces, batch_seed):
        masked = tf.numpy_function(draw, [faces, batch_seed], tf.float32, stateful=False)
        return tf.ensure_shape(masked, faces.shape)

    return apply


def datasets(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray], params: CnnParams,
             mask: MaskParams, seed: int):
    """Shuffled, batched, masked and augmented on the fly and prefetched training data; batched validation data."""
    import tensorflow as tf

    augment = augmenter(params, seed)
    add_masks = masker(params, mask)

    def prepare(batch, batch_seed):
        x, y = batch
        x = tf.cast(x, tf.float32)
        if add_masks is not None:
            x = add_masks(x, batch_seed)
        return (augment(x, training=True) if augment is not None else x), y

    batches = (tf.data.Dataset.from_tensor_slices(train)
               .shuffle(len(train[0]), seed=seed, reshuffle_each_iteration=True)
               .batch(params.batch_size))
    batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)  # new masks every epoch
    train_ds = (
        tf.data.Dataset.zip(batches, batch_seeds)
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(fixed_threads())
    )
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(params.batch_size * 2).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds.with_options(fixed_threads())


def fixed_threads():  # -> tf.data.Options
    """tf.data without its autotuner: AUTOTUNE parallelism and buffers fall back to fixed defaults. On 2 cores the
    autotuner at times gave the input pipeline threads the model needed: training ran at 0.6-0.8x in about a third of
    the benchmark's rounds (benchmarks/cnn_input_pipeline.py shows the row with and without it)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """scikit-learn's 'balanced': n / (n_classes x count of the class); 0 for a class with no faces."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    return {k: float(len(labels) / (n_classes * counts[k])) if counts[k] else 0.0 for k in range(n_classes)}


def _optimizer(params: CnnParams, steps_per_epoch: int):  # -> keras.optimizers.Optimizer
    import keras

    rate = params.learning_rate
    if params.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(params.learning_rate, decay_steps=params.epochs * steps_per_epoch)
    if params.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate=rate, momentum=0.9, nesterov=True)
    return keras.optimizers.Adam(learning_rate=rate)


def train(train_data: tuple[np.ndarray, np.ndarray], val_data: tuple[np.ndarray, np.ndarray], n_classes: int,
          params: CnnParams, mask: MaskParams, seed: int, live_dir: str | Path | None, threads: int):  # -> keras.Model
    """Fit with early stopping on validation loss (best epoch restored), seeded and deterministic; training faces
    masked on the fly with ``params.mask_prob`` (masks from ``mask``);
    per-epoch metrics via dvclive into ``live_dir`` (None: no log); ``threads`` for TensorFlow (0: available cores)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    configure_threads(threads)
    model = build_model(params, n_classes)
    steps = -(-len(train_data[0]) // params.batch_size)
    model.compile(optimizer=_optimizer(params, steps), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train_ds, val_ds = datasets(train_data, val_data, params, mask, seed)
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True)]
    if params.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, params.patience // 2)))
    weights = class_weights(train_data[1], n_classes) if params.class_weight == "balanced" else None
    fit = dict(validation_data=val_ds, epochs=params.epochs, class_weight=weights, shuffle=False, verbose=2)
    if live_dir is None:
        model.fit(train_ds, callbacks=callbacks, **fit)
        return model
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
        model.fit(train_ds, callbacks=[*callbacks, DVCLiveCallback(live=live)], **fit)
    return model
