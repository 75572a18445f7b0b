"""Training the reference CNN: a tf.data pipeline with on-the-fly augmentation, early stopping, seeded and
deterministic, per-epoch curves through dvclive."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from face_emotion.cnn.model import CONCEPTS_OUTPUT, EMOTION_OUTPUT, build_model, concept_outputs
from face_emotion.core.config import CnnParams, MaskParams
from face_emotion.core.errors import UserError
from face_emotion.data.masking import mask_faces


def available_cores() -> int:
    """The cores this process may run on (what `nproc` prints), not every core of the machine."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def configure_threads(threads: int) -> None:
    """Give TensorFlow ``threads`` intra-op threads (0: the available cores). A process where TensorFlow already ran
    (a notebook, the test suite) keeps the threads it started with: they change how fast, never what."""
    import tensorflow as tf

    count = threads or available_cores()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(count)
        tf.config.threading.set_inter_op_parallelism_threads(min(count, 2))
    except RuntimeError:  # "cannot be modified after initialization"
        return


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


def masker(params: CnnParams, mask: MaskParams):  # -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]] | None
    """A tf.data step masking a share ``params.mask_prob`` of a float32 batch (masks drawn from ``mask`` by a batch
    seed) and saying which faces it masked, or None when masking is off."""
    import tensorflow as tf

    if not params.mask_prob:
        return None

    def draw(faces: np.ndarray, batch_seed: np.int64) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(int(batch_seed) & 0xFFFFFFFFFFFFFFFF)
        masked = mask_faces(faces, rng, params.mask_prob, mask.styles, mask.height_range())
        return masked, (masked != faces).reshape(len(faces), -1).any(axis=1)

    def apply(faces, batch_seed):
        masked, hidden = tf.numpy_function(draw, [faces, batch_seed], (tf.float32, tf.bool), stateful=False)
        return tf.ensure_shape(masked, faces.shape), tf.ensure_shape(hidden, faces.shape[:1])

    return apply


Targets = np.ndarray | dict[str, np.ndarray]
"""What a model learns per face: class indices, or for the concept model {emotion: class indices, concepts:
standardised measured concepts (NaN: none)}."""


def datasets(train: tuple[np.ndarray, Targets], val: tuple[np.ndarray, Targets], params: CnnParams, mask: MaskParams,
             seed: int, hidden_by_mask: np.ndarray | None = None):
    """Shuffled, batched, masked and augmented on the fly and prefetched training data; batched validation data. A
    face masked on the fly has no target for the concepts ``hidden_by_mask`` (a bool per concept)."""
    import tensorflow as tf

    augment = augmenter(params, seed)
    add_masks = masker(params, mask)

    def prepare(batch, batch_seed):
        x, y = batch
        x = tf.cast(x, tf.float32)
        if add_masks is not None:
            x, hidden = add_masks(x, batch_seed)
            if hidden_by_mask is not None:
                unseen = tf.logical_and(hidden[:, None], tf.constant(hidden_by_mask)[None, :])
                y = {**y, CONCEPTS_OUTPUT: tf.where(unseen, tf.constant(np.nan, y[CONCEPTS_OUTPUT].dtype),
                                                    y[CONCEPTS_OUTPUT])}
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


@dataclass(frozen=True)
class ConceptData:
    """The concept model's targets: standardised measured concepts of the training and validation faces (NaN: none)
    and which concepts a mask hides."""

    train: np.ndarray
    val: np.ndarray
    hidden_by_mask: np.ndarray

    def targets(self, labels: np.ndarray, split: str) -> dict[str, np.ndarray]:
        return {EMOTION_OUTPUT: labels, CONCEPTS_OUTPUT: getattr(self, split).astype(np.float32)}


def masked_squared_error(y_true, y_pred):  # (Tensor, Tensor) -> Tensor
    """Per face, the mean squared error over the concepts with a target (NaN: none); 0 for a face without any."""
    from keras import ops

    known = ops.logical_not(ops.isnan(y_true))
    error = ops.where(known, y_true - y_pred, ops.zeros_like(y_pred))
    return ops.sum(ops.square(error), axis=-1) / ops.maximum(ops.sum(ops.cast(known, y_pred.dtype), axis=-1), 1.0)


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
          params: CnnParams, mask: MaskParams, seed: int, live_dir: str | Path | None, threads: int,
          concepts: ConceptData | None = None):  # -> keras.Model
    """Fit with early stopping on validation loss (best epoch restored), seeded and deterministic; training faces
    masked on the fly with ``params.mask_prob`` (masks from ``mask``); with ``concepts`` (params.cnn.concepts), the
    concept model (``params.concept_training``);
    per-epoch metrics via dvclive into ``live_dir`` (None: no log); ``threads`` for TensorFlow (0: available cores)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    configure_threads(threads)
    model = build_model(params, n_classes, len(concepts.hidden_by_mask) if concepts else 0)
    steps = -(-len(train_data[0]) // params.batch_size)
    if concepts is None:
        model.compile(optimizer=_optimizer(params, steps), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        train_ds, val_ds = datasets(train_data, val_data, params, mask, seed)
    else:
        emotion_weight = 0.0 if params.concept_training == "sequential" else 1.0
        model.compile(optimizer=_optimizer(params, steps),
                      loss={EMOTION_OUTPUT: "sparse_categorical_crossentropy", CONCEPTS_OUTPUT: masked_squared_error},
                      loss_weights={EMOTION_OUTPUT: emotion_weight, CONCEPTS_OUTPUT: params.concept_weight},
                      metrics={EMOTION_OUTPUT: ["accuracy"]})
        train_ds, val_ds = datasets((train_data[0], concepts.targets(train_data[1], "train")),
                                    (val_data[0], concepts.targets(val_data[1], "val")), params, mask, seed,
                                    concepts.hidden_by_mask)
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True)]
    if params.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, params.patience // 2)))
    weights = class_weights(train_data[1], n_classes) if params.class_weight == "balanced" else None
    fit = dict(validation_data=val_ds, epochs=params.epochs, class_weight=weights, shuffle=False, verbose=2)
    if live_dir is None:
        model.fit(train_ds, callbacks=callbacks, **fit)
    else:
        from dvclive import Live
        from dvclive.keras import DVCLiveCallback

        with Live(str(live_dir), dvcyaml=None, save_dvc_exp=False) as live:
            model.fit(train_ds, callbacks=[*callbacks, DVCLiveCallback(live=live)], **fit)
    if concepts is not None and params.concept_training == "sequential":
        fit_head(model, train_data, seed)
    return model


def fit_head(model, train_data: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    """The sequential concept model's head: multinomial logistic regression on the frozen concepts of the training
    faces (unmasked), set as the model's emotion layer."""
    from sklearn.linear_model import LogisticRegression

    concepts = concept_outputs(model, train_data[0])[1]
    fitted = LogisticRegression(max_iter=5000, random_state=seed).fit(concepts, train_data[1])
    n_classes = len(model.get_layer(EMOTION_OUTPUT).get_weights()[1])
    if len(fitted.classes_) != n_classes:
        raise UserError(f"the training faces hold {len(fitted.classes_)} of the {n_classes} classes: cannot fit the "
                        "concept model's head")
    model.get_layer(EMOTION_OUTPUT).set_weights([fitted.coef_.T.astype(np.float32), fitted.intercept_.astype(np.float32)])
