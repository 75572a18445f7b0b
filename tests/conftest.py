"""Shared fixtures: real FER2013 faces (from the pulled data/), small folders built from them, a repo copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from face_emotion.config import write_default_params

REPO = Path(__file__).resolve().parents[1]
FER2013 = REPO / "data" / "fer2013"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
CLASSES = ["angry", "disgust", "happy", "neutral", "sad", "surprise"]


def real_faces(split: str, label: str, count: int) -> list[Path]:
    """The first ``count`` real FER2013 faces of one class (the data is restored by `make data`)."""
    folder = FER2013 / split / label
    if not folder.is_dir():
        pytest.fail(f"{folder} missing: run 'make data' (dvc pull) first")
    return sorted(folder.iterdir())[:count]


def build_face_folder(root: Path, per_class: int, labels: list[str] = CLASSES) -> Path:
    """A FER2013-layout folder (train/ and test/) with ``per_class`` real faces per class and split."""
    for split in ("train", "test"):
        for label in labels:
            target = root / split / label
            target.mkdir(parents=True, exist_ok=True)
            for face in real_faces(split, label, per_class):
                shutil.copy(face, target / face.name)
    return root


def add_bad_files(root: Path) -> dict[str, str]:
    """Bad inputs a real folder can hold; returns path -> the reason word the manifest must give."""
    happy = root / "train" / "happy"
    (happy / "empty.jpg").write_bytes(b"")
    good = next(happy.glob("*.jpg")).read_bytes()
    (happy / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (happy / "notes.jpg").write_text("this is a text file named like an image\n")
    (happy / "readme.txt").write_text("not an image\n")
    (root / "train" / "stray.jpg").write_bytes(good)
    (root / "train" / "hapy").mkdir()
    (root / "train" / "hapy" / "typo.jpg").write_bytes(good)
    return {
        "train/happy/empty.jpg": "empty file",
        "train/happy/truncated.jpg": "unreadable image",
        "train/happy/notes.jpg": "not an image",
        "train/happy/readme.txt": "not an image file",
        "train/stray.jpg": "not inside a class folder",
        "train/hapy/typo.jpg": "class 'hapy' not in data.classes",
    }


def project_env() -> dict[str, str]:
    """Environment for subprocesses: this interpreter's bin first (so dvc.yaml's `python` is the venv's)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return env


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command, returning its output; on an unexpected failure show what it printed."""
    result = subprocess.run(cmd, cwd=cwd, env=project_env(), capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


RUN_OUTPUTS = ("features/", "models/logreg/", "models/cnn/", "models/.gitignore", "metrics/", "plots/", "reports/",
               "dvc.lock", "data.dvc")
"""What a pipeline run leaves in the working tree: never copied, so a test starts as a fresh clone does."""


def copy_project(target: Path) -> Path:
    """The project's files as a fresh clone would have them (tracked and untracked, not ignored), in a new git repo.

    params.yaml is composed afresh from conf/: the working tree's may hold the experiment `dvc exp run -S` applied last.
    """
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not name.startswith(RUN_OUTPUTS):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    write_default_params(target)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=target, check=True, capture_output=True)
    return target


SEED_TABLE = REPO / "data" / "openface" / "seed_emotion.csv"


def seed_table_sample(target: Path, rows: int) -> Path:
    """``rows`` evenly spaced real rows of the original project's OpenFace AU table (sorted by emotion), as CRLF CSV."""
    if not SEED_TABLE.is_file():
        pytest.fail(f"{SEED_TABLE} missing: run 'make data' (dvc pull) first")
    header, *body = [line for line in SEED_TABLE.read_bytes().split(b"\r\n") if line]
    step = max(1, len(body) // rows)
    target.write_bytes(b"\r\n".join([header, *body[::step][:rows]]) + b"\r\n")
    return target


def _as_tf_keras2(node: object) -> object:
    """A Keras 3 model config rewritten the way tf.keras 2 (Teachable Machine's exporter) wrote it."""
    if isinstance(node, list):
        return [_as_tf_keras2(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return node["config"]["name"]
    out = {k: _as_tf_keras2(v) for k, v in node.items()}
    if out.get("class_name") == "InputLayer":
        out["config"]["batch_input_shape"] = out["config"].pop("batch_shape")
        out["config"].pop("optional", None)
    if out.get("class_name") == "DepthwiseConv2D":
        out["config"]["groups"] = 1  # the argument Keras 3 rejects
    return out


def build_teachable_machine_export(folder: Path, labels: list[str], seed: int = 0) -> Path:
    """A small model with a Teachable Machine export's structure and file format, in ``folder``.

    Like a real export: a Sequential of a MobileNet-like feature Sequential (with DepthwiseConv2D) and a dense
    head, 224x224x3 input, saved as keras_model.h5 in tf.keras 2's config format, and labels.txt ('0 Name').
    """
    import json

    import h5py
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    features = keras.Sequential([keras.Input((224, 224, 3)), layers.Conv2D(8, 3, strides=4, activation="relu"),
                                 layers.DepthwiseConv2D(3, strides=2), layers.BatchNormalization(), layers.ReLU(6.0),
                                 layers.GlobalAveragePooling2D()], name="sequential_1")
    head = keras.Sequential([keras.Input((8,)), layers.Dense(16, activation="relu", name="dense_Dense1"),
                             layers.Dense(len(labels), activation="softmax", name="dense_Dense2")], name="sequential_3")
    model = keras.Sequential([keras.Input((224, 224, 3)), features, head], name="sequential_4")
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "keras_model.h5")
    with h5py.File(folder / "keras_model.h5", "r+") as h5:
        h5.attrs["model_config"] = json.dumps(_as_tf_keras2(json.loads(h5.attrs["model_config"])))
        h5.attrs["keras_version"] = "2.4.0"
    (folder / "labels.txt").write_text("".join(f"{i} {name}\n" for i, name in enumerate(labels)))
    return folder


QUICK = ["-S", "experiment=quick", "-S", "data.root=faces"]
ALL_STAGES = ["prepare", "extract_au", "train_logreg", "explain", "cache_faces", "train_cnn", "mask_test", "evaluate",
              "report"]


def stages_run(output: str) -> list[str]:
    """The stages a dvc command ran, in order, from what it printed."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


@pytest.fixture(scope="session")
def quick_project(tmp_path_factory):
    """A fresh copy of the project that has run `dvc exp run -S experiment=quick` on 10 real faces per class,
    bad files among them, with a Teachable Machine export placed where the config says."""
    project = copy_project(tmp_path_factory.mktemp("pipeline") / "project")
    build_face_folder(project / "faces", per_class=10)
    add_bad_files(project / "faces")
    build_teachable_machine_export(project / "models" / "teachable_machine" / "classroom", [c.title() for c in CLASSES])
    result = run(["dvc", "exp", "run", "--name", "first", *QUICK], cwd=project)
    ran = stages_run(result.stdout)
    assert sorted(ran) == sorted(ALL_STAGES) and ran[0] == "prepare" and ran[-1] == "report"
    return project
