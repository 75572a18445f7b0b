"""Benchmark: AU-model variants on the AU tables of a full run (`make run` first).

    python benchmarks/au_model_variants.py                               # the variants docs/models.md discusses
    python benchmarks/au_model_variants.py "au_model=additive au_model.knots=5" "au_model.C=0.1"
    python benchmarks/au_model_variants.py --split val                   # scored on the validation split
    python benchmarks/au_model_variants.py --gradient-boosting           # adds the non-additive reference

Each variant is a space-separated list of overrides of conf/'s defaults, as `dvc exp run -S` takes them. It is fitted
with the train_au_model stage's own function on the training split of the pipeline's AU table and scored as evaluate
scores (test split, unmeasured faces counted wrong), unmasked and on the masked test faces. ``--split val`` scores on
the validation split, to choose between variants without looking at the test faces. Prints one Markdown table and
records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from face_emotion import au_models
from face_emotion.core.config import compose_conf, parse_params
from face_emotion.core.feature_sets import FEATURE_SETS, feature_matrix
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import NO_FACE, read_au_table
from face_emotion.evaluation.scores import scores
from face_emotion.explain.profiles import facs_agreement
from face_emotion.reporting.results import record_benchmark

VARIANTS = [
    "au_model.class_weight=balanced", "au_model.class_weight=null", "au_model.features=au17_pairs",
    "au_model.features=blendshapes", "au_model.features=au17_geometry au_model.class_weight=null",
    "au_model.features=au17_pairs_geometry_blendshapes au_model.class_weight=null",
    "au_model=additive au_model.features=au17 au_model.knots=5",
    "au_model=additive au_model.features=au17_geometry au_model.knots=3",
    "au_model=additive au_model.features=au17_geometry au_model.knots=5",
    "au_model=additive au_model.features=au17_pairs_geometry_blendshapes au_model.knots=5",
    "au_model=pairwise au_model.features=au17_geometry au_model.rounds=2000",
    "au_model=pairwise",
]
REFERENCE_FEATURES = "au17_geometry"
"""The gradient-boosting reference sees these and the 52 blendshapes."""


def model_size(model: au_models.AuModel) -> str:
    """Terms (pairs) of a pairwise model and its model.json size."""
    with tempfile.TemporaryDirectory() as folder:
        au_models.save(model, folder, {})
        megabytes = (Path(folder) / au_models.MODEL_FILE).stat().st_size / 1e6
    terms = getattr(model, "terms_", None)
    pairs = f"{len(terms):,} ({sum(len(t['features']) == 2 for t in terms):,})" if terms is not None else "-"
    return f"{pairs} | {megabytes:.2f} MB"


def gradient_boosting(table: pd.DataFrame, classes: list[str], seed: int, split: str) -> dict[str, object]:
    """HistGradientBoosting (interactions of any order, not additive): how much the features hold."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = list(FEATURE_SETS[REFERENCE_FEATURES] + FEATURE_SETS["blendshapes"])
    train = table[(table.split == "train") & table.success.astype(bool)]
    test = table[table.split == split]
    model = HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05, random_state=seed)
    model.fit(feature_matrix(train, features), train.label)
    predicted = pd.Series(NO_FACE, index=test.index, dtype=object)
    measured = test.success.astype(bool)
    predicted[measured] = model.predict(feature_matrix(test[measured], features))
    return scores(test.label, predicted, classes)


def variant_row(variant: str, table: pd.DataFrame, masked: pd.DataFrame | None, split: str) -> dict[str, object]:
    params = parse_params(compose_conf(*variant.split()))
    classes, scored = params.data.classes, table[table.split == split]
    start = time.perf_counter()
    model = au_models.fit_table(table[table.split == "train"], params.au_model, classes, params.seed)
    seconds = time.perf_counter() - start
    unmasked = scores(scored.label, au_models.predict_table(model, scored), classes)
    hits = facs_agreement(model)
    per_class = unmasked["per_class"]
    return {"variant": variant or "(defaults)", "accuracy": unmasked["accuracy"], "macro-F1": unmasked["macro_f1"],
            "masked accuracy": scores(masked.label, au_models.predict_table(model, masked), classes)["accuracy"]
            if masked is not None else "-",
            "FACS angry / disgust / happy / sad / surprise": " / ".join(
                str(hits[e]["hits"]) if e in hits else "-" for e in ("angry", "disgust", "happy", "sad", "surprise")),
            "F1 angry / disgust / sad": " / ".join(f"{per_class[e]['f1']:.2f}" for e in ("angry", "disgust", "sad")),
            "fit s": round(seconds), "terms (pairs) | model.json": model_size(model)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=VARIANTS, help="overrides, e.g. 'au_model=additive au_model.knots=5'")
    parser.add_argument("--gradient-boosting", action="store_true", help="also the non-additive reference")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="the split scored")
    args = parser.parse_args()
    paths = load_paths()
    table = read_au_table(paths.au_table)
    masked = read_au_table(paths.masked_au_table("masked")) if args.split == "test" else None  # the masked faces are test faces
    rows = []
    for variant in args.variants:
        rows.append(variant_row(variant, table, masked, args.split))
        print(rows[-1], flush=True)
    if args.gradient_boosting:
        params = parse_params(compose_conf())
        reference = gradient_boosting(table, params.data.classes, params.seed, args.split)
        rows.append({"variant": f"HistGradientBoosting on {REFERENCE_FEATURES} + blendshapes (not additive)",
                     "accuracy": reference["accuracy"], "macro-F1": reference["macro_f1"]})
    name = "au_model_variants" + ("_val" if args.split == "val" else "")
    print(record_benchmark(name, "python benchmarks/au_model_variants.py " + shlex.join(sys.argv[1:]), rows,
                           f"Scored on the {args.split} split of the pipeline's AU table."))


if __name__ == "__main__":
    main()
