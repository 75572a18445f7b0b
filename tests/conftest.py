"""How the suite is shared between pytest-xdist's workers (`-n auto --dist loadfile` in pyproject.toml): each test file
is one unit of work, so its module fixtures are made once; the files on the pipeline lane's quick run
(tests/pipeline/conftest.py) form two units, each on its own copy of the one run the first of them makes. The longest
units start first, and the second unit on the quick run after another long one, so that its worker has work to do
while the run is made; the short units fill in beside them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import PurePosixPath

import pytest
from xdist.scheduler import LoadScopeScheduling

from tests.helpers import ONE_CORE_PER_WORKER

SHARED_RUN_FIXTURE = "quick_project"
EXPERIMENTS, PAGES_AND_SHARING = "quick run: experiments on it", "quick run: its pages, sharing, robustness"
SHARED_RUN_UNITS = {
    "tests/pipeline/test_pipeline.py": EXPERIMENTS,
    **{f"tests/pipeline/{name}.py": PAGES_AND_SHARING
       for name in ("test_practice", "test_report", "test_robustness", "test_sharing")},
}
"""The test files whose tests use the quick run, and the unit of work each is in; a test elsewhere that uses the run
is a collection error."""
SUITE_DISK_GIB = 2
"""Free disk the suite needs under the temporary folder: about three times the most it added in a run of `bash .ci/run`
(0.66 GiB at cee141e, the disk's use sampled every 2 s from the start of pytest)."""
LONGEST_FIRST = (EXPERIMENTS, "tests/pipeline/test_other_inputs.py", PAGES_AND_SHARING)
"""The units that take minutes (a pipeline run each, or several), handed out before any other, in this order."""


def test_file(nodeid: str) -> str:
    """The test file a node id is in, as the root-relative POSIX path that pytest writes."""
    return str(PurePosixPath(nodeid.split("::")[0]))


class SharedRunScheduling(LoadScopeScheduling):
    """xdist's load-file scheduling with the quick run's files in their units, the longest units first."""

    def _split_scope(self, nodeid: str) -> str:
        file = test_file(nodeid)
        return SHARED_RUN_UNITS.get(file, file)

    def _assign_work_unit(self, node) -> None:
        for scope in reversed(LONGEST_FIRST):
            if scope in self.workqueue:
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)


def pytest_configure(config: pytest.Config) -> None:
    """Enough free disk for the suite, checked before any test starts; what each worker fits in its own process stays
    on one core, as the commands it runs do."""
    shortfall = disk_shortfall(tempfile.gettempdir(), SUITE_DISK_GIB)
    if shortfall:
        raise pytest.UsageError(shortfall)
    os.environ.update(ONE_CORE_PER_WORKER)


def disk_shortfall(folder: str, need_gib: float) -> str | None:
    """One line saying how much disk is missing under ``folder``, or None when ``need_gib`` GiB are free there."""
    free_gib = shutil.disk_usage(folder).free / 2**30
    if free_gib >= need_gib:
        return None
    return (f"only {free_gib:.1f} GiB free under {folder}: the suite needs {need_gib} GiB there (quick runs, DVC "
            "caches, an S3 remote); free some first")


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> SharedRunScheduling | None:
    """The shared-run scheduling for `--dist loadfile`; xdist's own for any other mode asked for."""
    return SharedRunScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the quick run outside SHARED_RUN_UNITS would make the run again in a unit of its own."""
    for item in items:
        if SHARED_RUN_FIXTURE in getattr(item, "fixturenames", ()) and test_file(item.nodeid) not in SHARED_RUN_UNITS:
            raise pytest.UsageError(f"{item.nodeid} uses {SHARED_RUN_FIXTURE}: add its file to "
                                    "tests/conftest.py's SHARED_RUN_UNITS, so the quick run is made once per unit")
