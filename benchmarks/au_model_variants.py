"""Benchmark: AU-model variants (feature set, knots, C, class weight) on the AU tables of a full run.

    python benchmarks/au_model_variants.py                          # the README's variant tables
    python benchmarks/au_model_variants.py au17:5:1:null au17:0:0.1:balanced
    python benchmarks/au_model_variants.py --gradient-boosting      # adds the non-additive reference
    python benchmarks/au_model_variants.py --split val              # scored on the validation split instead
    python benchmarks/au_model_variants.py au17_geometry:0:1:null:2000   # the pairwise model, 2000 rounds

Each variant is ``features:knots:C:class_weight`` with an optional ``:pair_rounds`` (the pairwise model), fitted
with the train_logreg stage's own function on the training split of ``features/au.csv`` and scored like evaluate
does (test split, unmeasured faces counted wrong), unmasked and on ``features/au_masked.csv`` (test faces only).
``--split val`` scores on the validation split, to choose between variants without looking at the test faces.
Prints one Markdown table; for the pairwise model also its terms (pairs among them) and the size of its model.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd

from face_emotion import explain, logreg
from face_emotion.au.table import read_au_table
from face_emotion.config import load_params
from face_emotion.evaluation import scores

README_VARIANTS = [
    "au17:0:1:balanced", "au17:0:1:null", "au17_pairs:0:1:balanced", "blendshapes:0:1:balanced", "both:0:1:null",
    "au17_geometry:0:1:balanced", "au17_geometry:0:1:null", "au17_pairs_geometry:0:1:balanced",
    "au17_pairs_geometry:0:1:null", "au17_pairs_geometry_blendshapes:0:1:null",
    "au17:5:1:balanced", "au17:5:1:null", "au17_geometry:5:1:balanced", "au17_geometry:3:1:null",
    "au17_geometry:5:1:null", "au17_geometry:8:1:null", "au17_pairs_geometry:5:1:null",
    "au17_pairs_geometry_blendshapes:5:1:null", "au17_pairs_geometry_blendshapes:8:1:null",
    "au17_pairs_geometry_blendshapes:5:0.1:null",
    "au17_pairs_geometry_blendshapes:5:1:balanced",
    "au17:0:1:null:2000", "au17_geometry:0:1:null:1000", "au17_geometry:0:1:null:2000", "au17_geometry:0:1:null:4000",
    "au17_geometry:0:1:balanced:2000", "au17_pairs_geometry_blendshapes:0:1:null:2000",
]
REFERENCE_FEATURES = "au17_geometry"
"""The gradient-boosting reference sees these and the 52 blendshapes."""


def variant_params(spec: str, base: logreg.LogregParams) -> logreg.LogregParams:
    features, knots, c, class_weight, *pair_rounds = spec.split(":")
    return dataclasses.replace(base, features=features, knots=int(knots), C=float(c),
                               class_weight=None if class_weight == "null" else class_weight,
                               pair_rounds=int(pair_rounds[0]) if pair_rounds else 0)


def saved_size(model: logreg.AuModel) -> str:
    """Terms (pairs) and model.json size of a pairwise model, '- | -' for the others."""
    if model.terms is None:
        return "- | -"
    with tempfile.TemporaryDirectory() as folder:
        model.save(Path(folder) / "model.json")
        megabytes = (Path(folder) / "model.json").stat().st_size / 1e6
    pairs = sum(len(term["features"]) == 2 for term in model.terms)
    return f"{len(model.terms):,} ({pairs:,}) | {megabytes:.1f} MB"


def gradient_boosting(table: pd.DataFrame, classes: list[str], seed: int, split: str) -> dict[str, float]:
    """HistGradientBoosting (interactions of any order, not additive): how much the features hold."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    features = list(logreg.FEATURE_SETS[REFERENCE_FEATURES] + logreg.FEATURE_SETS["blendshapes"])
    train = table[(table.split == "train") & table.success.astype(bool)]
    test = table[table.split == split]
    model = HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05, random_state=seed)
    model.fit(logreg.feature_matrix(train, features), train.label)
    predicted = pd.Series("no_face", index=test.index, dtype=object)
    measured = test.success.astype(bool)
    predicted[measured] = model.predict(logreg.feature_matrix(test[measured], features))
    return scores(test.label, predicted, classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="*", default=README_VARIANTS, help="features:knots:C:class_weight[:pair_rounds]")
    parser.add_argument("--table", default="features/au.csv")
    parser.add_argument("--masked-table", default="features/au_masked.csv")
    parser.add_argument("--gradient-boosting", action="store_true", help="also the non-additive reference")
    parser.add_argument("--split", default="test", choices=("test", "val"), help="the split scored")
    args = parser.parse_args()
    params = load_params()
    classes = params.data.classes
    table = read_au_table(args.table)
    masked = read_au_table(args.masked_table) if args.split == "test" else None  # the masked faces are test faces
    train, scored = table[table.split == "train"], table[table.split == args.split]
    print("| features | knots | C | class_weight | pair rounds | accuracy | macro-F1 | masked accuracy "
          "| FACS happy / sad / surprise | F1 angry / disgust / sad | fit s | terms (pairs) | model.json |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for spec in args.variants:
        variant = variant_params(spec, params.logreg)
        start = time.perf_counter()
        model = logreg.fit(train, classes, variant, params.seed)
        seconds = time.perf_counter() - start
        unmasked = scores(scored.label, logreg.predict_table(model, scored), classes)
        masked_accuracy = "-"
        if masked is not None:
            masked_accuracy = f"{scores(masked.label, logreg.predict_table(model, masked), classes)['accuracy']:.4f}"
        hits = explain.facs_agreement(model)
        facs = " / ".join(str(hits[e]["hits"]) if e in hits else "-" for e in ("happy", "sad", "surprise"))
        per_class = unmasked["per_class"]
        f1 = " / ".join(f"{per_class[e]['f1']:.2f}" if e in per_class else "-" for e in ("angry", "disgust", "sad"))
        print(f"| `{variant.features}` | {variant.knots} | {variant.C:g} | {variant.class_weight or 'null'} "
              f"| {variant.pair_rounds or '-'} "
              f"| {unmasked['accuracy']:.4f} | {unmasked['macro_f1']:.4f} | {masked_accuracy} "
              f"| {facs} | {f1} | {seconds:.0f} | {saved_size(model)} |", flush=True)
    if args.gradient_boosting:
        reference = gradient_boosting(table, classes, params.seed, args.split)
        print(f"| HistGradientBoosting on `{REFERENCE_FEATURES}` + blendshapes (not additive) | - | - | null | - "
              f"| {reference['accuracy']:.4f} | {reference['macro_f1']:.4f} | - | - | - | - | - | - |")


if __name__ == "__main__":
    main()
