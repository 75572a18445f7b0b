"""Running a pipeline stage: its params and paths in, user errors out as one line and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable

from face_emotion.core.config import Params, load_params
from face_emotion.core.errors import UserError
from face_emotion.core.paths import Paths, load_paths


def run_stage(main: Callable[[Params, Paths], None]) -> None:
    """Call ``main`` with the validated params.yaml and dvc.yaml's paths; a UserError ends the process with one line
    on stderr and exit code 2."""
    try:
        main(load_params(), load_paths())
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
