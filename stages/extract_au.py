"""Stage extract_au: AU intensities (and backend extras) for every usable image of the manifest."""

from face_emotion import dataset
from face_emotion.atomic import write_csv, write_json
from face_emotion.au import extract
from face_emotion.config import Params
from face_emotion.stage import run_stage

MANIFEST = "features/manifest.csv"
AU_TABLE = "features/au.csv"
AU_SUMMARY = "reports/au_summary.json"
AU_METRICS = "metrics/au_summary.json"
CACHE_DIR = "cache/au"
"""Per-image measurements reused across runs; a local speed-up, deliberately not a DVC output (a fresh clone
that pulls features/au.csv needs no cache to be up to date)."""


def main(params: Params) -> None:
    table = extract.extract(dataset.read_manifest(MANIFEST), params.au, CACHE_DIR)
    report = extract.summary(table)
    write_csv(table, AU_TABLE)
    write_json(report, AU_SUMMARY)
    write_json(extract.summary_metrics(report), AU_METRICS)
    print(f"extract_au: face measured on {report['detected']} of {report['images']} images "
          f"({report['detection_rate']:.1%}); reasons: {report['failure_reasons']}")


if __name__ == "__main__":
    run_stage(main)
