"""The Docker OpenFace backend: the container it would run, the parsing of its output, and no engine here."""

import shutil

import pandas as pd
import pytest

from face_emotion.au import extract
from face_emotion.au.backends.openface import (
    BINARY,
    container_command,
    container_failure,
    container_volumes,
    docker_client,
    parse_outputs,
    run_options,
    stage_inputs,
)
from face_emotion.core.errors import UserError
from tests.helpers import SHARED_FIXTURES, default_params, real_faces

LANDMARK_IMG = SHARED_FIXTURES / "openface" / "FaceLandmarkImg" / "face.csv"


def test_command_is_an_argument_list_with_read_only_input(tmp_path):
    assert container_command() == [BINARY, "-fdir", "/input", "-out_dir", "/output", "-aus"]
    volumes = container_volumes(tmp_path / "in", tmp_path / "out")
    assert volumes[str((tmp_path / "in").resolve())] == {"bind": "/input", "mode": "ro"}
    assert volumes[str((tmp_path / "out").resolve())]["mode"] == "rw"


def test_staging_and_parsing_a_batch(tmp_path):
    """Real faces staged as OpenFace will see them; its real output file stands in for the first face's result."""
    faces = [str(p) for p in real_faces("test", "happy", 2)]
    (tmp_path / "broken.jpg").write_bytes(b"")
    paths = [*faces, str(tmp_path / "broken.jpg")]
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    failures = stage_inputs(paths, tmp_path / "in")
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["000000.png", "000001.png"]
    shutil.copy(LANDMARK_IMG, tmp_path / "out" / "000000.csv")
    rows = parse_outputs(paths, tmp_path / "out", failures)
    assert rows[0]["success"] and rows[0]["AU12_r"] == pytest.approx(2.17)
    assert rows[1] == {"success": False, "failure_reason": "OpenFace found no face"}
    assert rows[2]["failure_reason"].startswith("empty file")


def test_no_docker_engine_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(UserError, match="needs a Docker engine, and none is reachable") as excinfo:
        docker_client()
    assert "\n" not in str(excinfo.value)
    manifest = pd.DataFrame({"path": ["a.jpg"], "label": ["happy"], "split": ["test"], "status": ["ok"]})
    with pytest.raises(UserError, match="Docker engine"):
        params = default_params("au=openface")
        extract.extract(manifest, params.au, params.compute)


def test_the_container_runs_limited_offline_and_not_as_root(tmp_path):
    params = default_params("au=openface", "au.memory_gb=3", "au.cpus=1.5").au
    options = run_options(params, tmp_path / "in", tmp_path / "out")
    assert options["network_disabled"] and options["remove"]
    assert options["mem_limit"] == "3g" and options["nano_cpus"] == 1_500_000_000
    assert options["user"] != "0:0" and not options["user"].startswith("0:")
    assert options["volumes"][str((tmp_path / "in").resolve())]["mode"] == "ro"


def test_a_failed_container_is_one_line_with_its_last_log_lines():
    """The Docker SDK's own ContainerError, as a failing FaceLandmarkImg raises it."""
    import docker

    log = b"".join(f"line {i}\n".encode() for i in range(20)) + b"Could not find the landmark detector model\n"
    error = docker.errors.ContainerError("abc123", 139, container_command(), "algebr/openface:latest", log)
    message = str(container_failure(error, "algebr/openface:latest"))
    assert message.startswith("OpenFace in algebr/openface:latest failed (exit status 139): line 16 | ")
    assert message.endswith("Could not find the landmark detector model") and "\n" not in message
