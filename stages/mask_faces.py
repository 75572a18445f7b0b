"""Stage mask_faces: every usable test face with its lower face covered, and the AUs still measured on it."""

import pandas as pd

from face_emotion.au import extract
from face_emotion.core.config import ImageData, Params
from face_emotion.core.io import atomic_dir, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import ID_COLUMNS, MANIFEST_COLUMNS, read_manifest
from face_emotion.data.masking import masked_test_manifest


def main(params: Params, paths: Paths) -> None:
    if not isinstance(params.data, ImageData):
        print(f"mask_faces: no test images to mask (data.kind={params.data.kind}); the masked comparison is skipped")
        write_csv(pd.DataFrame(columns=[*MANIFEST_COLUMNS, "source_path"]), paths.masked_manifest)
        write_csv(pd.DataFrame(columns=[*ID_COLUMNS, "source_path", "success"]), paths.masked_au_table)
        paths.masked_images.mkdir(parents=True, exist_ok=True)
        write_json({}, paths.mask_faces_metrics)
        return
    with atomic_dir(paths.masked_images) as folder:
        masked = masked_test_manifest(read_manifest(paths.manifest), params.mask, params.seed, folder)
        masked["path"] = masked.path.str.replace(folder.as_posix(), paths.masked_images.as_posix(), n=1, regex=False)
    table = extract.extract(masked, params.au, params.compute, paths.au_cache)
    table.insert(1, "source_path", masked.source_path.to_numpy())
    report = extract.summary(table)
    write_csv(masked, paths.masked_manifest)
    write_csv(table, paths.masked_au_table)
    write_json({"masked_detection_rate": report["detection_rate"]}, paths.mask_faces_metrics)
    print(f"mask_faces: {len(masked)} masked test faces in {paths.masked_images}; face measured on {report['detected']}")


if __name__ == "__main__":
    run_stage(main)
