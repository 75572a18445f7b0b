"""Stage check_params: every parameter checked, and the data found, before any other stage runs.

DVC deletes a stage's outputs just before running it, so a value rejected inside a later stage would cost that stage's
earlier results. Every stage depends on this one's output, whose content never changes, so DVC runs it first and goes
no further when it fails; valid params leave the output as it was, and nothing downstream reruns because of it.
"""

from face_emotion.au.backends import BACKENDS
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.errors import UserError
from face_emotion.core.feature_sets import source_columns
from face_emotion.core.io import write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import AU_COLUMNS
from face_emotion.data.manifest import check_source, check_split
from face_emotion.evaluation.teachable_machine import check_export, find_exports


def check_features(params: Params) -> None:
    """The AU models' feature sets and the CNN's concepts name only columns the configured backend measures."""
    backend = BACKENDS[params.au.backend]
    measured = {*AU_COLUMNS, *backend.extras}
    sets = [("au_model.features", params.au_model.features)]
    if isinstance(params.data, FaceImageData):  # the masked-face model and the CNN train on face images only
        sets.append(("mask.au_features", params.mask.au_features))
        if params.cnn.concepts is not None:
            sets.append(("cnn.concepts", params.cnn.concepts))
    for key, feature_set in sets:
        missing = sorted(source_columns(feature_set) - measured)
        if missing:
            raise UserError(f"params: {key}={feature_set} reads '{missing[0]}', which au={params.au.backend} does not "
                            "measure (it measures the 17 AUs only): use a feature set of AUs (au17, au17_pairs, "
                            "upper_face) or au=mediapipe")

CHECKED = "params.yaml and the data folder checked by stages/check_params.py\n"


def main(params: Params, paths: Paths) -> None:
    check_source(params.data)
    check_split(params.data)
    check_features(params)
    for export in find_exports(paths.teachable_machine):
        check_export(export)
    BACKENDS[params.au.backend].check(params.au)
    write_text(CHECKED, paths.params_check)
    print(f"check_params: params valid; data at {params.data.root}")


if __name__ == "__main__":
    run_stage(main)
