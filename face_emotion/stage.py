"""Running a pipeline stage: read params.yaml, turn user errors into one line and exit code 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from face_emotion.config import Params, load_params
from face_emotion.errors import UserError


def run_stage(main: Callable[[Params], None], params_path: str = "params.yaml") -> None:
    """Call ``main`` with the validated params; a UserError ends the process with one line on stderr."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banner
    try:
        main(load_params(params_path))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
