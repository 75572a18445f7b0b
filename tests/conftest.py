"""How the suite is shared between pytest-xdist's workers (`-n auto --dist loadfile` in pyproject.toml): each test file
is one unit of work, so its module fixtures are made once, and the files on the pipeline lane's shared quick run
(tests/pipeline/conftest.py) are one unit together, so that run is made once."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from xdist.scheduler import LoadScopeScheduling

SHARED_RUN_FIXTURE = "quick_project"
SHARED_RUN_FILES = frozenset(f"tests/pipeline/{name}.py" for name in
                             ("test_pipeline", "test_practice", "test_report", "test_robustness", "test_sharing"))
"""The test files whose tests use the shared quick run; a test elsewhere that uses it is a collection error."""


def test_file(nodeid: str) -> str:
    """The test file a node id is in, as the root-relative POSIX path that pytest writes."""
    return str(PurePosixPath(nodeid.split("::")[0]))


class SharedRunScheduling(LoadScopeScheduling):
    """xdist's load-file scheduling with the shared-run files as one scope."""

    def _split_scope(self, nodeid: str) -> str:
        file = test_file(nodeid)
        return "shared quick run" if file in SHARED_RUN_FILES else file


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> SharedRunScheduling | None:
    """The shared-run scheduling for `--dist loadfile`; xdist's own for any other mode asked for."""
    return SharedRunScheduling(config, log) if config.getvalue("dist") == "loadfile" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the shared quick run outside SHARED_RUN_FILES would make the run again on another worker."""
    for item in items:
        if SHARED_RUN_FIXTURE in getattr(item, "fixturenames", ()) and test_file(item.nodeid) not in SHARED_RUN_FILES:
            raise pytest.UsageError(f"{item.nodeid} uses {SHARED_RUN_FIXTURE}: add its file to "
                                    "tests/conftest.py's SHARED_RUN_FILES, so the quick run is made once")
