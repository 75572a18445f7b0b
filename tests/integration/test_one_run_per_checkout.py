"""One run per checkout: a second `dvc exp run`, `make run` and `make quick` stop at once while a run holds the
checkout (real DVC, a small repository with a slow stage and this project's Hydra plugin folder), and a stage whose
params.yaml changes under it is not recorded."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from face_emotion.core.checkout import RUN_INFO, RWLOCK, running_experiment, running_stage
from face_emotion.core.config import compose_conf
from face_emotion.core.paths import DVC_FILE
from face_emotion.core.stage import run_stage
from tests.helpers import REPO, project_env, run

SLOW_STAGE = {"cmd": "cp params.yaml seen.txt && sleep 12 && mv seen.txt out.txt", "params": ["x"], "outs": ["out.txt"]}
CHECKING_STAGE = {"cmd": "python check.py", "params": ["z"], "outs": ["other.txt"]}
CHECK = """import sys
from face_emotion.core.checkout import checkout_holder, this_run
busy = checkout_holder(own=this_run())  # as core.stage.run_stage asks
if busy:
    sys.exit(f"error: {busy}")
open("other.txt", "w").write("ran")
"""
DVC_HOOKS = REPO / "face_emotion" / "dvc_hooks"


def slow_project(root: Path) -> Path:
    """A git + DVC repository with two stages: `slow` copies the params it starts with to out.txt 12 s later; `other`
    asks who holds the checkout as this project's stages do. params.yaml is composed by Hydra from conf/, with this
    project's .dvc/config hydra settings."""
    root.mkdir()
    for command in (["git", "init", "-q"], ["dvc", "init", "-q"], ["dvc", "config", "hydra.enabled", "true"],
                    ["dvc", "config", "hydra.plugins_path", str(DVC_HOOKS)]):
        run(command, cwd=root)
    (root / "conf").mkdir()
    (root / "conf" / "config.yaml").write_text("x: 1\nz: 1\n")
    (root / "params.yaml").write_text("x: 1\nz: 1\n")
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"slow": SLOW_STAGE, "other": CHECKING_STAGE}}, sort_keys=False))
    (root / "check.py").write_text(CHECK)
    (root / ".gitignore").write_text("seen.txt\n")
    run(["git", "add", "-A"], cwd=root)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], cwd=root)
    return root


def test_the_project_names_its_hydra_plugin_folder_for_dvc():
    config = (REPO / ".dvc" / "config").read_text()
    assert f"plugins_path = {DVC_HOOKS.relative_to(REPO).as_posix()}" in config


def test_a_second_run_stops_before_anything_is_written_and_the_first_records_its_params(tmp_path):
    repo = slow_project(tmp_path / "repo")
    first = subprocess.Popen(["dvc", "exp", "run", "-S", "x=2", "-S", "z=2"], cwd=repo, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env=project_env())
    try:
        deadline = time.monotonic() + 30
        while running_experiment(repo / RUN_INFO) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert running_experiment(repo / RUN_INFO) == first.pid
        head = run(["git", "rev-parse", "HEAD"], cwd=repo).stdout
        busy = f"a `dvc exp run` (process {first.pid}) is running in this checkout"
        second = run([sys.executable, "-m", "face_emotion.core.workspace"], cwd=repo, check=False)
        assert second.returncode == 1 and second.stderr.count("\n") == 1
        assert second.stderr.startswith(f"error: {busy}")
        bare = run(["dvc", "exp", "run", "-S", "x=3"], cwd=repo, check=False)
        assert bare.returncode != 0 and f"ERROR: {busy}" in bare.stderr, bare.stderr
        queued = run(["dvc", "exp", "run", "--queue", "-S", "x=4"], cwd=repo, check=False)  # stashes the workspace
        assert queued.returncode != 0 and f"ERROR: {busy}" in queued.stderr, queued.stderr
        beside = run(["dvc", "repro", "other"], cwd=repo, check=False)  # a stage the first run has not reached yet
        assert beside.returncode != 0 and f"error: {busy}" in beside.stdout + beside.stderr
        assert not (repo / "other.txt").exists()
        assert yaml.safe_load((repo / "params.yaml").read_text()) == {"x": 2, "z": 2}  # the first run's, untouched
        assert run(["git", "rev-parse", "HEAD"], cwd=repo).stdout == head  # git left where the first run has it
        assert first.wait(timeout=60) == 0, first.stdout.read()
    finally:
        first.kill()
    assert yaml.safe_load((repo / "out.txt").read_text()) == {"x": 2, "z": 2}  # what the stage ran with ...
    assert (repo / "other.txt").read_text() == "ran"  # (a stage of the run itself is not held up by it)
    locked = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    assert [locked[name]["params"]["params.yaml"] for name in ("slow", "other")] == [{"x": 2}, {"z": 2}]
    experiments = json.loads(run(["dvc", "exp", "show", "--json"], cwd=repo).stdout)
    recorded = [exp["data"]["params"]["params.yaml"]["data"] for branch in experiments
                for run_ in branch.get("experiments") or [] for exp in run_["revs"]]
    assert recorded == [{"x": 2, "z": 2}]  # ... is what the experiment records
    assert running_experiment(repo / RUN_INFO) is None
    assert run(["dvc", "exp", "run", "-S", "x=3"], cwd=repo).returncode == 0  # the checkout free again


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
    lock = tmp_path / "rwlock"
    assert running_stage(lock) is None  # no lock file
    for damaged in ("{not json", "[]", '{"write": []}', '{"write": {"out": {"pid": "12"}}}', '{"write": {"out": 3}}'):
        lock.write_text(damaged)
        assert running_stage(lock) is None, damaged
    lock.write_text(json.dumps({"write": {"out": {"pid": gone.pid, "cmd": "dvc repro"}}}))
    assert running_stage(lock) is None  # a process that is gone
    lock.write_text(json.dumps({"write": {"out": {"pid": os.getpid(), "cmd": "dvc repro"}}}))
    assert running_stage(lock) == (os.getpid(), "dvc repro")
    assert running_stage(lock, own={os.getpid()}) is None


def stage_files(folder: Path) -> None:
    """dvc.yaml and the default params.yaml, composed from conf/ as copy_project does: the working tree's params.yaml
    may hold the last experiment's values, or a value that experiment rejected."""
    shutil.copy(REPO / DVC_FILE, folder / DVC_FILE)
    (folder / "params.yaml").write_text(yaml.safe_dump(compose_conf()))


def test_a_stage_whose_params_change_under_it_is_not_recorded(tmp_path, monkeypatch, capsys):
    stage_files(tmp_path)
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


def test_a_stage_does_not_start_while_another_process_holds_the_checkout(tmp_path, monkeypatch, capsys):
    """A bare `dvc repro` beside a running `dvc exp run` would run the stages the first has not reached yet: each
    stage asks first, and stops in one line before its code runs."""
    stage_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    other_run = subprocess.Popen(["sleep", "30"])
    try:
        RUN_INFO.parent.mkdir(parents=True)
        RUN_INFO.write_text(json.dumps({"pid": other_run.pid, "returncode": None}))
        ran = []
        with pytest.raises(SystemExit) as stopped:
            run_stage(lambda params, paths: ran.append(True))
        assert stopped.value.code == 2 and not ran
        err = capsys.readouterr().err
        assert err.startswith(f"error: a `dvc exp run` (process {other_run.pid}) is running") and err.count("\n") == 1
        RUN_INFO.unlink()
        RWLOCK.write_text(json.dumps({"write": {"out.txt": {"pid": other_run.pid, "cmd": "dvc repro"}}, "read": {}}))
        with pytest.raises(SystemExit):
            run_stage(lambda params, paths: ran.append(True))
        assert capsys.readouterr().err.startswith(f"error: `dvc repro` (process {other_run.pid}) is running a stage")
        RWLOCK.write_text(json.dumps({"write": {"out.txt": {"pid": os.getpid(), "cmd": "dvc repro"}}, "read": {}}))
        run_stage(lambda params, paths: ran.append(True))  # this run's own lock
        assert ran == [True]
    finally:
        other_run.kill()
        other_run.wait()
    run_stage(lambda params, paths: ran.append(True))  # the other run gone
    assert ran == [True, True]
