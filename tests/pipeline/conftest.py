"""The one quick pipeline run the pipeline lane shares."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest

from face_emotion.core.param_reads import READS_ENV
from face_emotion.core.paths import load_paths
from tests.helpers import (
    ALL_STAGES,
    CLASSES,
    QUICK,
    add_bad_files,
    build_face_folder,
    build_teachable_machine_export,
    copy_project,
    run,
    stages_run,
)


def param_reads_file(project: Path) -> Path:
    """Where the quick run records the params each stage reads (face_emotion.core.param_reads), beside the project."""
    return project.parent / "param_reads.jsonl"


def build_quick_project(project: Path) -> None:
    """Run `dvc exp run -S experiment=quick` in a fresh copy of the project on 10 real faces per class, bad files among
    them, with a Teachable Machine export placed where dvc.yaml says."""
    copy_project(project)
    build_face_folder(project / "faces", per_class=10)
    add_bad_files(project / "faces")
    build_teachable_machine_export(load_paths(project).teachable_machine / "classroom", [c.title() for c in CLASSES])
    result = run(["dvc", "exp", "run", "--name", "first", *QUICK], cwd=project,
                 env={READS_ENV: str(param_reads_file(project))})
    ran = stages_run(result.stdout)
    assert sorted(ran) == sorted(ALL_STAGES) and ran[0] == "check_params"
    # report and practice are the ends
    assert ran.index("report") > max(ran.index("evaluate"), ran.index("explain"), ran.index("au_validity"))
    assert ran.index("practice") > max(ran.index("train_au_model"), ran.index("train_upper_face_au_model"))


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory, worker_id):
    """A copy of the one quick run of the test session (build_quick_project): the first xdist worker to need it makes
    it, under a lock in the folder all workers share, and every worker gets its own copy (git history, DVC cache,
    experiments and the record of param reads), as each unit of tests/conftest.py adds experiments to it. Tests that
    change it further work on a copy (``project_copy``) or add experiments, which leave the workspace as the last one
    applied."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    built, done = shared / "quick_run", shared / "quick_run.done"
    with open(shared / "quick_run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(built, ignore_errors=True)  # a worker that failed to make it left half a run
            build_quick_project(built / "project")
            done.touch()
    copy = shutil.copytree(built, tmp_path_factory.mktemp("pipeline"), symlinks=True, dirs_exist_ok=True)
    return Path(copy) / "project"


@pytest.fixture(scope="module")
def project_copy(quick_project, tmp_path_factory):
    """A copy of the quick project (git history, DVC cache and experiments included) for tests that change it."""
    return Path(shutil.copytree(quick_project, tmp_path_factory.mktemp("copy") / "project", symlinks=True))
