"""Benchmark: `make test` (the README's test command, what CI runs) from a fresh clone, lane by lane.

    python benchmarks/make_test.py

Clones HEAD beside this checkout (so ../shared is beside the clone, as CI has it), runs `make test` there as a user
would (the target makes the virtual environment, pulls the data and installs Chromium), and records: the whole
command, pytest's own clock (the issue's figure: target 10 minutes), the set-up before it, the seconds each lane's
tests took summed over pytest-xdist's workers, and the 15 slowest tests (a test's set-up included: the first test on
the shared quick run carries its making). Run it on an otherwise idle machine: the figure is this machine's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from main_job import timed_lines  # the same fresh-clone environment and timed output as that benchmark

from face_emotion.cnn.training import available_cores
from face_emotion.core.errors import UserError
from face_emotion.reporting.results import provenance, record_benchmark

REPO = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"=+ (?P<counts>.*\d+ passed.*) in (?P<seconds>[\d.]+)s")
"""pytest's last line, e.g. '==== 509 passed, 1 warning in 742.97s (0:12:22) ===='."""
SLOWEST = 15


def durations(junit: Path) -> list[tuple[str, float]]:
    """(node id, seconds) of every test in a JUnit XML report, set-up and teardown included."""
    return [(f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}", float(case.get("time", 0)))
            for case in ET.parse(junit).getroot().iter("testcase")]


def row(what: str, seconds: float) -> dict[str, object]:
    """One row of the table: what was timed, in seconds and minutes."""
    return {"what": what, "seconds": round(seconds, 1), "minutes": round(seconds / 60, 1)}


def lane(node_id: str) -> str:
    """The lane a test is in: tests/<lane>/..."""
    return node_id.split("/")[1]


def main() -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.strip()
    clone = Path(tempfile.mkdtemp(prefix=f"make_test_{commit}_", dir=REPO.parent))
    junit = clone.parent / f"{clone.name}.xml"
    try:
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        log = clone.parent / f"{clone.name}.log"
        lines, total, code = timed_lines(["env", f"PYTEST_ADDOPTS=--junitxml={junit}", "make", "test"], clone, log)
        summary = next((match for _, line in reversed(lines) if (match := SUMMARY.search(line))), None)
        if code != 0 or summary is None:
            raise UserError(f"`make test` failed (exit {code}) in a fresh clone of {commit}; its output: {log}")
        measured = provenance(clone)
        tests = durations(junit)
        log.unlink()  # kept when make test fails: the message names it
    finally:
        shutil.rmtree(clone, ignore_errors=True)
        junit.unlink(missing_ok=True)
    pytest_seconds = float(summary["seconds"])
    per_lane = Counter()
    for node_id, seconds in tests:
        per_lane[lane(node_id)] += seconds
    rows = [row("make test, in all", total), row(f"pytest's own clock ({summary['counts']})", pytest_seconds),
            row("set-up before pytest (virtual environment, install, dvc pull, Chromium)", total - pytest_seconds),
            *(row(f"{name} lane, summed over the workers", seconds) for name, seconds in per_lane.most_common()),
            *(row(f"slow: {node_id}", seconds) for node_id, seconds in sorted(tests, key=lambda test: -test[1])[:SLOWEST])]
    note = (f"`make test` in a fresh clone of {commit} beside ../shared, {available_cores()} cores, pytest-xdist as "
            "pyproject.toml sets it; a lane's seconds are its tests' summed over the workers (so more than its share "
            "of the clock).")
    print(note)
    print(record_benchmark("make_test", "python benchmarks/make_test.py", rows, note, measured))


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
