"""Running a pipeline stage: its params and paths in; user errors and interruptions out as one line, never a
traceback."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

from face_emotion.core.checkout import checkout_holder, this_run
from face_emotion.core.config import PARAMS_FILE, Params, load_params
from face_emotion.core.errors import UserError
from face_emotion.core.param_reads import recorded
from face_emotion.core.paths import Paths, load_paths


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, so ``finally`` blocks keep what is complete; also when the process
    was started with them ignored (a background job, nohup)."""
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _interrupted)


def run_stage(main: Callable[[Params, Paths], None]) -> None:
    """Call ``main`` with the validated params.yaml and dvc.yaml's paths, unless another run holds the checkout
    (core.checkout). A UserError ends the process with one line
    on stderr and exit code 2; Ctrl-C or SIGTERM with one line and exit code 130, after ``finally`` blocks have kept
    what is complete (every output is written under a temporary name and renamed)."""
    interrupt_on_signals()
    try:
        busy = checkout_holder(own=this_run())
        if busy:
            raise UserError(busy)
        params_file = Path(PARAMS_FILE).read_bytes() if Path(PARAMS_FILE).is_file() else b""
        params = load_params()
        with recorded(params, Path(sys.argv[0]).stem):
            main(params, load_paths())
        if Path(PARAMS_FILE).is_file() and Path(PARAMS_FILE).read_bytes() != params_file:
            raise UserError(f"{PARAMS_FILE} changed while this stage ran (a second run in this checkout?): DVC would "
                            "record the new params for outputs made with the old ones, so the stage is not recorded; "
                            "run it again once the other run has ended")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("\nerror: interrupted; no output was left half-written (run the same command again to finish)", file=sys.stderr)
        raise SystemExit(130) from None
