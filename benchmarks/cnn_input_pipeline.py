"""Benchmark: CNN training throughput of this project's input pipeline against the plain tutorial one, same model.

    python benchmarks/cnn_input_pipeline.py               # conf/'s cnn, 80 batches x 3 rounds per pipeline
    python benchmarks/cnn_input_pipeline.py -S cnn=vgg    # conf/ composed with overrides, as `dvc exp run -S` does
    python benchmarks/cnn_input_pipeline.py --batches 200 -S cnn=vgg -S cnn.batch_size=128

Plain (most FER2013 tutorials): keras.utils.image_dataset_from_directory on the class folders straight into fit,
augmentation mapped serially, no cache, no prefetch, no masks. This project: the images decoded once into an array
cache (as the prepare stage does; its one-off cost is printed too), then tf.data shuffle, batch, parallel map,
prefetch, measured one ingredient at a time: the cache and tf.data (autotuned) alone, + the configured augmentation,
+ masks drawn over cnn.mask_prob of the faces, + TensorFlow's op determinism, - tf.data's autotuner (as train_cnn runs
it). Each row changes one ingredient of the row above, so the step from one row to the next is that ingredient's
cost or gain.
All train the same freshly built model with the same batch size and threads; each is warmed up
(graph tracing) before the timed batches. Ceiling: the same model trained on one augmented batch held in memory and
repeated, so the input costs nothing; no input pipeline can train faster than that, and its ratio is the most any
pipeline could gain over the plain one on this machine. Every measurement runs in a fresh process (in one process, the
pipeline measured second ran at half its own speed), they take turns over --rounds, and the medians are compared.
Run it on an otherwise idle machine; it prints one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import multiprocessing
import shlex
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from face_emotion.cnn.model import build_model
from face_emotion.cnn.training import augmenter, available_cores, configure_threads, datasets, fixed_threads
from face_emotion.core.config import compose_conf, parse_params
from face_emotion.core.errors import UserError
from face_emotion.data.faces import load_face_cache, write_face_cache
from face_emotion.data.manifest import build_manifest
from face_emotion.reporting.results import record_benchmark

WARM_UP_BATCHES = 5
PLAIN = "plain: image_dataset_from_directory -> fit"
CACHE = "array cache + tf.data (parallel map, prefetch), no augmentation, no masks"
AUGMENTED = "+ augmentation (cnn.augment)"
MASKED = "+ masks on the fly (cnn.mask_prob)"
DETERMINISTIC = "+ op determinism"
FIXED_THREADS = "- tf.data's autotuner: this project's pipeline, as train_cnn runs it"
CEILING = "ceiling: one batch in memory, repeated (no input cost)"
PIPELINES = (PLAIN, CACHE, AUGMENTED, MASKED, DETERMINISTIC, FIXED_THREADS, CEILING)


def _fit_seconds(model, batches, count: int) -> float:
    """Seconds for ``count`` training batches of ``batches``, after a warm-up on the first few."""
    model.fit(batches.take(WARM_UP_BATCHES), epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(batches.skip(WARM_UP_BATCHES).take(count), epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - start


def _compiled(params, n_classes: int):
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(params, n_classes)
    model.compile(optimizer=keras.optimizers.Adam(params.learning_rate), loss="sparse_categorical_crossentropy")
    return model


def plain_seconds(root: Path, classes: list[str], params, mask, count: int) -> float:
    """The tutorial pipeline: image_dataset_from_directory into fit."""
    import keras

    augment = augmenter(params, 0)
    batches = keras.utils.image_dataset_from_directory(
        root, labels="inferred", label_mode="int", class_names=classes, color_mode="grayscale",
        image_size=(48, 48), batch_size=params.batch_size, shuffle=True, seed=0, verbose=False)
    batches = batches.map(lambda x, y: (augment(x, training=True), y))
    return _fit_seconds(_compiled(params, len(classes)), batches.repeat(), count)


def _ingredients(params, pipeline: str):
    """``params`` with only the ingredients of ``pipeline`` (the rows from CACHE to DETERMINISTIC) switched on."""
    if pipeline in (CACHE, AUGMENTED):
        params = dataclasses.replace(params, mask_prob=0.0)
    if pipeline == CACHE:
        params = dataclasses.replace(params, augment=dataclasses.replace(
            params.augment, flip=False, shift=0.0, rotation=0.0, zoom=0.0, brightness=0.0))
    return params


def project_seconds(cache: Path, classes: list[str], params, mask, count: int, pipeline: str = FIXED_THREADS) -> float:
    """This project's pipeline from the array cache, with the ingredients of ``pipeline``."""
    import tensorflow as tf

    if pipeline in (DETERMINISTIC, FIXED_THREADS):
        tf.config.experimental.enable_op_determinism()
    train = load_face_cache(cache, "train", classes)
    batches, _ = datasets(train, train, _ingredients(params, pipeline), mask, 0)
    if pipeline != FIXED_THREADS:
        autotuned = tf.data.Options()
        autotuned.autotune.enabled = True
        batches = batches.with_options(autotuned)
    return _fit_seconds(_compiled(params, len(classes)), batches.repeat(), count)


def ceiling_seconds(cache: Path, classes: list[str], params, mask, count: int) -> float:
    """The model alone: the first augmented batch of this project's pipeline, repeated from memory (no autotuner)."""
    import tensorflow as tf

    train = load_face_cache(cache, "train", classes)
    batches, _ = datasets(train, train, params, mask, 0)
    batch = next(iter(batches))
    repeated = tf.data.Dataset.from_tensors(batch).repeat().with_options(fixed_threads())
    return _fit_seconds(_compiled(params, len(classes)), repeated, count)


MEASURES = {PLAIN: plain_seconds, CEILING: ceiling_seconds,
            **{name: functools.partial(project_seconds, pipeline=name)
               for name in (CACHE, AUGMENTED, MASKED, DETERMINISTIC, FIXED_THREADS)}}


def images_per_second(pipeline: str, source: Path, classes: list[str], params, mask, threads: int, count: int) -> float:
    """Training images/s of one pipeline; run in a fresh process, so no threads of the other one linger."""
    configure_threads(threads)
    return count * params.batch_size / MEASURES[pipeline](source, classes, params, mask, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=80, help="timed training batches per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per pipeline, in alternating order")
    parser.add_argument("-S", "--set", dest="overrides", action="append", default=[],
                        help="a Hydra override of conf/ (repeatable), e.g. cnn=vgg")
    args = parser.parse_args()
    if args.batches < 1 or args.rounds < 1:
        raise UserError("--batches and --rounds must be at least 1")
    params = parse_params(compose_conf(*args.overrides))
    root = Path(params.data.root) / "train"
    manifest = build_manifest(dataclasses.replace(params.data, val_fraction=0.0, max_per_class=None), params.seed)
    cache = Path(tempfile.mkdtemp(prefix="face_emotion_benchmark_")) / "faces.npz"
    start = time.perf_counter()
    counts = write_face_cache(manifest, cache)
    cache_seconds = time.perf_counter() - start
    sources = {name: cache for name in PIPELINES} | {PLAIN: root}
    rates: dict[str, list[float]] = {pipeline: [] for pipeline in PIPELINES}
    for index in range(args.rounds):
        turn = index % len(PIPELINES)
        for pipeline in PIPELINES[turn:] + PIPELINES[:turn]:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as fresh:
                rates[pipeline].append(fresh.submit(images_per_second, pipeline, sources[pipeline], params.data.classes,
                                                    params.cnn, params.mask, params.compute.cnn_threads,
                                                    args.batches).result())
    plain = statistics.median(rates[PLAIN])
    rows = [{"pipeline": name, "training images/s (median)": round(statistics.median(values), 1),
             "each round": ", ".join(f"{v:.0f}" for v in values),
             "ratio": round(statistics.median(values) / plain, 2)} for name, values in rates.items()]
    note = (f"cnn.arch={params.cnn.arch}, batch {params.cnn.batch_size}, cnn.mask_prob={params.cnn.mask_prob}, "
            f"{args.batches} timed batches x {args.rounds} rounds per pipeline, each in a fresh process, "
            f"{available_cores()} cores; array cache of {sum(counts.values())} faces built once in {cache_seconds:.1f} s.")
    print(note)
    name = "cnn_input_pipeline" + "".join(f"_{o}" for o in args.overrides)
    print(record_benchmark(name, "python benchmarks/cnn_input_pipeline.py " + shlex.join(sys.argv[1:]), rows, note))


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
