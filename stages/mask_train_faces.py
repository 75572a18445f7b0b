"""Stage mask_train_faces: every usable training and validation face masked mask.train_copies times (a style from
mask.styles over a share of the face from mask.height, drawn per face and copy) and the AUs still measured on each
copy: the masked-face AU model's data. The copies themselves are not kept (tens of thousands of small files for DVC
to hash on every run); a masked copy's row names its original and its copy number."""

from face_emotion.au import extract
from face_emotion.au.masked import mask_and_measure, write_empty
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_manifest


def main(params: Params, paths: Paths) -> None:
    if not isinstance(params.data, FaceImageData):
        print(f"mask_train_faces: no images to mask (data.kind={params.data.kind}); no masked-face AU model")
        write_empty(paths.masked_train_manifest, paths.masked_train_au_table)
        write_json({}, paths.mask_train_faces_metrics)
        return
    masked, table = mask_and_measure(read_manifest(paths.manifest), ("train", "val"), params.mask.styles,
                                     params.mask.height_range(), params, paths.au_cache, params.mask.train_copies)
    report = extract.summary(table)
    write_csv(masked, paths.masked_train_manifest)
    write_csv(table, paths.masked_train_au_table)
    write_json({"train_detection_rate": report["detection_rate"]}, paths.mask_train_faces_metrics)
    print(f"mask_train_faces: {len(masked)} masked copies of the training and validation faces measured (the copies "
          f"are not kept); face measured on {report['detected']}")


if __name__ == "__main__":
    run_stage(main)
