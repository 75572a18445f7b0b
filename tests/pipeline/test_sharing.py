"""Sharing and scaling for real, from the lane's quick run: an S3 remote on a loopback moto server, a fresh clone that
pulls everything, experiments pushed to a bare git repository, and a queued two-point sweep run by DVC's queue
workers."""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from face_emotion.core.paths import load_paths
from tests.helpers import QUICK, project_env, run

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
BUCKET = "face-emotion-store"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1, started and stopped here, with one bucket."""
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("moto_server did not start on loopback")
                time.sleep(0.3)
        import boto3

        boto3.client("s3", endpoint_url=endpoint, **{k.lower(): v for k, v in CREDENTIALS.items()
                                                       if k != "AWS_DEFAULT_REGION"},
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def dvc(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A DVC command with the S3 credentials in its environment (never in .dvc/config)."""
    env = {**project_env(), **CREDENTIALS}
    result = subprocess.run(["dvc", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def git(args: list[str], cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", *args], cwd=cwd,
                   check=True, capture_output=True)


def checksums(root: Path, paths: list[str]) -> dict[str, str]:
    """md5 of every file under each path."""
    found = {}
    for name in paths:
        for file in sorted(p for p in [root / name, *(root / name).rglob("*")] if p.is_file()):
            found[file.relative_to(root).as_posix()] = hashlib.md5(file.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory, s3_endpoint, quick_project):
    """The quick project with its data (faces, now tracked with dvc add) and outputs committed and pushed to the S3
    remote, its git history to a bare repository."""
    root = tmp_path_factory.mktemp("sharing")
    project = Path(shutil.copytree(quick_project, root / "origin-work", symlinks=True))
    dvc(["add", "faces"], cwd=project)
    dvc(["remote", "add", "-d", "s3", f"s3://{BUCKET}/store"], cwd=project)
    dvc(["remote", "modify", "s3", "endpointurl", s3_endpoint], cwd=project)
    git(["add", "-A"], cwd=project)
    git(["commit", "-qm", "quick run on faces, S3 remote"], cwd=project)
    dvc(["push"], cwd=project)
    subprocess.run(["git", "init", "-q", "--bare", str(root / "origin.git")], check=True)
    git(["remote", "add", "origin", str(root / "origin.git")], cwd=project)
    git(["push", "-q", "origin", "HEAD:main"], cwd=project)
    return project, root


OUTPUTS = ["faces", "features", "models", "reports", "metrics", "plots"]
"""Everything data and pipeline outputs live under."""


def test_credentials_stay_out_of_the_config(shared_project):
    project, _ = shared_project
    config = (project / ".dvc" / "config").read_text()
    assert "endpointurl" in config and "testing" not in config


def test_fresh_clone_pulls_everything_and_is_up_to_date(shared_project):
    project, root = shared_project
    clone = root / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(root / "origin.git"), str(clone)], check=True)
    dvc(["pull"], cwd=clone)
    assert checksums(clone, OUTPUTS) == checksums(project, OUTPUTS)
    assert "Running stage" not in dvc(["repro"], cwd=clone).stdout
    assert "up to date" in dvc(["status"], cwd=clone).stdout


def test_experiment_travels_through_git_and_s3(shared_project):
    project, root = shared_project
    dvc(["exp", "run", "--name", "low-c", *QUICK, "-S", "au_model=linear", "-S", "au_model.C=0.1"], cwd=project)
    model_dir = load_paths(project).au_model.relative_to(project).as_posix()
    model = checksums(project, [model_dir])
    dvc(["exp", "push", "origin", "low-c"], cwd=project)
    clone = root / "exp-clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(root / "origin.git"), str(clone)], check=True)
    dvc(["exp", "pull", "origin", "low-c"], cwd=clone)
    table = pd.read_csv(io.StringIO(dvc(["exp", "show", "--csv"], cwd=clone).stdout))
    assert table.set_index("Experiment").loc["low-c", "au_model.C"] == 0.1
    dvc(["exp", "apply", "low-c"], cwd=clone)
    dvc(["checkout"], cwd=clone)
    assert checksums(clone, [model_dir]) == model


def test_queued_sweep_runs_and_compares(shared_project):
    """`dvc exp run --queue -S au_model=linear -S 'au_model.C=0.1,10'` and `dvc queue start -j 2`, as a user sweeps:
    from the committed
    quick run, so only the AU model's stages run in each queued experiment."""
    project, _ = shared_project
    run(["dvc", "exp", "run", "--queue", *QUICK, "-S", "au_model=linear", "-S", "au_model.C=0.1,10"], cwd=project)
    run(["dvc", "queue", "start", "-j", "2"], cwd=project)
    try:
        deadline = time.monotonic() + 600
        while "Queued" in (status := run(["dvc", "queue", "status"], cwd=project).stdout) or "Running" in status:
            assert time.monotonic() < deadline, status
            time.sleep(5)
    finally:
        run(["dvc", "queue", "stop"], cwd=project, check=False)
    assert "Failed" not in status, run(["dvc", "queue", "logs", status.split()[-1]], cwd=project, check=False).stdout
    table = pd.read_csv(io.StringIO(run(["dvc", "exp", "show", "--csv"], cwd=project).stdout))
    swept = table[table["au_model.C"].isin([0.1, 10.0]) & table["au_model.accuracy"].notna()]
    assert {0.1, 10.0} <= set(swept["au_model.C"])
