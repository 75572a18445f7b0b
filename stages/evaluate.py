"""Stage evaluate: every model on the same test images; metrics, confusion matrices, comparison table."""

from face_emotion import dataset, logreg
from face_emotion.atomic import write_csv, write_json, write_text
from face_emotion.au.table import read_au_table
from face_emotion.comparison import compare, comparison_markdown, size_mb
from face_emotion.config import Params
from face_emotion.stage import run_stage

MANIFEST = "features/manifest.csv"
AU_TABLE = "features/au.csv"
LOGREG_MODEL = "models/logreg/model.json"
CNN_MODEL = "models/cnn/model.keras"  # absent when the data has no images
METRICS = "metrics/evaluate.json"
CONFUSION = "plots/confusion/{model}.csv"
COMPARISON = "reports/comparison.md"


def main(params: Params) -> None:
    manifest = dataset.read_manifest(MANIFEST)
    au_table = read_au_table(AU_TABLE)
    results = compare(manifest, au_table, logreg.AuModel.load(LOGREG_MODEL), CNN_MODEL, params.data.classes)
    for name, result in results.items():
        write_csv(result.confusion, CONFUSION.format(model=name))
    metrics = {name: result.metrics for name, result in results.items()}
    metrics["logreg"]["size_mb"] = size_mb(LOGREG_MODEL)
    if "cnn" in metrics:
        metrics["cnn"]["size_mb"] = size_mb(CNN_MODEL)
    write_json(metrics, METRICS)
    data = params.data
    reference = (data.reference_model, data.reference_accuracy) if data.reference_model and data.reference_accuracy else None
    markdown = comparison_markdown(metrics, reference)
    write_text(markdown, COMPARISON)
    print(markdown)


if __name__ == "__main__":
    run_stage(main)
