"""Stage mask_test: every usable test image with its lower face covered, and the AUs still measured on it."""

import pandas as pd

from face_emotion import dataset
from face_emotion.atomic import atomic_dir, write_csv, write_json
from face_emotion.au import extract
from face_emotion.config import Params
from face_emotion.masking import masked_test_manifest
from face_emotion.stage import run_stage
from stages.extract_au import CACHE_DIR

MANIFEST = "features/manifest.csv"
MASKED_IMAGES = "features/masked_test"
MASKED_MANIFEST = "features/masked_manifest.csv"
MASKED_AU_TABLE = "features/au_masked.csv"
MASKED_AU_METRICS = "metrics/au_summary_masked.json"


def main(params: Params) -> None:
    manifest = dataset.read_manifest(MANIFEST)
    with atomic_dir(MASKED_IMAGES) as folder:
        if params.data.kind == "images":
            masked = masked_test_manifest(manifest, params.evaluate.mask, params.seed, folder)
            masked["path"] = masked.path.str.replace(folder.as_posix(), MASKED_IMAGES, n=1, regex=False)
        else:
            masked = manifest.iloc[0:0].assign(source_path=pd.Series(dtype=str))
    if masked.empty:
        print(f"mask_test: no test images to mask (data.kind={params.data.kind}); the masked comparison is skipped")
        table = pd.DataFrame(columns=["path", "source_path", "success"])
        report = {"images": 0}
    else:
        table = extract.extract(masked, params.au, CACHE_DIR)
        table.insert(1, "source_path", masked.source_path.to_numpy())
        report = extract.summary_metrics(extract.summary(table))
        print(f"mask_test: {len(masked)} masked test faces in {MASKED_IMAGES}; face measured on {report['detected']}")
    write_csv(masked, MASKED_MANIFEST)
    write_csv(table, MASKED_AU_TABLE)
    write_json(report, MASKED_AU_METRICS)


if __name__ == "__main__":
    run_stage(main)
