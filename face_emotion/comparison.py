"""Scoring every model on the same test images, on all of them and on those without a copy in train."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion import cnn, logreg
from face_emotion.evaluation import confusion_pairs, scores
from face_emotion.faces import load_faces
from face_emotion.masking import MEASURABLE_R

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


FaceModel = Callable[[np.ndarray], np.ndarray]
"""A model on raw faces: (n, 48, 48, 1) uint8 faces in, n class names out."""


def cnn_face_models(model_path: str | Path, classes: list[str], tta: bool) -> dict[str, FaceModel]:
    """The pipeline's CNN (loaded in Keras safe mode) as a FaceModel, and with ``tta`` also as 'cnn_tta'
    (each face's prediction averaged with its mirror image's)."""
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True)
    names = {"cnn": False, **({"cnn_tta": True} if tta else {})}
    return {name: (lambda faces, flip=flip: np.asarray(classes)[cnn.predict_proba(model, faces, tta=flip).argmax(axis=1)])
            for name, flip in names.items()}


def evaluate_face_model(test: pd.DataFrame, faces: np.ndarray, model: FaceModel, classes: list[str]) -> ModelResult:
    """A model on raw faces, on the test images decoded once into ``faces``."""
    start = time.perf_counter()
    predicted = model(faces)
    return _result(test, predicted, classes, time.perf_counter() - start)


def answers(paths: pd.Series, results: dict[str, ModelResult]) -> pd.DataFrame:
    """One row per test face, keyed by ``paths`` (of the unmasked originals): each model's answer."""
    return pd.DataFrame({"path": paths.to_numpy(), **{name: r.confusion.predicted.to_numpy() for name, r in results.items()}})


def size_mb(path: str | Path) -> float:
    """Size on disk of a model file, or of every file in a model folder, in MB."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(f.stat().st_size for f in files) / 1e6, 3)


def compare(test: pd.DataFrame, au_table: pd.DataFrame, au_model: logreg.AuModel, face_models: dict[str, FaceModel],
            classes: list[str]) -> dict[str, ModelResult]:
    """Every model on the same test images (manifest rows), keyed by model name, the AU model first."""
    results = {"logreg": evaluate_au_model(test, au_table, au_model)}
    if face_models:
        faces, _ = load_faces(test, classes)
        results.update({name: evaluate_face_model(test, faces, model, classes) for name, model in face_models.items()})
    return results


def comparison_markdown(metrics: dict[str, dict], reference: tuple[str, float] | None = None,
                        masked: dict[str, object] | None = None) -> str:
    """One table: a row per model, overall and de-duplicated scores, and per-class F1; a published reference;
    then the same models on masked faces and the AUs that survive the mask."""
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
    if masked:
        lines += ["", *masked_markdown(metrics, masked)]
    return "\n".join(lines) + "\n"


def masked_markdown(metrics: dict[str, dict], masked: dict[str, object]) -> list[str]:
    """The masked comparison: each model's scores with the lower face covered, and which AUs stay measurable."""
    models: dict[str, dict] = masked["models"]  # type: ignore[assignment]
    lines = [f"## With the lower face masked ({masked['shape']} mask over {masked['height']:.0%} of the face)", "",
             "| model | accuracy | macro-F1 | accuracy change | no face |", "|---|---|---|---|---|"]
    for name, m in models.items():
        change = m["accuracy"] - metrics[name]["accuracy"]
        lines.append(f"| {name} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {change:+.4f} | {m.get('no_face', '-')} |")
    au_r: dict[str, float] = masked["au_r"]  # type: ignore[assignment]
    kept = [au for au, r in au_r.items() if r >= MEASURABLE_R]
    lost = [au for au, r in au_r.items() if r < MEASURABLE_R]
    lines += ["", f"AUs still measurable under the mask (masked vs unmasked intensity, r >= {MEASURABLE_R}): "
              f"{', '.join(kept) or 'none'}; lost: {', '.join(lost) or 'none'}.", "",
              "| AU | r |", "|---|---|", *[f"| {au} | {r:.3f} |" for au, r in au_r.items()]]
    return lines
