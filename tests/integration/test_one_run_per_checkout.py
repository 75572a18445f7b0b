"""One run per checkout: make run and make quick stop at once while a `dvc exp run` runs here (real DVC, a small
repository with a slow stage), and a stage whose params.yaml changes under it is not recorded."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from face_emotion.core.paths import DVC_FILE
from face_emotion.core.stage import run_stage
from face_emotion.workspace import RUN_INFO, running_experiment
from tests.helpers import REPO, project_env, run

SLOW_STAGE = {"stages": {"slow": {"cmd": "sleep 12 && python -c \"print('done')\" > out.txt", "params": ["x"],
                                  "outs": ["out.txt"]}}}


def test_a_second_run_stops_before_anything_is_written_and_the_first_records_its_params(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        run(command, cwd=repo)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(SLOW_STAGE))
    (repo / "params.yaml").write_text("x: 1\n")
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], cwd=repo)
    first = subprocess.Popen(["dvc", "exp", "run", "-S", "x=2"], cwd=repo, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=project_env())
    try:
        deadline = time.monotonic() + 30
        while running_experiment(repo / RUN_INFO) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert running_experiment(repo / RUN_INFO) == first.pid
        head = run(["git", "rev-parse", "HEAD"], cwd=repo).stdout
        second = run([sys.executable, "-m", "face_emotion.workspace"], cwd=repo, check=False)
        assert second.returncode == 1 and second.stderr.count("\n") == 1
        assert second.stderr.startswith(f"error: a `dvc exp run` (process {first.pid}) is running in this checkout")
        assert (repo / "params.yaml").read_text() == "x: 2\n"  # the first run's, untouched
        assert run(["git", "rev-parse", "HEAD"], cwd=repo).stdout == head  # git left where the first run has it
        assert first.wait(timeout=60) == 0
    finally:
        first.kill()
    assert yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["slow"]["params"]["params.yaml"] == {"x": 2}
    assert running_experiment(repo / RUN_INFO) is None


def test_finished_or_gone_runs_and_damaged_records_hold_nothing(tmp_path):
    info = tmp_path / "workspace.json"
    assert running_experiment(info) is None  # no record
    info.write_text(json.dumps({"pid": os.getpid(), "returncode": None}))
    assert running_experiment(info) == os.getpid()
    info.write_text(json.dumps({"pid": os.getpid(), "returncode": 0}))
    assert running_experiment(info) is None
    gone = subprocess.Popen(["true"])
    gone.wait()
    info.write_text(json.dumps({"pid": gone.pid, "returncode": None}))
    assert running_experiment(info) is None
    info.write_text("{not json")
    assert running_experiment(info) is None


def test_a_stage_whose_params_change_under_it_is_not_recorded(tmp_path, monkeypatch, capsys):
    for name in (DVC_FILE, "params.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)

    def another_run_rewrites_params(params, paths) -> None:
        Path("params.yaml").write_text(Path("params.yaml").read_text().replace("seed: 42", "seed: 7"))

    with pytest.raises(SystemExit) as stopped:
        run_stage(another_run_rewrites_params)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: params.yaml changed while this stage ran") and err.count("\n") == 1
    run_stage(lambda params, paths: None)  # unchanged: nothing said
    assert capsys.readouterr().err == ""
