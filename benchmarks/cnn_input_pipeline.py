"""Benchmark: CNN training throughput of this project's input pipeline against the plain tutorial one, same model.

    python benchmarks/cnn_input_pipeline.py               # default cnn params, 80 batches each way
    python benchmarks/cnn_input_pipeline.py --batches 200 --arch xception

Plain (most FER2013 tutorials): keras.utils.image_dataset_from_directory on the class folders straight into fit,
augmentation mapped serially, no cache, no prefetch. This project: the images decoded once into an array cache
(cache_faces; its one-off cost is printed too), then tf.data shuffle, batch, parallel augmentation, prefetch.
Both train the same freshly built model with the same augmentation, batch size and threads; each is warmed up
(graph tracing) before the timed batches. Run it on an otherwise idle machine; it prints one Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import pandas as pd

from face_emotion import cnn, dataset
from face_emotion.config import load_params
from face_emotion.faces import load_face_cache, write_face_cache

WARM_UP_BATCHES = 5


def _fit_seconds(model, batches, count: int) -> float:
    """Seconds for ``count`` training batches of ``batches``, after a warm-up on the first few."""
    model.fit(batches.take(WARM_UP_BATCHES), epochs=1, shuffle=False, verbose=0)
    start = time.perf_counter()
    model.fit(batches.skip(WARM_UP_BATCHES).take(count), epochs=1, shuffle=False, verbose=0)
    return time.perf_counter() - start


def _compiled(params, n_classes: int):
    import keras

    keras.utils.set_random_seed(0)
    model = cnn.build_model(params, n_classes)
    model.compile(optimizer=keras.optimizers.Adam(params.learning_rate), loss="sparse_categorical_crossentropy")
    return model


def plain_seconds(root: Path, classes: list[str], params, count: int) -> float:
    """The tutorial pipeline: image_dataset_from_directory into fit."""
    import keras

    augment = cnn.augmenter(params, 0)
    batches = keras.utils.image_dataset_from_directory(
        root, labels="inferred", label_mode="int", class_names=classes, color_mode="grayscale",
        image_size=(48, 48), batch_size=params.batch_size, shuffle=True, seed=0, verbose=False)
    batches = batches.map(lambda x, y: (augment(x, training=True), y))
    return _fit_seconds(_compiled(params, len(classes)), batches.repeat(), count)


def project_seconds(cache: Path, classes: list[str], params, count: int) -> float:
    """This project's pipeline from the array cache."""
    train = load_face_cache(cache, "train", classes)
    batches, _ = cnn.datasets(train, train, params, 0)
    return _fit_seconds(_compiled(params, len(classes)), batches.repeat(), count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=80, help="timed training batches per pipeline")
    parser.add_argument("--arch", default=None, help="cnn.arch to use instead of params.yaml's")
    parser.add_argument("--cache", default="/tmp/face_emotion_benchmark_faces.npz", help="where to write the array cache")
    args = parser.parse_args()
    params = load_params()
    cnn_params = dataclasses.replace(params.cnn, arch=args.arch or params.cnn.arch)
    cnn.configure_threads(cnn_params.threads)
    root = Path(params.data.root) / "train"
    manifest = dataset.build_manifest(dataclasses.replace(params.data, val_fraction=0.0, max_per_class=None), params.seed)
    start = time.perf_counter()
    counts = write_face_cache(manifest, args.cache)
    cache_seconds = time.perf_counter() - start
    images = args.batches * cnn_params.batch_size
    plain = images / plain_seconds(root, params.data.classes, cnn_params, args.batches)
    project = images / project_seconds(Path(args.cache), params.data.classes, cnn_params, args.batches)
    rows = [
        {"pipeline": "plain: image_dataset_from_directory -> fit", "training images/s": round(plain, 1), "ratio": 1.0},
        {"pipeline": "this project: array cache + tf.data (parallel map, prefetch)", "training images/s": round(project, 1),
         "ratio": round(project / plain, 2)},
    ]
    print(f"cnn.arch={cnn_params.arch}, batch {cnn_params.batch_size}, {args.batches} timed batches each, "
          f"{cnn.available_cores()} cores; array cache of {sum(counts.values())} faces built once in {cache_seconds:.1f} s")
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
