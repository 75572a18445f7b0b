"""Scoring every model on the same test images, on all of them and on those without a copy in train."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion import cnn, logreg
from face_emotion.evaluation import confusion_pairs, scores
from face_emotion.faces import load_faces, usable

NO_FACE = "no_face"


@dataclass(frozen=True)
class ModelResult:
    """A model's test metrics and its (actual, predicted) pairs for the confusion matrix."""

    metrics: dict[str, object]
    confusion: pd.DataFrame


def _result(test: pd.DataFrame, predicted: np.ndarray, classes: list[str], seconds: float) -> ModelResult:
    overall = scores(test.label, predicted, classes)
    fresh = ~test.in_train.astype(bool).to_numpy()
    deduplicated = scores(test.label[fresh], predicted[fresh], classes)
    metrics = {
        **overall,
        "dedup": {k: deduplicated[k] for k in ("accuracy", "macro_f1", "n")},
        "images_per_s": round(len(test) / seconds, 1) if seconds > 0 else None,
    }
    return ModelResult(metrics, confusion_pairs(test.label, predicted))


def evaluate_au_model(test: pd.DataFrame, au_table: pd.DataFrame, model: logreg.AuModel) -> ModelResult:
    """The AU model on the test images; faces without a measurement are predicted 'no_face' (errors)."""
    rows = test[["path"]].merge(au_table.drop(columns=["label", "split"]), on="path", how="left", validate="one_to_one")
    rows["success"] = rows.success.fillna(False).astype(bool)
    start = time.perf_counter()
    predicted = logreg.predict_table(model, rows, no_face=NO_FACE).to_numpy()
    result = _result(test, predicted, model.classes, time.perf_counter() - start)
    result.metrics["no_face"] = int((~rows.success).sum())
    return result


def evaluate_cnn(test: pd.DataFrame, model_path: str, classes: list[str]) -> ModelResult:
    """The CNN on the same test images (loaded in Keras safe mode)."""
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True)
    faces, _ = load_faces(test, classes)
    start = time.perf_counter()
    probabilities = cnn.predict_proba(model, faces)
    predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
    return _result(test, predicted, classes, time.perf_counter() - start)


def size_mb(path: str | Path) -> float:
    """Size on disk of a model file, or of every file in a model folder, in MB."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(f.stat().st_size for f in files) / 1e6, 3)


def compare(manifest: pd.DataFrame, au_table: pd.DataFrame, au_model: logreg.AuModel, cnn_path: str,
            classes: list[str]) -> dict[str, ModelResult]:
    """Every trained model on the manifest's usable test images, keyed by model name (no CNN without images)."""
    test = usable(manifest, "test")
    results = {"logreg": evaluate_au_model(test, au_table, au_model)}
    if Path(cnn_path).is_file():
        results["cnn"] = evaluate_cnn(test, cnn_path, classes)
    return results


def comparison_markdown(metrics: dict[str, dict], reference: tuple[str, float] | None = None) -> str:
    """One table: a row per model, overall and de-duplicated scores, and per-class F1; a published reference."""
    classes = list(next(iter(metrics.values()))["per_class"])
    header = ["model", "accuracy", "macro-F1", "accuracy (dedup)", "macro-F1 (dedup)", "no face", "images/s", "size (MB)",
              *[f"F1 {c}" for c in classes]]
    lines = ["# Model comparison (test split)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, m in metrics.items():
        cells = [name, f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}", f"{m['dedup']['accuracy']:.4f}",
                 f"{m['dedup']['macro_f1']:.4f}", str(m.get("no_face", "-")), str(m["images_per_s"]), str(m.get("size_mb", "-")),
                 *[f"{m['per_class'][c]['f1']:.3f}" for c in classes]]
        lines.append("| " + " | ".join(cells) + " |")
    if reference:
        lines.append(f"| {reference[0]} | {reference[1]:.4f} |" + " |" * (len(header) - 2))
    n = next(iter(metrics.values()))
    lines += ["", f"{n['n']} test faces; dedup: the {n['dedup']['n']} without an exact copy in the training data. "
              "'no face': faces the AU model could not measure, counted as errors."]
    return "\n".join(lines) + "\n"
