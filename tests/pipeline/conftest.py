"""The one quick pipeline run the pipeline lane shares."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory):
    """A fresh copy of the project that has run `dvc exp run -S experiment=quick` on 10 real faces per class, bad
    files among them, with a Teachable Machine export placed where dvc.yaml says. Tests that change it work on a copy
    (``project_copy``) or add experiments, which leave the workspace as the last one applied."""
    project = copy_project(tmp_path_factory.mktemp("pipeline") / "project")
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
    return project


@pytest.fixture(scope="module")
def project_copy(quick_project, tmp_path_factory):
    """A copy of the quick project (git history, DVC cache and experiments included) for tests that change it."""
    return Path(shutil.copytree(quick_project, tmp_path_factory.mktemp("copy") / "project", symlinks=True))
