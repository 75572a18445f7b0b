"""The evaluate stage's work: every model on the same test faces, unmasked and under each test mask (mask.test_style,
mask.unseen_style), and the mask detector on both: headline metrics, confusion matrices, the full comparison table
and every face's answers; the concept CNN's checks beside them."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from face_emotion import au_models
from face_emotion.au_models.base import AuModel
from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn import mask_detector
from face_emotion.cnn import model as cnn
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
from face_emotion.data.faces import decode_faces, load_face_cache
from face_emotion.evaluation.comparison import (
    FaceModel,
    ModelResult,
    answers,
    au_survival,
    cnn_face_models,
    compare,
    comparison_markdown,
    headline,
)
from face_emotion.evaluation.teachable_machine import MODEL_FILE, find_exports, load_export
from face_emotion.explain.profiles import agreement_score, facs_agreement
from face_emotion.explain.reasons import reasoned


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


def load_detector(paths: Paths) -> object | None:
    """The mask detector (None where train_mask_detector trained none)."""
    return mask_detector.load(paths.mask_detector) if (paths.mask_detector / cnn.MODEL_FILE).is_file() else None


def face_models(params: Params, paths: Paths, cnn_model: object | None) -> tuple[dict[str, FaceModel], dict[str, float]]:
    """The models on raw faces (``cnn_model``, None when the run trained none; any Teachable Machine exports) and
    every model's size in MB (the AU route's: both AU models and the mask detector)."""
    models: dict[str, FaceModel] = {}
    sizes = {AU_MODEL: size_mb(paths.au_model / au_models.MODEL_FILE)}
    if (paths.upper_face_au_model / au_models.MODEL_FILE).is_file():
        sizes[UPPER_FACE_AU_MODEL] = size_mb(paths.upper_face_au_model / au_models.MODEL_FILE)
        if (paths.mask_detector / cnn.MODEL_FILE).is_file():
            sizes[AU_ROUTE] = round(sizes[AU_MODEL] + sizes[UPPER_FACE_AU_MODEL]
                                    + size_mb(paths.mask_detector / cnn.MODEL_FILE), 2)
    if cnn_model is not None:
        models.update(cnn_face_models(cnn_model, params.data.classes, params.evaluate.tta))
        info = cnn.check_role(paths.cnn, cnn.EMOTION_ROLE, "train_cnn")
        if (masked_head := concept_model.masked_head_from_info(info)) is not None:
            concepts = concept_model.Concepts.from_info(info)
            models[CNN_UPPER_FACE] = lambda faces: np.asarray(params.data.classes)[concept_model.masked_head_outputs(
                cnn_model, masked_head, concepts, faces, tta=params.evaluate.tta).argmax(axis=1)]
        sizes.update(dict.fromkeys(models, size_mb(paths.cnn / cnn.MODEL_FILE)))
        if CNN_UPPER_FACE in models and (paths.mask_detector / cnn.MODEL_FILE).is_file():
            sizes[CNN_ROUTE] = round(sizes[CNN_UPPER_FACE] + size_mb(paths.mask_detector / cnn.MODEL_FILE), 2)
    for folder in find_exports(paths.teachable_machine):
        export = load_export(folder)
        unknown = sorted(set(export.labels) - set(params.data.classes))
        if unknown:
            print(f"evaluate: {export.name} also predicts {', '.join(unknown)}; those answers count as errors")
        models[export.name] = export.predict_labels
        sizes[export.name] = size_mb(folder / MODEL_FILE)
    return models, sizes


def said_masked(detector: object | None, faces: np.ndarray) -> np.ndarray | None:
    """The mask detector's verdict per face (None without a detector)."""
    return None if detector is None else mask_detector.is_masked(detector, faces)


def masked_comparison(params: Params, paths: Paths, models: dict[str, AuModel], au_table: pd.DataFrame,
                      face_models: dict[str, FaceModel], detector: object | None, test_set: str) -> MaskedResults | None:
    """Every model on one masked test set (MaskParams.test_sets), its summary (with the AUs that survive the mask),
    each face's answers keyed by the unmasked original's path, and the detector's verdicts (None: no masked faces)."""
    masked_test = read_manifest(paths.masked_manifest(test_set))
    if masked_test.empty:
        return None
    masked_table = read_au_table(paths.masked_au_table(test_set))
    faces = decode_faces(masked_test)
    verdicts = said_masked(detector, faces)
    results = compare(masked_test, faces, masked_table, models, face_models, params.data.classes, verdicts)
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


def concept_checks(paths: Paths, model, faces: np.ndarray, labels: np.ndarray, test: pd.DataFrame,
                   au_table: pd.DataFrame, tta: bool) -> dict[str, float]:
    """The concept CNN's checks on the test faces (fidelity and intervention), its head's FACS agreement and each
    face's answer with its reasons (as predict gives them), written beside the comparison; the headline numbers."""
    info = cnn.check_role(paths.cnn, cnn.EMOTION_ROLE, "train_cnn")
    concepts = concept_model.Concepts.from_info(info)
    numbers, fidelity = concept_model.concept_check(model, concepts, faces, labels,
                                                    concepts.targets(au_table, test.path.to_numpy()))
    write_csv(fidelity, paths.concept_fidelity)
    head = concept_model.head(model, concepts, info["classes"], info["concept_set"])
    agreement = facs_agreement(head)
    write_json(agreement, paths.concept_facs_agreement)
    answers = reasoned(head, concepts.in_units(cnn.concept_outputs(model, faces, tta=tta)[1]))
    write_csv(pd.DataFrame({"path": test.path.to_numpy(), "predicted": [a.emotion for a in answers],
                            "reasons": [a.text for a in answers]}), paths.concept_reasons)
    return {**numbers, "facs_agreement": agreement_score(agreement)}


def evaluate(params: Params, paths: Paths) -> str:
    """Every model on the test faces, unmasked and under each test mask, and the mask detector on both; writes the
    metrics, confusion matrices, comparison details, every face's answers and the comparison table (returned as
    Markdown)."""
    classes = params.data.classes
    models = load_au_models(paths)
    au_table = read_au_table(paths.au_table)
    cnn_model = cnn.load(paths.cnn) if (paths.cnn / cnn.MODEL_FILE).is_file() else None
    others, sizes = face_models(params, paths, cnn_model)
    detector = load_detector(paths)
    test = usable(read_manifest(paths.manifest), "test")
    faces, labels = load_face_cache(paths.faces, "test", classes)
    verdicts = said_masked(detector, faces)
    results = compare(test, faces, au_table, models, others, classes, verdicts)
    masked = {name: found for name in params.mask.test_sets()
              if (found := masked_comparison(params, paths, models, au_table, others, detector, name)) is not None}
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
    if cnn_model is not None and cnn.is_concept_model(cnn_model):
        numbers["cnn_concepts"] = concept_checks(paths, cnn_model, faces, labels, test, au_table, params.evaluate.tta)
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
