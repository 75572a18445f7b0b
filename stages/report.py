"""Stage report: the experiment's explanation page (reports/report.html), self-contained, for people."""

import json
from pathlib import Path

import pandas as pd

from face_emotion.atomic import write_text
from face_emotion.config import Params
from face_emotion.dataset import read_manifest
from face_emotion.report import ReportInputs, render
from face_emotion.stage import run_stage

PAGE = "reports/report.html"


def main(params: Params) -> None:
    masked = read_manifest("features/masked_manifest.csv")
    inputs = ReportInputs(
        title=f"Facial emotions explained: {Path(params.data.root).name}, {params.logreg.features} AU features",
        comparison=json.loads(Path("reports/comparison.json").read_text()),
        profiles=pd.read_csv("reports/au_profiles.csv"),
        agreement=json.loads(Path("reports/facs_agreement.json").read_text()),
        explanations=pd.read_csv("reports/explanations.csv", dtype={"predicted": str, "reasons": str})
        .fillna({"predicted": "", "reasons": ""}),
        predictions=pd.read_csv("reports/predictions.csv"),
        masked_paths=dict(zip(masked.source_path, masked.path, strict=True)) if not masked.empty else {},
        heatmap=Path("plots/au_profiles.png"),
        quality=json.loads(Path("reports/data_quality.json").read_text()),
        params_text=Path("params.yaml").read_text(),
        classes=params.data.classes,
    )
    write_text(render(inputs), PAGE)
    print(f"report: open {Path(PAGE).resolve().as_uri()}")


if __name__ == "__main__":
    run_stage(main)
