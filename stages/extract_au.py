"""Stage extract_au: AU intensities (and backend extras) for every usable face of the manifest."""

import dataclasses

from face_emotion.au import extract
from face_emotion.core.config import Params
from face_emotion.core.io import write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_manifest


def main(params: Params, paths: Paths) -> None:
    table = extract.extract(read_manifest(paths.manifest), params.au, params.compute, paths.au_cache)
    report = extract.summary(table)
    write_csv(table, paths.au_table)
    write_json(dataclasses.asdict(params.au), paths.au_settings)
    write_json(report, paths.au_summary)
    write_json({"detection_rate": report["detection_rate"]}, paths.extract_au_metrics)
    print(f"extract_au: face measured on {report['detected']} of {report['images']} images "
          f"({report['detection_rate']:.1%}); reasons: {report['failure_reasons']}")


if __name__ == "__main__":
    run_stage(main)
