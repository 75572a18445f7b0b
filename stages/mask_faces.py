"""Stage mask_faces: every usable test face with its lower face covered, once per masked test set (mask.test_style,
mask.unseen_style), and the AUs still measured on it."""

from face_emotion.au import extract
from face_emotion.au.masked import mask_and_measure, write_empty
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_manifest


def main(params: Params, paths: Paths) -> None:
    test_sets = params.mask.test_sets()
    if not isinstance(params.data, FaceImageData):
        print(f"mask_faces: no test images to mask (data.kind={params.data.kind}); the masked comparison is skipped")
        for name in test_sets:
            write_empty(paths.masked_manifest(name), paths.masked_au_table(name), paths.masked_images(name))
        write_json({}, paths.mask_faces_metrics)
        return
    manifest = read_manifest(paths.manifest)
    metrics = {}
    for name, style in test_sets.items():
        height = (params.mask.test_height,) * 2
        masked, table = mask_and_measure(manifest, ("test",), [style], height, params, paths.au_cache,
                                         images=paths.masked_images(name))
        report = extract.summary(table)
        write_csv(masked, paths.masked_manifest(name))
        write_csv(table, paths.masked_au_table(name))
        metrics[f"{name}_detection_rate"] = report["detection_rate"]
        print(f"mask_faces: {len(masked)} test faces in a {style} mask in {paths.masked_images(name)}; "
              f"face measured on {report['detected']}")
    write_json(metrics, paths.mask_faces_metrics)


if __name__ == "__main__":
    run_stage(main)
