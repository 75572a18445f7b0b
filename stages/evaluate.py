"""Stage evaluate: every model on the same test faces, unmasked and under each test mask (mask.test_style,
mask.unseen_style), and the mask detector on both: headline metrics, confusion matrices, the full comparison table
and every face's answers."""

from typing import NamedTuple

import numpy as np
import pandas as pd

from face_emotion import au_model
from face_emotion.au_model.base import AuModel
from face_emotion.cnn import mask_detector
from face_emotion.cnn import model as cnn
from face_emotion.core.config import AuTableData, Params
from face_emotion.core.io import atomic_dir, size_mb, write_csv, write_json, write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import AU_COLUMNS, AU_MODEL, read_au_table, read_manifest, usable
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


class MaskedResults(NamedTuple):
    """Every model on one masked test set."""

    results: dict[str, ModelResult]
    summary: dict
    answers: pd.DataFrame
    faces: np.ndarray


def face_models(params: Params, paths: Paths) -> tuple[dict[str, FaceModel], dict[str, float]]:
    """The models on raw faces (the CNN, any Teachable Machine exports) and every model's size in MB."""
    models: dict[str, FaceModel] = {}
    sizes = {AU_MODEL: size_mb(paths.au_model / au_model.MODEL_FILE)}
    if (paths.cnn / cnn.MODEL_FILE).is_file():
        models.update(cnn_face_models(cnn.load(paths.cnn), params.data.classes, params.evaluate.tta))
        sizes.update(dict.fromkeys(models, size_mb(paths.cnn / cnn.MODEL_FILE)))
    for folder in find_exports(paths.teachable_machine):
        export = load_export(folder)
        unknown = sorted(set(export.labels) - set(params.data.classes))
        if unknown:
            print(f"evaluate: {export.name} also predicts {', '.join(unknown)}; those answers count as errors")
        models[export.name] = export.predict_labels
        sizes[export.name] = size_mb(folder / MODEL_FILE)
    return models, sizes


def masked_comparison(params: Params, paths: Paths, model: AuModel, au_table: pd.DataFrame,
                      models: dict[str, FaceModel], test_set: str) -> MaskedResults | None:
    """Every model on one masked test set (MaskParams.test_sets), its summary (with the AUs that survive the mask),
    each face's answers keyed by the unmasked original's path, and the faces themselves (None: no masked faces)."""
    masked_test = read_manifest(paths.masked_manifest(test_set))
    if masked_test.empty:
        return None
    masked_table = read_au_table(paths.masked_au_table(test_set))
    faces = decode_faces(masked_test)
    results = compare(masked_test, faces, masked_table, model, models, params.data.classes)
    survival = au_survival(au_table, masked_table, list(AU_COLUMNS))
    summary = {"style": params.mask.test_sets()[test_set], "height": params.mask.test_height,
               "models": {name: r.scores for name, r in results.items()},
               "au_r": dict(zip(survival.au, survival.r, strict=True)),
               "measurable": survival.au[survival.measurable].tolist()}
    face_answers = answers(masked_test.source_path, {f"{test_set}_{n}": r for n, r in results.items()})
    return MaskedResults(results, summary, face_answers, faces)


def mask_detection(paths: Paths, unmasked: np.ndarray, masked: dict[str, MaskedResults]) -> dict[str, float]:
    """The mask detector's accuracy per masked test set, on its masked faces and the same faces unmasked."""
    if not (paths.mask_detector / cnn.MODEL_FILE).is_file() or not masked:
        return {}
    detector = mask_detector.load(paths.mask_detector)
    said_unmasked = ~mask_detector.is_masked(detector, unmasked)
    return {name: round(float(np.mean(np.concatenate([said_unmasked, mask_detector.is_masked(detector, m.faces)]))), 4)
            for name, m in masked.items()}


def main(params: Params, paths: Paths) -> None:
    classes = params.data.classes
    model = au_model.load(paths.au_model)
    au_table = read_au_table(paths.au_table)
    models, sizes = face_models(params, paths)
    test = usable(read_manifest(paths.manifest), "test")
    faces, _ = load_face_cache(paths.faces, "test", classes)
    results = compare(test, faces, au_table, model, models, classes)
    masked = {name: found for name in params.mask.test_sets()
              if (found := masked_comparison(params, paths, model, au_table, models, name)) is not None}
    detection = mask_detection(paths, faces, masked)
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
    write_json(headline(results, {name: found.results for name, found in masked.items()}, detection),
               paths.evaluate_metrics)
    summaries = {name: {**found.summary, "mask_detection": detection.get(name)} for name, found in masked.items()}
    write_json({"models": details, "masked": summaries}, paths.comparison_details)
    write_csv(predictions, paths.predictions)
    data = params.data
    reference = (data.reference_model, data.reference_accuracy) if isinstance(data, AuTableData) and \
        data.reference_model and data.reference_accuracy else None
    markdown = comparison_markdown(details, reference, summaries)
    write_text(markdown, paths.comparison)
    print(markdown)


if __name__ == "__main__":
    run_stage(main)
