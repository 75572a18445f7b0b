"""Stage check_params: every parameter checked, and the data found, before any other stage runs.

DVC deletes a stage's outputs just before running it, so a value rejected inside a later stage would cost that stage's
earlier results. Every stage depends on this one's output, whose content never changes, so DVC runs it first and goes
no further when it fails; valid params leave the output as it was, and nothing downstream reruns because of it.
"""

from face_emotion.au.backends import BACKENDS
from face_emotion.core.config import Params
from face_emotion.core.io import write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.data.manifest import check_source

CHECKED = "params.yaml and the data folder checked by stages/check_params.py\n"


def main(params: Params, paths: Paths) -> None:
    check_source(params.data)
    BACKENDS[params.au.backend].check(params.au)
    write_text(CHECKED, paths.params_check)
    print(f"check_params: params valid; data at {params.data.root}")


if __name__ == "__main__":
    run_stage(main)
