"""Benchmark: `dvc repro` when nothing has changed, in a project where the pipeline has run.

    python benchmarks/repro_noop.py                          # this checkout (after `make run`)
    python benchmarks/repro_noop.py --project ../main_job_x  # a clone `benchmarks/main_job.py --keep` kept

Runs `dvc repro` ``--rounds`` times after one untimed warm-up run (which fills DVC's state of file hashes, as any
earlier run has) and fails if any run reproduces a stage. Beside it, the floor the data sets: `dvc status data.dvc`,
which checks the data folder alone, and DVC's start-up (`dvc --version`). The note counts the files DVC checks (from
dvc.lock and data.dvc): every one is looked up on every run. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import yaml

from face_emotion.cnn.training import available_cores
from face_emotion.core.errors import UserError
from face_emotion.reporting.results import provenance, record_benchmark

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str], project: Path) -> tuple[float, str]:
    """Seconds ``command`` took in ``project`` and its output; a failure is one line."""
    start = time.monotonic()
    result = subprocess.run(command, cwd=project, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise UserError(f"`{' '.join(command)}` failed in {project}: {last}")
    return seconds, result.stdout


def files_checked(project: Path) -> dict[str, int]:
    """Files in the data folder (data.dvc) and in the pipeline's outputs (dvc.lock), as DVC recorded them."""
    data = yaml.safe_load((project / "data.dvc").read_text())["outs"] if (project / "data.dvc").is_file() else []
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    outs = [out for stage in lock.values() for out in stage.get("outs", [])]
    return {"data": sum(out.get("nfiles", 1) for out in data), "outputs": sum(out.get("nfiles", 1) for out in outs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=REPO, help="a checkout where the pipeline has run")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each command (default 5)")
    args = parser.parse_args()
    project = args.project.resolve()
    if not (project / "dvc.lock").is_file():
        raise UserError(f"{project} has no dvc.lock: run `make run` there first")
    dvc = project / ".venv" / "bin" / "dvc"  # the project's own DVC, as `make` runs it; else the one on PATH
    dvc = str(dvc) if dvc.is_file() else shutil.which("dvc")
    if dvc is None:
        raise UserError(f"no DVC in {project}/.venv or on PATH: run `make install` there first")
    timed([dvc, "repro"], project)  # warm-up: DVC's state of file hashes, as after any run
    rows = []
    for label, command in (("`dvc repro`, nothing changed", [dvc, "repro"]),
                           ("`dvc status data.dvc`: the data folder alone", [dvc, "status", "data.dvc"]),
                           ("`dvc --version`: DVC's start-up", [dvc, "--version"])):
        runs = []
        for _ in range(args.rounds):
            seconds, output = timed(command, project)
            if command[1] == "repro" and "Running stage" in output:
                raise UserError(f"`dvc repro` ran a stage in {project}: the pipeline is not up to date")
            runs.append(seconds)
        rows.append({"command": label, "seconds (median)": round(statistics.median(runs), 2),
                     "each run": ", ".join(f"{s:.2f}" for s in runs)})
    counts = files_checked(project)
    measured = provenance(project)
    note = (f"In a checkout of {measured['commit']} after `make run`, {available_cores()} cores; DVC checks "
            f"{counts['data']} files "
            f"of the data folder and {counts['outputs']} files of the pipeline's outputs on every run. "
            "Target: `dvc repro` at most 2 s.")
    print(note)
    print(record_benchmark("repro_noop", "python benchmarks/repro_noop.py", rows, note, measured))


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
