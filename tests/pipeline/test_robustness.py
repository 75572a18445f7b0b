"""Nothing lost, through the real commands: rejected parameters, interruptions, a killed `dvc exp run`, damaged model
files, hostile inputs to predict, and the same params giving the same metrics. Each case ends with a one-line error
or a counted rejection, never a traceback, and every earlier output byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from face_emotion.au_models.base import FORMAT
from face_emotion.core.config import compose_conf
from face_emotion.core.paths import load_paths
from tests.helpers import CLASSES, QUICK, build_face_folder, copy_project, project_env, real_faces, run, stages_run

OUTPUT_ROOTS = ("features", "models", "reports", "metrics", "plots", "dvc.lock")


def fingerprint(project: Path) -> dict[str, str]:
    """md5 of every pipeline output file (what DVC would delete before rerunning a stage)."""
    files = [p for root in OUTPUT_ROOTS for p in ([project / root] if (project / root).is_file()
                                                   else sorted((project / root).rglob("*")))]
    return {str(p.relative_to(project)): hashlib.md5(p.read_bytes()).hexdigest() for p in files if p.is_file()}


@pytest.fixture(scope="module")
def project(quick_project, tmp_path_factory):
    return Path(shutil.copytree(quick_project, tmp_path_factory.mktemp("robust") / "project", symlinks=True))


@pytest.mark.parametrize(("override", "message"), [
    ("au_model.interactions=-1", "error: params: au_model.interactions: input should be greater than or equal to 0, got -1"),
    ("au_model.interactions=abc", "error: params: au_model.interactions: input should be a valid integer, got 'abc'"),
    ("data.classes=[happy,joy]", "error: params: data.classes[1]: input should be 'angry', 'disgust'"),
    ("cnn.epochs=0", "error: params: cnn.epochs: input should be greater than or equal to 1, got 0"),
    ("seed=-1", "error: params: seed: input should be greater than or equal to 0, got -1"),  # numpy would refuse it mid-run
    ("compute.au_workers=0", "error: params: compute.au_workers: input should be greater than or equal to 1"),
    ("practice.min_confidence=2", "error: params: practice.min_confidence: input should be less than or equal to 1, got 2"),
    ("+au_model.foo=1", "error: params: unknown key 'au_model.foo'"),
    ("au.backend=nonexistent", "error: params: unknown au.backend 'nonexistent'"),
    ("data.root=nowhere", "nowhere"),
    ("data.val_fraction=0.99", "training images to train on, fewer than one per class (6): lower it"),
    ("data.max_per_class=1", "error: too few usable training images for a validation split (angry: 1; at least 2"),
    ("au=openface_csv", "error: params: au_model.features=au17_geometry_blendshapes reads 'bs__neutral', which "
                        "au=openface_csv does not measure"),
])
def test_a_rejected_value_deletes_nothing(project, override, message):
    """check_params runs before any stage DVC would clear: every earlier output stays byte for byte."""
    before = fingerprint(project)
    result = run(["dvc", "exp", "run", *QUICK, "-S", override], cwd=project, check=False)
    printed = result.stdout + result.stderr
    assert result.returncode != 0 and message in printed and "Traceback" not in printed
    assert sum(line.startswith("error: ") for line in printed.splitlines()) <= 1
    assert fingerprint(project) == before


def not_an_image_model(export: Path) -> None:
    """A complete Keras HDF5 model that takes 10 numbers, not images: check_params passes it, evaluate refuses it."""
    import keras

    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(len(CLASSES), activation="softmax")])
    model.save(export / "keras_model.h5")


@pytest.mark.parametrize(("damage", "message"), [
    (lambda export: (export / "keras_model.h5").write_bytes((export / "keras_model.h5").read_bytes()[:3000]),
     "keras_model.h5 is damaged or not an HDF5 file"),
    (lambda export: (export / "labels.txt").write_bytes(b"\xff\xfe0 happy\n"), "labels.txt cannot be read as text"),
    (not_an_image_model, "takes input of shape (None, 10), not images"),
])
def test_a_damaged_teachable_machine_export_loses_no_result(project, tmp_path, damage, message):
    """A damaged export stops the run in check_params, deleting nothing; one that only loading shows wrong stops the
    first stage that loads it (answer_faces), and `dvc checkout` brings back the cached outputs DVC removed."""
    export = load_paths(project).teachable_machine / "classroom"
    shutil.copytree(export, tmp_path / "saved")

    exports = str(load_paths(project).teachable_machine.relative_to(project))

    def outputs() -> dict[str, str]:  # every output, the export itself (an input, damaged here on purpose) aside
        return {path: md5 for path, md5 in fingerprint(project).items() if not path.startswith(exports)}

    before = outputs()
    damage(export)
    try:
        result = run(["dvc", "exp", "run", *QUICK], cwd=project, check=False)
        printed = result.stdout + result.stderr
        assert result.returncode != 0 and message in printed and "Traceback" not in printed
        assert sum(line.startswith("error: ") for line in printed.splitlines()) == 1
        after = outputs()
        failed = stages_run(result.stdout)[-1]
        if failed == "answer_faces":  # the first stage that loads the export
            assert not load_paths(project).face_answers.exists()  # cached: restored
            run(["dvc", "checkout", "--force"], cwd=project)
            after = outputs()
            del before["dvc.lock"], after["dvc.lock"]  # check_params passed: its lock entry records the new export
        assert after == before
    finally:
        shutil.rmtree(export)
        shutil.copytree(tmp_path / "saved", export)


def test_ctrl_c_in_extract_au_is_one_line_and_keeps_what_was_measured(tmp_path):
    """A Ctrl-C (SIGINT to the whole process group, as a terminal sends it) while the pool measures 480 faces: one
    line, no worker tracebacks; the faces measured so far are cached and the rerun measures only the rest."""
    work = copy_project(tmp_path / "work")
    build_face_folder(work / "faces", per_class=40)
    (work / "params.yaml").write_text(yaml.safe_dump(compose_conf(*QUICK[1::2], conf_dir=work / "conf")))
    run([sys.executable, "-m", "stages.check_params"], cwd=work)
    run([sys.executable, "-m", "stages.prepare"], cwd=work)
    process = subprocess.Popen([sys.executable, "-m", "stages.extract_au"], cwd=work, env=project_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    stderr = Collected(process.stderr)
    stderr.wait_for(re.compile(r"\| *[1-9]\d*/\d+"))  # the progress bar has counted faces
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=120)
    err = stderr.text()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert [line.strip() for line in err.splitlines() if "error:" in line] == [
        "error: interrupted; no output was left half-written (run the same command again to finish)"]
    assert not load_paths(work).au_table.exists()
    rerun = run([sys.executable, "-m", "stages.extract_au"], cwd=work)
    reused = int(re.search(r"extract_au: (\d+) images reused", rerun.stdout).group(1))
    assert 0 < reused < 480


class Collected:
    """What a process writes to a pipe, read in a thread so that the test can watch it while the process runs."""

    def __init__(self, stream) -> None:
        self._chunks: list[str] = []
        self._reader = threading.Thread(target=lambda: self._chunks.extend(iter(lambda: stream.read(1), "")),
                                        daemon=True)
        self._reader.start()

    def wait_for(self, pattern: re.Pattern, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not pattern.search("".join(self._chunks)):
            assert time.monotonic() < deadline, "".join(self._chunks)[-2000:]
            time.sleep(0.1)

    def text(self) -> str:
        """Everything, once the process has closed the pipe."""
        self._reader.join(timeout=30)
        return "".join(self._chunks)


def orphan_stages(work: Path, stage: str, seconds: float) -> list[str]:
    """The processes of ``stage`` still running in ``work`` after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    while True:
        found = subprocess.run(["pgrep", "-f", f"python -m stages.{stage}"], capture_output=True, text=True).stdout.split()
        mine = [pid for pid in found if Path(f"/proc/{pid}/cwd").exists()
                and Path(f"/proc/{pid}/cwd").resolve() == work.resolve()]
        if not mine or time.monotonic() > deadline:
            return mine
        time.sleep(0.5)


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])  # dash stays between DVC and the stage; bash execs it
def test_a_killed_exp_run_leaves_no_stage_running_and_make_run_returns_to_the_branch(project, tmp_path, shell):
    """SIGKILL to `dvc exp run` mid-stage: its stage dies with it (no orphan writing outputs), whichever shell DVC
    runs it in ($SHELL), and face_emotion.core.workspace (which make run and make quick call first) reattaches git to its
    branch."""
    work = Path(shutil.copytree(project, tmp_path / "work", symlinks=True))
    branch = run(["git", "branch", "--show-current"], cwd=work).stdout.strip()
    dvc = subprocess.Popen(["dvc", "exp", "run", *QUICK, "-S", "cnn.learning_rate=0.003"], cwd=work,
                           env={**project_env(), "SHELL": shell}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    for line in dvc.stdout:  # wait until the CNN stage runs
        if "python -m stages.train_cnn" in line:
            break
    time.sleep(3)
    dvc.kill()
    dvc.wait()
    assert not orphan_stages(work, "train_cnn", seconds=20)  # SIGTERM, then its finally blocks: a few seconds at most
    assert run(["git", "branch", "--show-current"], cwd=work).stdout.strip() == ""  # DVC left a detached HEAD
    result = run([sys.executable, "-m", "face_emotion.core.workspace"], cwd=work)
    assert f"back on branch '{branch}'" in result.stderr
    assert run(["git", "branch", "--show-current"], cwd=work).stdout.strip() == branch
    assert run([sys.executable, "-m", "face_emotion.core.workspace"], cwd=work).stderr == ""  # nothing left to do


def predict(model_dir: Path, output: Path, *inputs: Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "face-emotion"
    return run([str(command), "predict", "--model", str(model_dir), "--output", str(output), *map(str, inputs)],
               cwd=output.parent, check=False)


@pytest.mark.parametrize(("model", "damage", "message"), [
    ("au_model", lambda folder: (folder / "model.json").write_text((folder / "model.json").read_text()[:200]),
     "model.json is damaged (JSONDecodeError"),
    ("au_model", lambda folder: (folder / "model.json").write_text(json.dumps({"kind": "linear", "format": FORMAT})),
     "model.json is damaged (KeyError"),
    ("cnn", lambda folder: (folder / "model.keras").write_bytes((folder / "model.keras").read_bytes()[:5000]),
     "model.keras is damaged or not a Keras model"),
    ("au_model", lambda folder: (folder / "au_settings.json").write_text((folder / "au_settings.json").read_text()[:20]),
     "au_settings.json is damaged (JSONDecodeError"),
    ("au_model", lambda folder: (folder / "au_settings.json").write_bytes(b"\xff\xfe\x00\x01"),
     "au_settings.json is damaged (UnicodeDecodeError"),
    ("cnn", lambda folder: (folder / "model_info.json").write_text("[]"),
     "model_info.json is damaged (a JSON list, not an object): rebuild it with 'dvc repro --force train_cnn'"),
    ("cnn", lambda folder: (folder / "model_info.json").unlink(), "model_info.json not found: run 'dvc repro train_cnn'"),
])
def test_damaged_model_files_are_one_line(project, tmp_path, model, damage, message):
    folder = Path(shutil.copytree(getattr(load_paths(project), model), tmp_path / model))
    damage(folder)
    result = predict(folder, tmp_path / "out.csv", real_faces("test", "happy", 1)[0])
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "out.csv").exists()


def test_an_interrupted_predict_keeps_the_rows_it_wrote(project, tmp_path):
    """Ctrl-C late in a long predict run: one line, and the rows predicted so far in a .partial.csv beside the
    output (the output itself is not written half)."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for face in [*real_faces("test", "happy", 80), *real_faces("test", "sad", 80)]:
        shutil.copy(face, inputs / face.name)
    out = tmp_path / "predictions.csv"
    command = Path(sys.executable).parent / "face-emotion"
    process = subprocess.Popen([str(command), "predict", "--model", str(load_paths(project).au_model), "--output",
                                str(out), str(inputs)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=project_env())
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not any(p.stat().st_size > 3000 for p in tmp_path.glob(".predictions.csv.*")):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    last = err.strip().splitlines()[-1]  # after the progress bar's lines
    found = re.fullmatch(r"error: interrupted; the (\d+) rows predicted before it are in (.+\.partial\.csv)", last)
    assert process.returncode == 2 and found and err.count("error: ") == 1, err
    kept = pd.read_csv(found.group(2))
    assert len(kept) == int(found.group(1)) > 0 and set(kept.path) <= {str(p) for p in inputs.iterdir()}
    assert kept.emotion.dropna().isin(CLASSES).all() and not out.exists() and not list(tmp_path.glob(".predictions.csv.*"))


def test_hostile_inputs_are_counted_rejections(project, tmp_path):
    """A decompression bomb, a symlink loop, a palette image, a 16-bit image and an empty file among real faces:
    each gets its row and reason; the others are predicted."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for face in real_faces("test", "surprise", 2):
        shutil.copy(face, inputs / face.name)
    Image.new("L", (10_000, 10_000)).save(inputs / "bomb.png")  # 100 megapixels of zeros in a small file
    (inputs / "loop.jpg").symlink_to(inputs / "loop.jpg")
    Image.open(real_faces("test", "happy", 1)[0]).convert("P").save(inputs / "palette.png")
    Image.fromarray(np.asarray(Image.open(real_faces("test", "sad", 1)[0])).astype(np.uint16) * 257).save(inputs / "deep.png")
    (inputs / "empty.jpg").write_bytes(b"")
    out = tmp_path / "predictions.csv"
    result = predict(load_paths(project).au_model, out, *sorted(inputs.iterdir()))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    table = pd.read_csv(out, dtype={"reason": str, "emotion": str}).fillna({"reason": "", "emotion": ""})
    table.index = table.path.map(lambda path: Path(path).name)
    assert "unreadable image" in table.reason["bomb.png"] and table.reason["empty.jpg"].startswith("empty file")
    assert table.reason["loop.jpg"] != "" and table.emotion["loop.jpg"] == ""
    assert table.emotion["palette.png"] in CLASSES and table.emotion["deep.png"] in CLASSES
    assert len(table) == 7


def test_the_same_params_give_the_same_metrics(quick_project, tmp_path):
    """The CNN retrained from scratch (seeded, op determinism) and everything downstream: the same metrics, to the
    last digit."""
    work = Path(shutil.copytree(quick_project, tmp_path / "work", symlinks=True))
    paths = load_paths(work)
    before = {p: p.read_text() for p in (paths.train_cnn_metrics, paths.evaluate_metrics)}
    assert "Running stage 'train_cnn'" in run(["dvc", "repro", "--single-item", "--force", "train_cnn"], cwd=work).stdout
    run(["dvc", "repro"], cwd=work)
    assert {p: p.read_text() for p in before} == before
