"""Scoring predictions the same way for every model: accuracy, macro-F1, per-class report, confusion pairs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from face_emotion import au_models
from face_emotion.au_models.base import AuModel
from face_emotion.core.io import size_mb


def scores(actual: Sequence[str], predicted: Sequence[str], classes: list[str]) -> dict[str, object]:
    """Accuracy and macro-F1 over ``classes``; predictions outside them (e.g. 'no_face') count as errors."""
    actual, predicted = list(actual), list(predicted)
    if not actual:
        return {"accuracy": 0.0, "macro_f1": 0.0, "n": 0, "per_class": {}}
    precision, recall, f1, _ = precision_recall_fscore_support(
        actual, predicted, labels=classes, zero_division=0)
    per_class = {c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4)}
                 for c, p, r, f in zip(classes, precision, recall, f1, strict=True)}
    return {
        "accuracy": round(float(accuracy_score(actual, predicted)), 4),
        "macro_f1": round(float(f1_score(actual, predicted, labels=classes, average="macro", zero_division=0)), 4),
        "n": len(actual),
        "per_class": per_class,
    }


def confusion_pairs(actual: Sequence[str], predicted: Sequence[str]) -> pd.DataFrame:
    """One row per image (actual, predicted): the input of DVC's confusion-matrix template."""
    return pd.DataFrame({"actual": list(actual), "predicted": list(predicted)})


def training_metrics(model: AuModel, table: pd.DataFrame, folder: Path) -> dict[str, object]:
    """What a stage that trains an AU model reports: accuracy and macro-F1 on the table's val rows (unmeasured faces
    counted wrong), the number of terms and the size of model.json."""
    metrics: dict[str, object] = {"terms": model.n_terms, "size_mb": size_mb(folder / au_models.MODEL_FILE)}
    val = table[table.split == "val"]
    if len(val):
        val_scores = scores(val.label, au_models.predict_table(model, val), model.classes)
        metrics = {"val_accuracy": val_scores["accuracy"], "val_macro_f1": val_scores["macro_f1"], **metrics}
    return metrics
