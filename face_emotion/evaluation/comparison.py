"""Scoring every model on the same test faces: on all of them, on those without a copy in the training data
(dedup), and on their masked copies; the headline numbers for DVC and the full table for people."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from face_emotion import au_models
from face_emotion.au_models.base import AuModel
from face_emotion.core.tables import AU_MODEL, AU_ROUTE, CNN_ROUTE, CNN_UPPER_FACE, NO_FACE, UPPER_FACE_AU_MODEL
from face_emotion.evaluation.scores import confusion_pairs, scores

MEASURABLE_R = 0.5
"""An AU stays measurable under the mask when its masked and unmasked intensities correlate at least this much."""


@dataclass(frozen=True)
class ModelResult:
    """A model's test scores in full and its (actual, predicted) pairs for the confusion matrix."""

    scores: dict[str, object]
    confusion: pd.DataFrame


def _result(test: pd.DataFrame, predicted: np.ndarray, classes: list[str], seconds: float) -> ModelResult:
    overall = scores(test.label, predicted, classes)
    fresh = ~test.in_train.astype(bool).to_numpy()
    deduplicated = scores(test.label[fresh], predicted[fresh], classes)
    details = {
        **overall,
        "dedup": {k: deduplicated[k] for k in ("accuracy", "macro_f1", "n")},
        "images_per_s": round(len(test) / seconds, 1) if seconds > 0 else None,
    }
    return ModelResult(details, confusion_pairs(test.label, predicted))


def evaluate_au_model(test: pd.DataFrame, au_table: pd.DataFrame, model: AuModel) -> ModelResult:
    """The AU model on the test images; faces without a measurement are predicted 'no_face' (errors)."""
    rows = test[["path"]].merge(au_table.drop(columns=["label", "split"]), on="path", how="left", validate="one_to_one")
    rows["success"] = rows.success.fillna(False).astype(bool)
    start = time.perf_counter()
    predicted = au_models.predict_table(model, rows).to_numpy()
    result = _result(test, predicted, model.classes, time.perf_counter() - start)
    result.scores["no_face"] = int((~rows.success).sum())
    return result


def compare(test: pd.DataFrame, au_table: pd.DataFrame, au_models: dict[str, AuModel], face_answers: pd.DataFrame,
            seconds: dict[str, float], classes: list[str], said_masked: np.ndarray | None = None
            ) -> dict[str, ModelResult]:
    """Every model on the same test images (manifest rows): the AU models first, then each model on raw faces from its
    answers (``face_answers``, a column per model in the rows' order; ``seconds``: the time each took, by name); with
    the mask detector's verdict per face (``said_masked``) and both AU models, also the route between them
    (AU_ROUTE), and with a concept CNN's head of masked faces, its route (CNN_ROUTE)."""
    results = {name: evaluate_au_model(test, au_table, model) for name, model in au_models.items()}
    if said_masked is not None and {AU_MODEL, UPPER_FACE_AU_MODEL} <= set(results):
        results[AU_ROUTE] = routed(test, results[AU_MODEL], results[UPPER_FACE_AU_MODEL], said_masked, classes)
    results.update({name: _result(test, face_answers[name].to_numpy(dtype=object), classes, took)
                    for name, took in seconds.items()})
    if said_masked is not None and CNN_UPPER_FACE in results:
        whole = results["cnn_tta" if "cnn_tta" in results else "cnn"]
        results[CNN_ROUTE] = routed(test, whole, results[CNN_UPPER_FACE], said_masked, classes)
    return results


def routed(test: pd.DataFrame, unmasked: ModelResult, masked: ModelResult, said_masked: np.ndarray,
           classes: list[str]) -> ModelResult:
    """The answers of ``masked`` (a model of masked faces) for the faces the detector sees masked, of ``unmasked``
    for the others; ``routed_masked`` counts the former."""
    predicted = np.where(said_masked, masked.confusion.predicted.to_numpy(), unmasked.confusion.predicted.to_numpy())
    result = _result(test, predicted, classes, 0.0)
    result.scores["no_face"] = int((predicted == NO_FACE).sum())
    result.scores["routed_masked"] = int(said_masked.sum())
    return result


def headline(unmasked: dict[str, ModelResult], masked: dict[str, dict[str, ModelResult]],
             detection: dict[str, float]) -> dict[str, dict[str, float]]:
    """Per model the numbers `dvc exp show` compares: accuracy, macro-F1, dedup accuracy, and the accuracy on each
    masked test set (``masked``: set name -> model -> result); the mask detector's accuracy per masked test set."""
    numbers = {name: {"accuracy": r.scores["accuracy"], "macro_f1": r.scores["macro_f1"],
                      "dedup_accuracy": r.scores["dedup"]["accuracy"],  # type: ignore[index]
                      **{f"{test_set}_accuracy": results[name].scores["accuracy"]
                         for test_set, results in masked.items() if name in results}}
               for name, r in unmasked.items()}
    if detection:
        numbers["mask_detector"] = {f"{test_set}_accuracy": accuracy for test_set, accuracy in detection.items()}
    return numbers  # type: ignore[return-value]


def answers(paths: pd.Series, results: dict[str, ModelResult]) -> pd.DataFrame:
    """One row per test face, keyed by ``paths`` (of the unmasked originals): each model's answer."""
    return pd.DataFrame({"path": paths.to_numpy(), **{name: r.confusion.predicted.to_numpy() for name, r in results.items()}})


def au_survival(unmasked: pd.DataFrame, masked: pd.DataFrame, au_columns: list[str]) -> pd.DataFrame:
    """Per AU: the correlation of masked with unmasked intensities on faces measured both ways (the AU too), and a
    verdict.

    ``masked`` rows carry ``source_path``, the path of their unmasked original in ``unmasked``.
    """
    pairs = masked[masked.success].merge(unmasked[unmasked.success], left_on="source_path", right_on="path",
                                         suffixes=("_masked", ""), validate="one_to_one")
    rows = []
    for au in au_columns:
        both = pairs[[au, f"{au}_masked"]].dropna()  # where the AU's region lay in the image both times
        before, after = both[au], both[f"{au}_masked"]
        r = float(np.corrcoef(before, after)[0, 1]) if len(both) > 2 and before.std() > 0 and after.std() > 0 else 0.0
        rows.append({"au": au, "r": round(r, 3), "measurable": r >= MEASURABLE_R})
    return pd.DataFrame(rows)


def comparison_markdown(details: dict[str, dict], reference: tuple[str, float] | None = None,
                        masked: dict[str, dict] | None = None) -> str:
    """One table: a row per model, overall and de-duplicated scores, and per-class F1; a published reference;
    then the same models on each masked test set and the AUs that survive the mask."""
    classes = list(next(iter(details.values()))["per_class"])
    header = ["model", "accuracy", "macro-F1", "accuracy (dedup)", "macro-F1 (dedup)", "no face", "images/s", "size (MB)",
              *[f"F1 {c}" for c in classes]]
    lines = ["# Model comparison (test split)", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, m in details.items():
        cells = [name, f"{m['accuracy']:.4f}", f"{m['macro_f1']:.4f}", f"{m['dedup']['accuracy']:.4f}",
                 f"{m['dedup']['macro_f1']:.4f}", str(m.get("no_face", "-")), str(m["images_per_s"]), str(m.get("size_mb", "-")),
                 *[f"{m['per_class'][c]['f1']:.3f}" for c in classes]]
        lines.append("| " + " | ".join(cells) + " |")
    if reference:
        lines.append(f"| {reference[0]} | {reference[1]:.4f} |" + " |" * (len(header) - 2))
    n = next(iter(details.values()))
    lines += ["", f"{n['n']} test faces; dedup: the {n['dedup']['n']} without an exact copy in the training data. "
              "'no face': faces the AU model could not measure, counted as errors."]
    for test_set, summary in (masked or {}).items():
        lines += ["", *masked_markdown(details, test_set, summary)]
    return "\n".join(lines) + "\n"


def masked_markdown(details: dict[str, dict], test_set: str, masked: dict) -> list[str]:
    """One masked test set: each model's scores with the lower face covered, per-class F1 beside the unmasked one,
    the mask detector's accuracy, and which AUs stay measurable."""
    models: dict[str, dict] = masked["models"]
    classes = list(next(iter(models.values()))["per_class"])
    unseen = " (a style training never draws)" if test_set == "unseen_mask" else ""
    lines = [f"## {test_set}: the lower face under a {masked['style']} mask over {masked['height']:.0%} of the face"
             f"{unseen}", "",
             "| model | accuracy | macro-F1 | accuracy change | no face | " + " | ".join(f"F1 {c} (unmasked)" for c in classes)
             + " |", "|---|---|---|---|---|" + "---|" * len(classes)]
    for name, m in models.items():
        change = m["accuracy"] - details[name]["accuracy"]
        per_class = [f"{m['per_class'][c]['f1']:.3f} ({details[name]['per_class'][c]['f1']:.3f})" for c in classes]
        lines.append(f"| {name} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {change:+.4f} | {m.get('no_face', '-')} | "
                     + " | ".join(per_class) + " |")
    if masked.get("mask_detection") is not None:
        lines += ["", f"Mask detector: {masked['mask_detection']:.4f} accuracy on these masked faces and the same faces "
                  "unmasked."]
    au_r: dict[str, float] = masked["au_r"]
    kept: list[str] = masked["measurable"]
    lost = [au for au in au_r if au not in kept]
    lines += ["", f"AUs still measurable under the mask (masked vs unmasked intensity, r >= {MEASURABLE_R}): "
              f"{', '.join(kept) or 'none'}; lost: {', '.join(lost) or 'none'}.", "",
              "| AU | r |", "|---|---|", *[f"| {au} | {r:.3f} |" for au, r in au_r.items()]]
    return lines
