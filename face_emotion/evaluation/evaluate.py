"""The evaluate stage's work: every model on the same test faces, unmasked and under each test mask (mask.test_style,
mask.unseen_style), and the mask detector on both: headline metrics, confusion matrices, the full comparison table
and every face's answers. The models on raw faces come as their answers (answer_faces), the AU models run here."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from face_emotion import au_models
from face_emotion.au_models.base import AuModel
from face_emotion.core.config import AuTableData, Params
from face_emotion.core.io import atomic_dir, size_mb, write_csv, write_json, write_text
from face_emotion.core.paths import Paths
from face_emotion.core.tables import (
    AU_COLUMNS,
    AU_MODEL,
    AU_ROUTE,
    CNN_ROUTE,
    CNN_UPPER_FACE,
    UPPER_FACE_AU_MODEL,
    read_au_table,
    read_manifest,
    usable,
)
from face_emotion.evaluation.comparison import ModelResult, answers, au_survival, compare, comparison_markdown, headline
from face_emotion.evaluation.face_answers import MASK_DETECTOR, TEST, FaceAnswers


class MaskedResults(NamedTuple):
    """Every model on one masked test set, and which of its faces the mask detector sees masked (None: no detector)."""

    results: dict[str, ModelResult]
    summary: dict
    answers: pd.DataFrame
    said_masked: np.ndarray | None


def load_au_models(paths: Paths) -> dict[str, AuModel]:
    """The AU model, and the masked-face AU model where train_upper_face_au_model trained one."""
    models = {AU_MODEL: au_models.load(paths.au_model)}
    if (paths.upper_face_au_model / au_models.MODEL_FILE).is_file():
        models[UPPER_FACE_AU_MODEL] = au_models.load(paths.upper_face_au_model, "train_upper_face_au_model")
    return models


def sizes_mb(paths: Paths, found: FaceAnswers) -> dict[str, float]:
    """Every model's size in MB: the AU models', the models' on raw faces (answer_faces), and each route's (a model of
    masked faces and the mask detector that routes to it, the AU route with its model of unmasked faces)."""
    sizes = {AU_MODEL: size_mb(paths.au_model / au_models.MODEL_FILE)}
    detector = found.sizes.get(MASK_DETECTOR)
    if (paths.upper_face_au_model / au_models.MODEL_FILE).is_file():
        sizes[UPPER_FACE_AU_MODEL] = size_mb(paths.upper_face_au_model / au_models.MODEL_FILE)
        if detector is not None:
            sizes[AU_ROUTE] = round(sizes[AU_MODEL] + sizes[UPPER_FACE_AU_MODEL] + detector, 2)
    sizes.update({name: found.sizes[name] for name in found.models})
    if CNN_UPPER_FACE in found.models and detector is not None:
        sizes[CNN_ROUTE] = round(found.sizes[CNN_UPPER_FACE] + detector, 2)
    return sizes


def verdicts_of(rows: pd.DataFrame) -> np.ndarray | None:
    """The mask detector's verdicts in a face set's answers (None: the run has no detector)."""
    return rows[MASK_DETECTOR].to_numpy(dtype=bool) if MASK_DETECTOR in rows else None


def masked_comparison(params: Params, paths: Paths, models: dict[str, AuModel], au_table: pd.DataFrame,
                      found: FaceAnswers, test_set: str) -> MaskedResults | None:
    """Every model on one masked test set (MaskParams.test_sets), its summary (with the AUs that survive the mask),
    each face's answers keyed by the unmasked original's path, and the detector's verdicts (None: no masked faces)."""
    masked_test = read_manifest(paths.masked_manifest(test_set))
    if masked_test.empty:
        return None
    masked_table = read_au_table(paths.masked_au_table(test_set))
    face_answers = found.of(test_set, masked_test.path)
    verdicts = verdicts_of(face_answers)
    results = compare(masked_test, masked_table, models, face_answers, found.seconds.get(test_set, {}),
                      params.data.classes, verdicts)
    survival = au_survival(au_table, masked_table, list(AU_COLUMNS))
    summary = {"style": params.mask.test_sets()[test_set], "height": params.mask.test_height,
               "models": {name: r.scores for name, r in results.items()},
               "au_r": dict(zip(survival.au, survival.r, strict=True)),
               "measurable": survival.au[survival.measurable].tolist()}
    face_answers = answers(masked_test.source_path, {f"{test_set}_{n}": r for n, r in results.items()})
    return MaskedResults(results, summary, face_answers, verdicts)


def mask_detection(unmasked: np.ndarray | None, masked: dict[str, MaskedResults]) -> dict[str, float]:
    """The mask detector's accuracy per masked test set, on its masked faces and the same faces unmasked (from its
    verdicts: ``unmasked`` on the test faces as they are)."""
    if unmasked is None:
        return {}
    return {name: round(float(np.mean(np.concatenate([~unmasked, m.said_masked]))), 4) for name, m in masked.items()
            if m.said_masked is not None}


def detector_verdicts(test: pd.DataFrame, unmasked: np.ndarray, masked: dict[str, MaskedResults]) -> pd.DataFrame:
    """Per test face (path, label): the mask detector's verdict on it (``masked``) and on its copy in each masked test
    set (``<test set>_masked``): the routes the AU route took."""
    verdicts = pd.DataFrame({"path": test.path.to_numpy(), "label": test.label.to_numpy(), "masked": unmasked})
    for name, found in masked.items():
        if found.said_masked is not None:
            copies = pd.DataFrame({"path": found.answers.path.to_numpy(), f"{name}_masked": found.said_masked})
            verdicts = verdicts.merge(copies, on="path", how="left", validate="one_to_one")
    return verdicts


def evaluate(params: Params, paths: Paths) -> str:
    """Every model on the test faces, unmasked and under each test mask, and the mask detector on both; writes the
    metrics, confusion matrices, comparison details, every face's answers and the comparison table (returned as
    Markdown)."""
    classes = params.data.classes
    models = load_au_models(paths)
    au_table = read_au_table(paths.au_table)
    face_answers = FaceAnswers.read(paths)
    sizes = sizes_mb(paths, face_answers)
    test = usable(read_manifest(paths.manifest), TEST)
    test_answers = face_answers.of(TEST, test.path)
    verdicts = verdicts_of(test_answers)
    results = compare(test, au_table, models, test_answers, face_answers.seconds.get(TEST, {}), classes, verdicts)
    masked = {name: found for name in params.mask.test_sets()
              if (found := masked_comparison(params, paths, models, au_table, face_answers, name)) is not None}
    detection = mask_detection(verdicts, masked)
    details = {name: {**r.scores, "size_mb": sizes[name]} for name, r in results.items()}
    predictions = answers(test.path, results)
    for found in masked.values():
        predictions = predictions.merge(found.answers, on="path", how="left", validate="one_to_one")
    predictions.insert(1, "label", test.label.to_numpy())
    with atomic_dir(paths.confusion) as folder:
        confusions = [*results.items(), *((f"{name}_{n}", r) for name, found in masked.items()
                                          for n, r in found.results.items())]
        for name, result in confusions:
            write_csv(result.confusion, folder / f"{name}.csv")
    numbers = headline(results, {name: found.results for name, found in masked.items()}, detection)
    if face_answers.cnn_concepts is not None:
        numbers["cnn_concepts"] = face_answers.cnn_concepts
    write_json(numbers, paths.evaluate_metrics)
    summaries = {name: {**found.summary, "mask_detection": detection.get(name)} for name, found in masked.items()}
    write_json({"models": details, "masked": summaries, "concepts": numbers.get("cnn_concepts")},
               paths.comparison_details)
    write_csv(predictions, paths.predictions)
    if verdicts is not None:
        write_csv(detector_verdicts(test, verdicts, masked), paths.mask_detection)
    data = params.data
    reference = (data.reference_model, data.reference_accuracy) if isinstance(data, AuTableData) and \
        data.reference_model and data.reference_accuracy else None
    markdown = comparison_markdown(details, reference, summaries)
    write_text(markdown, paths.comparison)
    return markdown
