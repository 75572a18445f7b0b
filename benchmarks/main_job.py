"""Benchmark: the main job from a fresh clone, timed stage by stage.

    python benchmarks/main_job.py            # `make run` in a fresh clone of HEAD
    python benchmarks/main_job.py --quick    # `make quick` instead

Clones HEAD into a new folder beside this checkout (so ../shared is beside the clone, as a user's and CI's checkout
has it), runs the make target there as a user would (nothing installed: the target makes the virtual environment
and pulls the data), and times each stage from DVC's "Running stage '<name>'" lines to the next stage's (the time of
a stage includes DVC's own work on its outputs); the set-up is the time before the first stage. Prints one Markdown
table and records it for docs/results.md; the clone is removed afterwards (--keep keeps it). Run it on an otherwise
idle machine: the figure is this machine's, not a ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from face_emotion.cnn.training import available_cores
from face_emotion.core.errors import UserError
from face_emotion.reporting.results import provenance, record_benchmark

REPO = Path(__file__).resolve().parents[1]
STAGE_LINE = re.compile(r"Running stage '([^']+)'")
SET_UP = "set-up (virtual environment, install, dvc pull)"


def user_env() -> dict[str, str]:
    """This environment without this checkout's virtual environment, as a fresh shell has it; Python's output
    unbuffered, so that each line is timed when it is written, not when a buffer fills."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"} | {"PYTHONUNBUFFERED": "1"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and not Path(p).is_relative_to(REPO))
    return env


def timed_lines(command: list[str], cwd: Path, log: Path) -> tuple[list[tuple[float, str]], float, int]:
    """Each output line of ``command`` with the seconds since it started (also written to ``log``), the total
    seconds and the exit code."""
    start = time.monotonic()
    lines: list[tuple[float, str]] = []
    with log.open("w", buffering=1) as out, subprocess.Popen(command, cwd=cwd, env=user_env(), stdout=subprocess.PIPE,
                                                  stderr=subprocess.STDOUT, text=True, errors="replace") as process:
        for line in process.stdout or ():  # text mode: a progress bar's carriage return ends a line too
            lines.append((time.monotonic() - start, line.rstrip("\n")))
            out.write(f"{lines[-1][0]:9.1f}  {line}")
    return lines, time.monotonic() - start, process.returncode


def stage_times(lines: list[tuple[float, str]], total: float) -> list[tuple[str, float]]:
    """(name, seconds) of the set-up and each stage in the order run: from its "Running stage" line to the next."""
    starts = [(seconds, match.group(1)) for seconds, line in lines if (match := STAGE_LINE.search(line))]
    bounds = [seconds for seconds, _ in starts] + [total]
    return [(SET_UP, bounds[0])] + [(name, bounds[i + 1] - seconds) for i, (seconds, name) in enumerate(starts)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="time `make quick` instead of `make run`")
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    target = "quick" if args.quick else "run"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.strip()
    clone = Path(tempfile.mkdtemp(prefix=f"main_job_{commit}_", dir=REPO.parent))
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        lines, total, code = timed_lines(["make", target], clone, clone.parent / f"{clone.name}.log")
        if code != 0:
            raise UserError(f"`make {target}` failed (exit {code}) in {clone}; its output: {clone.name}.log beside it")
        measured = provenance(clone)  # the clone's commit, whatever this checkout holds by the time the run ends
    finally:
        if not args.keep:
            shutil.rmtree(clone, ignore_errors=True)
    rows = [{"step": name, "seconds": round(seconds), "minutes": round(seconds / 60, 1), "share": f"{seconds / total:.0%}"}
            for name, seconds in stage_times(lines, total)]
    rows.append({"step": f"make {target}, in all", "seconds": round(total), "minutes": round(total / 60, 1),
                 "share": "100%"})
    note = (f"`make {target}` in a fresh clone of {commit} beside ../shared, {available_cores()} cores; each stage from "
            "DVC's 'Running stage' line to the next one's.")
    print(note)
    print(record_benchmark(f"main_job_{target}", "python benchmarks/main_job.py" + (" --quick" if args.quick else ""),
                           rows, note, measured))


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
