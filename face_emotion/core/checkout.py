"""Who holds this checkout: a `dvc exp run` running in it, or a DVC process writing a stage's outputs in it. A second
run stops at once, in one line naming that process, before it writes anything: `make run` and `make quick` ask first
(face_emotion.core.workspace); a bare `dvc exp run` asks through face_emotion/dvc_hooks/ (a Hydra plugin folder that
.dvc/config names; DVC imports it before it composes params.yaml); every stage asks as it starts (core.stage), which
stops a bare `dvc repro` beside a running one."""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from pathlib import Path

RUN_INFO = Path(".dvc/tmp/exps/run/workspace/workspace.json")
"""Where `dvc exp run` records the process running an experiment in the workspace (pid, returncode)."""
RWLOCK = Path(".dvc/tmp/rwlock")
"""Where DVC records the outputs of the stages it is running, each with the process writing it (pid, cmd)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _json(path: Path) -> object:
    """The JSON in ``path``, None when it is missing or damaged (DVC rewrites these files as it runs)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def this_run() -> set[int]:
    """This process and its parents: a stage's own DVC process holds the checkout for it."""
    import psutil  # a dependency of DVC's

    me = psutil.Process()
    return {me.pid, *(parent.pid for parent in me.parents())}


def running_experiment(info_file: Path = RUN_INFO, own: Collection[int] = ()) -> int | None:
    """The process id of a `dvc exp run` running in this checkout, None when there is none (no record, a finished
    run, a process that is gone, or one of ``own``)."""
    info = _json(info_file)
    pid = info.get("pid") if isinstance(info, dict) else None
    if not isinstance(pid, int) or info.get("returncode") is not None or pid in own:
        return None
    return pid if _alive(pid) else None


def running_stage(rwlock: Path = RWLOCK, own: Collection[int] = ()) -> tuple[int, str] | None:
    """The process id and command of a DVC process writing a stage's outputs in this checkout (`dvc repro`,
    `dvc exp run`) other than ``own``, None when there is none."""
    lock = _json(rwlock)
    writers = lock.get("write") if isinstance(lock, dict) else None
    for info in writers.values() if isinstance(writers, dict) else ():
        pid = info.get("pid") if isinstance(info, dict) else None
        if isinstance(pid, int) and pid not in own and _alive(pid):
            return pid, str(info.get("cmd", "dvc"))
    return None


def checkout_holder(root: Path = Path("."), own: Collection[int] | None = None) -> str | None:
    """Why a run must not go on in the checkout at ``root`` (one line), None when no process but ``own`` (default:
    this one) holds it."""
    own = {os.getpid()} if own is None else own
    pid = running_experiment(root / RUN_INFO, own)
    if pid is not None:
        return (f"a `dvc exp run` (process {pid}) is running in this checkout: wait for it to end, or stop it, then run "
                "again (to run experiments side by side, queue them once it has ended: `dvc exp run --queue`, then "
                "`dvc queue start -j N`; each runs in a workspace of its own)")
    stage = running_stage(root / RWLOCK, own)
    if stage is not None:
        return (f"`{stage[1]}` (process {stage[0]}) is running a stage in this checkout: wait for it to end, or stop "
                "it, then run again")
    return None


def dvc_root(start: Path | None = None) -> Path:
    """The DVC project holding ``start`` (default: the working directory); ``start`` itself when none does."""
    start = (start or Path.cwd()).resolve()
    return next((folder for folder in (start, *start.parents) if (folder / ".dvc").is_dir()), start)
