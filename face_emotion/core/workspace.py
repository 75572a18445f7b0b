"""Before a run: one run per checkout (core.checkout), and git on its branch. A `dvc exp run` that died midway
(killed, out of memory, a closed terminal) leaves git on a detached HEAD with its files staged, and the next commit
would land off the branch: return git to its branch when nothing can be lost; otherwise say how.
``python -m face_emotion.core.workspace`` (make run and make quick call it)."""

from __future__ import annotations

import subprocess
import sys

from face_emotion.core.checkout import checkout_holder

DVC_EXEC_REFS = "refs/exps/exec/"
"""Where `dvc exp run` keeps the refs of the experiment it is running (EXEC_BASELINE: the commit it started from)."""


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()


def restore_branch() -> str | None:
    """Reattach HEAD to its branch after an interrupted `dvc exp run`; None when there was nothing to do. A
    UserError-style SystemExit when HEAD is detached and returning could lose work."""
    if _git("symbolic-ref", "-q", "HEAD") or not _git("rev-parse", "--git-dir"):
        return None  # on a branch (or not a git repository)
    head = _git("rev-parse", "HEAD")
    baseline = _git("rev-parse", "-q", "--verify", f"{DVC_EXEC_REFS}EXEC_BASELINE")
    branches = _git("for-each-ref", "--points-at", head, "--format=%(refname)", "refs/heads").splitlines()
    if baseline != head or len(branches) != 1:
        raise SystemExit(f"error: git is on a detached HEAD at {head[:8]} (not one a stopped `dvc exp run` left): return "
                         "with `git switch <branch>` once your work there is committed or stashed")
    _git("symbolic-ref", "HEAD", branches[0])  # the same commit: working tree and index stay as they are
    for ref in _git("for-each-ref", "--format=%(refname)", DVC_EXEC_REFS).splitlines():
        _git("update-ref", "-d", ref)
    return branches[0].removeprefix("refs/heads/")


def main() -> None:
    busy = checkout_holder()
    if busy:
        raise SystemExit(f"error: {busy}")
    branch = restore_branch()
    if branch:
        print(f"workspace: a `dvc exp run` had stopped midway and left git on a detached HEAD; back on branch '{branch}' "
              "(nothing lost: files it had staged are still staged)", file=sys.stderr)


if __name__ == "__main__":
    main()
