"""Sharing and scaling for real: an S3 remote on a loopback moto server, experiments pushed to a bare git
repository, and a queued two-point sweep run by DVC's queue workers."""

from __future__ import annotations

import hashlib
import io
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from .conftest import build_face_folder, copy_project, project_env, run

pytestmark = pytest.mark.pipeline
QUICK = ["-S", "experiment=quick", "-S", "data.root=faces"]
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
def shared_project(tmp_path_factory, s3_endpoint):
    """A project whose data (faces, tracked with dvc add) and quick-run outputs are pushed to the S3 remote."""
    root = tmp_path_factory.mktemp("sharing")
    project = copy_project(root / "origin-work")
    build_face_folder(project / "faces", per_class=8)
    dvc(["add", "faces"], cwd=project)
    dvc(["remote", "add", "-d", "s3", f"s3://{BUCKET}/store"], cwd=project)
    dvc(["remote", "modify", "s3", "endpointurl", s3_endpoint], cwd=project)
    dvc(["exp", "run", *QUICK], cwd=project)
    git(["add", "-A"], cwd=project)
    git(["commit", "-qm", "quick run on faces, S3 remote"], cwd=project)
    dvc(["push"], cwd=project)
    subprocess.run(["git", "init", "-q", "--bare", str(root / "origin.git")], check=True)
    git(["remote", "add", "origin", str(root / "origin.git")], cwd=project)
    git(["push", "-q", "origin", "HEAD:main"], cwd=project)
    return project, root


OUTPUTS = ["faces", "features", "models", "reports", "metrics", "plots"]


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
    dvc(["exp", "run", "--name", "low-c", *QUICK, "-S", "logreg.C=0.1"], cwd=project)
    model = checksums(project, ["models/logreg"])
    dvc(["exp", "push", "origin", "low-c"], cwd=project)
    clone = root / "exp-clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(root / "origin.git"), str(clone)], check=True)
    dvc(["exp", "pull", "origin", "low-c"], cwd=clone)
    table = pd.read_csv(io.StringIO(dvc(["exp", "show", "--csv"], cwd=clone).stdout))
    assert table.set_index("Experiment").loc["low-c", "logreg.C"] == 0.1
    dvc(["exp", "apply", "low-c"], cwd=clone)
    dvc(["checkout"], cwd=clone)
    assert checksums(clone, ["models/logreg"]) == model


def test_queued_sweep_runs_and_compares(tmp_path):
    """`dvc exp run --queue -S 'logreg.C=0.1,10'` and `dvc queue start -j 2`, as a user sweeps."""
    project = copy_project(tmp_path / "project")
    build_face_folder(project / "faces", per_class=8)
    git(["add", "faces"], cwd=project)  # queued runs start from the last commit: untracked files are not there
    git(["commit", "-qm", "faces"], cwd=project)
    run(["dvc", "exp", "run", "--queue", *QUICK, "-S", "logreg.C=0.1,10"], cwd=project)
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
    swept = table[table["logreg.C"].isin([0.1, 10.0]) & table["logreg.accuracy"].notna()]
    assert sorted(swept["logreg.C"]) == [0.1, 10.0]
