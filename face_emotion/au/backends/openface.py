"""The original tool as a backend: OpenFace 2.x FaceLandmarkImg in the algebr/openface Docker image."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from face_emotion.au.backends.base import AuBackend
from face_emotion.core.config import OpenFaceParams
from face_emotion.core.errors import UserError
from face_emotion.data.images import ImageRejected, read_image
from face_emotion.data.openface_csv import face_of_image

BINARY = "/home/openface-build/build/bin/FaceLandmarkImg"
INPUT_MOUNT, OUTPUT_MOUNT = "/input", "/output"
NOBODY = "65534:65534"
LOG_LINES = 5
"""A failed container's last lines shown in the error."""


def container_command() -> list[str]:
    """The argument list run inside the container (never a shell string)."""
    return [BINARY, "-fdir", INPUT_MOUNT, "-out_dir", OUTPUT_MOUNT, "-aus"]


def container_volumes(input_dir: Path, output_dir: Path) -> dict[str, dict[str, str]]:
    """Input mounted read-only, output writable."""
    return {str(input_dir.resolve()): {"bind": INPUT_MOUNT, "mode": "ro"},
            str(output_dir.resolve()): {"bind": OUTPUT_MOUNT, "mode": "rw"}}


def docker_client():  # -> docker.DockerClient
    """A connected Docker client, or one clear line saying there is no engine."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        reason = str(exc).split(":")[0]
        raise UserError(f"au.backend=openface needs a Docker engine, and none is reachable ({reason}): "
                        "start Docker, or use au=mediapipe or au=openface_csv") from None
    return client


def stage_inputs(paths: list[str], staging: Path) -> dict[str, dict[str, object]]:
    """Copy readable images to ``staging`` as <index>.png/jpg; return failure rows for the unreadable ones."""
    failures = {}
    for index, path in enumerate(paths):
        try:
            image = read_image(path)
        except ImageRejected as exc:
            failures[path] = {"success": False, "failure_reason": str(exc)}
            continue
        image.save(staging / f"{index:06d}.png")
    return failures


def parse_outputs(paths: list[str], output_dir: Path, failures: dict[str, dict[str, object]]) -> list[dict[str, object]]:
    """One row per input path from FaceLandmarkImg's <index>.csv files (no file: OpenFace found no face)."""
    rows = []
    for index, path in enumerate(paths):
        csv_path = output_dir / f"{index:06d}.csv"
        if path in failures:
            rows.append(failures[path])
        elif not csv_path.is_file():
            rows.append({"success": False, "failure_reason": "OpenFace found no face"})
        else:
            rows.append(face_of_image(csv_path))
    return rows


def container_user() -> str:
    """The container runs as this process's user, never as root (root here: 'nobody')."""
    uid, gid = os.getuid(), os.getgid()
    return f"{uid}:{gid}" if uid != 0 else NOBODY


def run_options(params: OpenFaceParams, input_dir: Path, output_dir: Path) -> dict[str, object]:
    """How the container runs: the command as an argument list, input read-only, no network, a non-root user,
    memory and CPU limits, removed afterwards."""
    return {"command": container_command(), "volumes": container_volumes(input_dir, output_dir),
            "network_disabled": True, "user": container_user(), "mem_limit": f"{params.memory_gb:g}g",
            "nano_cpus": int(params.cpus * 1e9), "remove": True, "stdout": False, "stderr": True}


def image_digest(client, image: str) -> str:
    """The local image's content digest (it changes when the tag moves, and with it the AU cache key)."""
    import docker

    try:
        return client.images.get(image).id
    except docker.errors.ImageNotFound:
        raise UserError(f"Docker image {image} not found: docker pull {image}") from None
    except docker.errors.APIError as exc:
        raise UserError(f"Docker could not inspect {image}: {str(exc).splitlines()[0]}") from None


def container_failure(exc: Exception, image: str) -> UserError:
    """A failed container run as one line, with the last lines the container wrote."""
    stderr = getattr(exc, "stderr", b"") or b""
    tail = " | ".join(stderr.decode(errors="replace").strip().splitlines()[-LOG_LINES:]) or "no output"
    status = getattr(exc, "exit_status", "?")
    return UserError(f"OpenFace in {image} failed (exit status {status}): {tail}")


class OpenFaceBackend(AuBackend):
    """Runs FaceLandmarkImg once over a batch of images; ``measure_many`` is the entry point."""

    name = "openface"
    parallel = False
    params: OpenFaceParams

    @classmethod
    def version(cls, params: OpenFaceParams) -> str:
        client = docker_client()
        try:
            return f"openface-FaceLandmarkImg@{image_digest(client, params.image)}"
        finally:
            client.close()

    @classmethod
    def check(cls, params: OpenFaceParams) -> None:
        cls.version(params)

    def measure(self, path: str) -> dict[str, object]:
        return next(iter(self.measure_many([path])))

    def measure_many(self, paths: Iterable[str]) -> Iterator[dict[str, object]]:
        """Stage the images, run the container once, parse its CSVs."""
        import docker

        paths = list(paths)
        client = docker_client()
        work = Path(tempfile.mkdtemp(prefix="openface-"))
        try:
            (work / "in").mkdir()
            (work / "out").mkdir()
            if container_user() == NOBODY:
                os.chmod(work / "out", 0o777)
            failures = stage_inputs(paths, work / "in")
            try:
                client.containers.run(self.params.image, **run_options(self.params, work / "in", work / "out"))
            except (docker.errors.ContainerError, docker.errors.ImageNotFound, docker.errors.APIError) as exc:
                raise container_failure(exc, self.params.image) from None
            rows = parse_outputs(paths, work / "out", failures)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            client.close()
        return iter(rows)
