"""Stage evaluate: every model on the same test images, unmasked and masked; metrics, confusion matrices, table."""

from pathlib import Path

import pandas as pd

from face_emotion import dataset, logreg
from face_emotion.atomic import atomic_dir, write_csv, write_json, write_text
from face_emotion.au.mapping import AU_COLUMNS
from face_emotion.au.table import read_au_table
from face_emotion.comparison import FaceModel, ModelResult, answers, cnn_face_models, compare, comparison_markdown, size_mb
from face_emotion.config import Params
from face_emotion.faces import usable
from face_emotion.masking import au_survival
from face_emotion.stage import run_stage
from face_emotion.teachable_machine import MODEL_FILE, find_exports, load_export
from stages.mask_test import MASKED_AU_TABLE, MASKED_MANIFEST

MANIFEST = "features/manifest.csv"
AU_TABLE = "features/au.csv"
LOGREG_MODEL = "models/logreg/model.json"
CNN_MODEL = "models/cnn/model.keras"  # absent when the data has no images
METRICS = "metrics/evaluate.json"
CONFUSION_DIR = "plots/confusion"
COMPARISON = "reports/comparison.md"
COMPARISON_JSON = "reports/comparison.json"
PREDICTIONS = "reports/predictions.csv"


def face_models(params: Params) -> tuple[dict[str, FaceModel], dict[str, float]]:
    """The models on raw faces (the CNN, any Teachable Machine exports) and their sizes in MB."""
    models: dict[str, FaceModel] = {}
    sizes = {"logreg": size_mb(LOGREG_MODEL)}
    if Path(CNN_MODEL).is_file():
        models.update(cnn_face_models(CNN_MODEL, params.data.classes, params.cnn.tta))
        sizes.update(dict.fromkeys(models, size_mb(CNN_MODEL)))
    for folder in find_exports(params.evaluate.teachable_machine_dir):
        export = load_export(folder)
        unknown = sorted(set(export.labels) - set(params.data.classes))
        if unknown:
            print(f"evaluate: {export.name} also predicts {', '.join(unknown)}; those answers count as errors")
        models[export.name] = export.predict_labels
        sizes[export.name] = size_mb(folder / MODEL_FILE)
    return models, sizes


def _metrics(results: dict[str, ModelResult]) -> dict[str, dict]:
    return {name: result.metrics for name, result in results.items()}


def masked_comparison(params: Params, au_model: logreg.AuModel, au_table: pd.DataFrame, models: dict[str, FaceModel]
                      ) -> tuple[dict | None, dict[str, ModelResult], pd.DataFrame]:
    """Every model on the masked test faces, the AUs that survive the mask, and each face's answers."""
    masked_test = dataset.read_manifest(MASKED_MANIFEST)
    if masked_test.empty:
        return None, {}, pd.DataFrame(columns=["path"])
    masked_table = read_au_table(MASKED_AU_TABLE)
    results = compare(masked_test, masked_table, au_model, models, params.data.classes)
    survival = au_survival(au_table, masked_table, list(AU_COLUMNS))
    summary = {"shape": params.evaluate.mask.shape, "height": params.evaluate.mask.height,
               "models": _metrics(results), "au_r": dict(zip(survival.au, survival.r, strict=True))}
    results = {f"masked_{name}": result for name, result in results.items()}
    return summary, results, answers(masked_test.source_path, results)


def main(params: Params) -> None:
    au_model = logreg.AuModel.load(LOGREG_MODEL)
    au_table = read_au_table(AU_TABLE)
    models, sizes = face_models(params)
    test = usable(dataset.read_manifest(MANIFEST), "test")
    results = compare(test, au_table, au_model, models, params.data.classes)
    metrics = _metrics(results)
    for name, size in sizes.items():
        metrics[name]["size_mb"] = size
    masked, masked_results, masked_answers = masked_comparison(params, au_model, au_table, models)
    predictions = answers(test.path, results).merge(masked_answers, on="path", how="left", validate="one_to_one")
    predictions.insert(1, "label", test.label.to_numpy())
    with atomic_dir(CONFUSION_DIR) as folder:
        for name, result in {**results, **masked_results}.items():
            write_csv(result.confusion, folder / f"{name}.csv")
    write_json({**metrics, **({"masked": masked} if masked else {})}, METRICS)
    write_json({"models": metrics, "masked": masked}, COMPARISON_JSON)
    write_csv(predictions, PREDICTIONS)
    data = params.data
    reference = (data.reference_model, data.reference_accuracy) if data.reference_model and data.reference_accuracy else None
    markdown = comparison_markdown(metrics, reference, masked)
    write_text(markdown, COMPARISON)
    print(markdown)


if __name__ == "__main__":
    run_stage(main)
