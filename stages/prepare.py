"""Stage prepare: a manifest of every input file, a seeded validation split, a data-quality report."""

from face_emotion import dataset
from face_emotion.atomic import write_csv, write_json, write_text
from face_emotion.config import Params
from face_emotion.stage import run_stage

MANIFEST = "features/manifest.csv"
QUALITY_METRICS = "metrics/data_quality.json"
QUALITY_DETAILS = "reports/data_quality.json"
QUALITY_REPORT = "reports/data_quality.md"


def main(params: Params) -> None:
    manifest = dataset.build_manifest(params.data, params.seed)
    report = dataset.quality_report(manifest)
    write_csv(manifest, MANIFEST)
    write_json(report, QUALITY_DETAILS)
    write_json(dataset.quality_metrics(report), QUALITY_METRICS)
    write_text(dataset.quality_markdown(report, manifest), QUALITY_REPORT)
    print(f"prepare: {report['used']} faces used, {report['rejected']} rejected, {report['excluded']} excluded "
          f"(see {QUALITY_REPORT})")


if __name__ == "__main__":
    run_stage(main)
