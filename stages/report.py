"""Stage report: the experiment's explanation page (one self-contained HTML file), for people."""

import os
from pathlib import Path

import pandas as pd

from face_emotion.core.config import Params
from face_emotion.core.io import read_json, write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_csv_with_text, read_manifest
from face_emotion.reporting.report import ReportInputs, render


def main(params: Params, paths: Paths) -> None:
    masked = read_manifest(paths.masked_manifest("masked"))
    inputs = ReportInputs(
        title=f"Facial emotions explained: {Path(params.data.root).name}, {params.au_model.kind} AU model on "
              f"{params.au_model.features}",
        comparison=read_json(paths.comparison_details, "evaluate"),
        profiles=pd.read_csv(paths.profiles),
        agreement=read_json(paths.facs_agreement, "explain"),
        examples=read_csv_with_text(paths.examples, ("predicted", "reasons", "drawing")),
        example_faces=paths.example_faces,
        predictions=pd.read_csv(paths.predictions),
        masked_profiles=pd.read_csv(paths.masked_profiles) if paths.masked_profiles.is_file() else None,
        masked_examples=(read_csv_with_text(paths.masked_examples, ("predicted", "reasons", "drawing"))
                         if paths.masked_examples.is_file() else None),
        masked_example_faces=paths.masked_example_faces,
        masked_paths=dict(zip(masked.source_path, masked.path, strict=True)),
        heatmap=paths.profile_heatmap,
        shapes=paths.shape_plot,
        quality=read_json(paths.data_quality, "prepare"),
        params_text=Path("params.yaml").read_text(),
        classes=params.data.classes,
        practice_link=os.path.relpath(paths.practice_page, paths.report.parent),
        au_scores=read_csv_with_text(paths.au_scores, ("prototype_of",)),
        au_montages=paths.au_montages,
        au_backend=params.au.backend,
        cnn_reasons=(dict(read_csv_with_text(paths.concept_reasons, ("predicted", "reasons"))[["path", "reasons"]]
                          .itertuples(index=False)) if paths.concept_reasons.is_file() else {}),
        concept_fidelity=pd.read_csv(paths.concept_fidelity) if paths.concept_fidelity.is_file() else None,
        concept_agreement=read_json(paths.concept_facs_agreement, "answer_faces") if paths.concept_facs_agreement.is_file()
        else None,
    )
    write_text(render(inputs), paths.report)
    print(f"report: open {paths.report.resolve().as_uri()}")


if __name__ == "__main__":
    run_stage(main)
