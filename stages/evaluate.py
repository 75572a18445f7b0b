"""Stage evaluate: every model on the same test images; metrics, confusion matrices, comparison table."""

import pandas as pd

from face_emotion import dataset, logreg
from face_emotion.atomic import write_csv, write_json, write_text
from face_emotion.comparison import compare, comparison_markdown
from face_emotion.config import Params
from face_emotion.stage import run_stage

MANIFEST = "features/manifest.csv"
AU_TABLE = "features/au.csv"
LOGREG_MODEL = "models/logreg/model.json"
CNN_MODEL = "models/cnn/model.keras"
METRICS = "metrics/evaluate.json"
CONFUSION = "plots/confusion/{model}.csv"
COMPARISON = "reports/comparison.md"


def main(params: Params) -> None:
    manifest = dataset.read_manifest(MANIFEST)
    au_table = pd.read_csv(AU_TABLE).fillna({"failure_reason": ""})
    results = compare(manifest, au_table, logreg.AuModel.load(LOGREG_MODEL), CNN_MODEL, params.data.classes)
    for name, result in results.items():
        write_csv(result.confusion, CONFUSION.format(model=name))
    metrics = {name: result.metrics for name, result in results.items()}
    write_json(metrics, METRICS)
    write_text(comparison_markdown(metrics), COMPARISON)
    print(comparison_markdown(metrics))


if __name__ == "__main__":
    run_stage(main)
