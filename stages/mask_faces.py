"""Stage mask_faces: every usable test face with its lower face covered, once per masked test set (mask.test_style,
mask.unseen_style), and the AUs still measured on it."""

import pandas as pd

from face_emotion.au import extract
from face_emotion.core.config import ImageData, Params
from face_emotion.core.io import atomic_dir, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import ID_COLUMNS, MANIFEST_COLUMNS, read_manifest
from face_emotion.data.masking import masked_test_manifest


def main(params: Params, paths: Paths) -> None:
    test_sets = params.mask.test_sets()
    if not isinstance(params.data, ImageData):
        print(f"mask_faces: no test images to mask (data.kind={params.data.kind}); the masked comparison is skipped")
        for name in test_sets:
            write_csv(pd.DataFrame(columns=[*MANIFEST_COLUMNS, "source_path"]), paths.masked_manifest(name))
            write_csv(pd.DataFrame(columns=[*ID_COLUMNS, "source_path", "success"]), paths.masked_au_table(name))
            paths.masked_images(name).mkdir(parents=True, exist_ok=True)
        write_json({}, paths.mask_faces_metrics)
        return
    manifest = read_manifest(paths.manifest)
    metrics = {}
    for name, style in test_sets.items():
        images = paths.masked_images(name)
        with atomic_dir(images) as folder:
            masked = masked_test_manifest(manifest, style, params.mask.test_height, params.seed, folder)
            masked["path"] = masked.path.str.replace(folder.as_posix(), images.as_posix(), n=1, regex=False)
        table = extract.extract(masked, params.au, params.compute, paths.au_cache)
        table.insert(1, "source_path", masked.source_path.to_numpy())
        report = extract.summary(table)
        write_csv(masked, paths.masked_manifest(name))
        write_csv(table, paths.masked_au_table(name))
        metrics[f"{name}_detection_rate"] = report["detection_rate"]
        print(f"mask_faces: {len(masked)} test faces in a {style} mask in {images}; face measured on {report['detected']}")
    write_json(metrics, paths.mask_faces_metrics)


if __name__ == "__main__":
    run_stage(main)
