"""Stage report: the experiment's explanation page (one self-contained HTML file), for people."""

import json
from pathlib import Path

import pandas as pd

from face_emotion.core.config import Params
from face_emotion.core.io import write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_manifest
from face_emotion.report import ReportInputs, render


def main(params: Params, paths: Paths) -> None:
    masked = read_manifest(paths.masked_manifest)
    inputs = ReportInputs(
        title=f"Facial emotions explained: {Path(params.data.root).name}, {params.au_model.kind} AU model on "
              f"{params.au_model.features}",
        comparison=json.loads(paths.comparison_details.read_text()),
        profiles=pd.read_csv(paths.profiles),
        agreement=json.loads(paths.facs_agreement.read_text()),
        explanations=pd.read_csv(paths.explanations, dtype={"predicted": str, "reasons": str})
        .fillna({"predicted": "", "reasons": ""}),
        predictions=pd.read_csv(paths.predictions),
        masked_paths=dict(zip(masked.source_path, masked.path, strict=True)),
        heatmap=paths.profile_heatmap,
        quality=json.loads(paths.data_quality.read_text()),
        params_text=Path("params.yaml").read_text(),
        classes=params.data.classes,
    )
    write_text(render(inputs), paths.report)
    print(f"report: open {paths.report.resolve().as_uri()}")


if __name__ == "__main__":
    run_stage(main)
