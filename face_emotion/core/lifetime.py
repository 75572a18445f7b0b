"""No orphans: a stage, and each of its worker processes, ends when the process that started it dies (a
`dvc exp run` killed with SIGKILL, a closed terminal), instead of going on writing outputs. Linux only; elsewhere
nothing is done."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
from pathlib import Path

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process receives when its parent dies."""
SHELLS = frozenset({"sh", "dash", "bash", "zsh", "ksh", "fish"})
"""Process names of the shells DVC may run a stage's command in ($SHELL -c, or /bin/sh where SHELL is unset)."""
WATCH_SECONDS = 1.0
"""How often a stage started through a shell checks that its launcher is still alive."""


def end_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def end_with_launcher() -> None:
    """SIGTERM to this process when the process that launched it dies. DVC runs a stage through a shell, and a shell
    such as dash stays between DVC and the stage, so watching the parent is not enough: the launcher is the first
    ancestor that is not a shell. While shells stand between, a thread checks every second that the line of ancestors
    up to the launcher is unchanged (when a process dies, its children are handed to another parent)."""
    end_with_parent()
    try:
        line = _line_to_launcher()
    except (OSError, ValueError, IndexError):  # no /proc: not Linux
        return
    if len(line) > 1:
        threading.Thread(target=_watch, args=(line,), name="end-with-launcher", daemon=True).start()


def _line_to_launcher() -> list[int]:
    """This process's ancestors, from its parent up to and including the first one that is not a shell."""
    line = [os.getppid()]
    while line[-1] > 1 and Path(f"/proc/{line[-1]}/comm").read_text().strip() in SHELLS:
        line.append(_parent_of(line[-1]))
    return line


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])  # the fields after "(name)": state, ppid, ...


def _watch(line: list[int]) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        try:
            now = [os.getppid()]
            for _ in line[1:]:
                now.append(_parent_of(now[-1]))
        except (OSError, ValueError, IndexError):  # an ancestor is gone
            now = []
        if now != line:
            os.kill(os.getpid(), signal.SIGTERM)
            return
