"""Helpers every lane shares: real FER2013 faces (from the pulled data/), small folders built from them, bad files, a
copy of the project as a fresh clone has it, commands run as a user runs them."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from face_emotion.core.config import AuModelParams, Params, compose_conf, parse_params, write_default_params
from face_emotion.core.facs import EMOTIONS
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import AU_COLUMNS

REPO = Path(__file__).resolve().parents[1]
FER2013 = REPO / "data" / "fer2013"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
CLASSES = list(EMOTIONS)


def default_params(*overrides: str) -> Params:
    """The project's parameters as conf/ composes them (``overrides`` as ``dvc exp run -S`` takes them)."""
    return parse_params(compose_conf(*overrides, conf_dir=REPO / "conf"))


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


ONE_CORE_PER_WORKER = {"LOKY_MAX_CPU_COUNT": "1"}
"""The suite runs one pytest-xdist worker per core, so a fit that spreads over every core (the EBM's bags in joblib
processes) only adds their start-up: `/usr/bin/time python -m stages.train_au_model` on the quick run took 9.7-10.5 s
of CPU on one core, 14.2-15.9 s on two, for the same model. Set in the workers (tests/conftest.py) and in the commands
they run."""


def project_env() -> dict[str, str]:
    """Environment for subprocesses: this interpreter's bin first (so dvc.yaml's `python` is the venv's)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(TF_CPP_MIN_LOG_LEVEL="2", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", **ONE_CORE_PER_WORKER)
    return env


def run(cmd: list[str], cwd: Path, check: bool = True, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Run a command (``env``: added to the environment), returning its output; on an unexpected failure show what
    it printed."""
    result = subprocess.run(cmd, cwd=cwd, env=project_env() | (env or {}), capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def run_outputs() -> tuple[str, ...]:
    """What a pipeline run leaves in the working tree (dvc.yaml's outputs, dvc.lock) and data.dvc: never copied, so a
    test starts as a fresh clone does and brings its own data."""
    paths = load_paths(REPO)
    outputs = [getattr(paths, name).relative_to(REPO).as_posix() for name in paths.__dataclass_fields__
               if name != "teachable_machine"]
    return (*outputs, "dvc.lock", "data.dvc")


def copy_project(target: Path) -> Path:
    """The project's files as a fresh clone would have them (tracked and untracked, not ignored), in a new git repo.

    params.yaml is composed afresh from conf/: the working tree's may hold the experiment `dvc exp run -S` applied last.
    """
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    skipped = run_outputs()
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file() and not name.startswith(skipped):
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


def seed_video_folder(target: Path, videos_per_class: int, frames: int) -> Path:
    """Labelled 'videos' in OpenFace FeatureExtraction form, <target>/<class>/<class>_<i>.csv: each video ``frames``
    consecutive real rows of one emotion of the original project's AU table (real OpenFace measurements of FER2013
    faces; only their grouping into videos is made up)."""
    if not SEED_TABLE.is_file():
        pytest.fail(f"{SEED_TABLE} missing: run 'make data' (dvc pull) first")
    table = pd.read_csv(SEED_TABLE, skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    for code, emotion in enumerate(CLASSES):
        rows = table[table.emotion == code].drop(columns="emotion")
        (target / emotion).mkdir(parents=True)
        for video in range(videos_per_class):
            chunk = rows.iloc[video * frames:(video + 1) * frames].reset_index(drop=True)
            head = pd.DataFrame({"frame": chunk.index + 1, "face_id": 0, "timestamp": chunk.index / 30,
                                 "confidence": 0.98, "success": 1})
            pd.concat([head, chunk], axis=1).to_csv(target / emotion / f"{emotion}_{video}.csv", index=False)
    return target


VIDEO = SHARED_FIXTURES / "media" / "WolfgangLanger_Pexels.mp4"
"""The fixture video: 472 frames, 640x360, one face."""


def write_clip(output: Path, *arguments: str) -> Path:
    """``output`` written by FFmpeg (the binary imageio-ffmpeg ships, a test dependency) with ``arguments``."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *arguments, str(output)], check=True)
    return output


def video_clip_folder(target: Path, classes: list[str], clips_per_class: int, seconds: float = 0.5) -> Path:
    """Labelled videos, <target>/<class>/clip_<i>.mp4: short clips of the fixture video, each from its own second
    (real frames of a real face; only the labels are made up)."""
    for c, label in enumerate(classes):
        (target / label).mkdir(parents=True)
        for i in range(clips_per_class):
            start = c * clips_per_class + i
            write_clip(target / label / f"clip_{i}.mp4", "-ss", str(start), "-t", str(seconds), "-i", str(VIDEO), "-an")
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
"""The quick experiment on a project's own small folder of real faces."""
ALL_STAGES = ["check_params", "prepare", "extract_au", "au_validity", "mask_faces", "mask_train_faces", "train_au_model",
              "train_upper_face_au_model", "train_cnn", "train_mask_detector", "answer_faces", "surrogates", "explain",
              "evaluate", "report", "practice"]


def stages_run(output: str) -> list[str]:
    """The stages a dvc command ran, in order, from what it printed."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def synthetic_au_table(classes: tuple[str, ...] = ("happy", "sad", "surprise"), rows_per_class: int = 40,
                       seed: int = 0) -> pd.DataFrame:
    """AU rows where each class raises its own AUs (happy AU12, sad AU15, surprise AU26): tiny, and the answer known."""
    rng = np.random.default_rng(seed)
    frames = []
    for label, au in zip(classes, ("AU12_r", "AU15_r", "AU26_r"), strict=False):
        frame = pd.DataFrame(rng.uniform(0, 1, size=(rows_per_class, len(AU_COLUMNS))), columns=list(AU_COLUMNS))
        frame[au] += 3
        frame["label"] = label
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table["success"] = True
    table["path"] = [f"face_{i}.jpg" for i in range(len(table))]
    return table


SYNTHETIC_CLASSES = ["happy", "sad", "surprise"]
"""The classes of synthetic_au_table."""
SYNTHETIC_MODEL_OVERRIDES = {
    "linear": ["au_model=linear", "au_model.features=au17", "au_model.class_weight=balanced"],
    "additive": ["au_model=additive", "au_model.features=au17", "au_model.knots=4", "au_model.class_weight=balanced"],
    "pairwise": ["au_model=pairwise", "au_model.features=au17", "au_model.rounds=20", "au_model.learning_rate=0.3",
                 "au_model.class_weight=balanced"],
    "ebm": ["au_model=ebm", "au_model.features=au17", "au_model.interactions=2", "au_model.max_bins=16",
            "au_model.max_interaction_bins=16", "au_model.outer_bags=1", "au_model.class_weight=balanced"],
}


@functools.cache
def synthetic_model_params(kind: str) -> AuModelParams:
    """Each AU model family as conf/ configures it, small and on the 17 AUs, for the synthetic table."""
    return default_params(*SYNTHETIC_MODEL_OVERRIDES[kind]).au_model


def measured_face_cache(root: Path) -> tuple[Path, pd.DataFrame]:
    """The face cache and the AU table as prepare and extract_au write them (real MediaPipe), from 8 real faces per
    class and split, 2 of each class's training faces to validation."""
    from face_emotion.au.extract import extract
    from face_emotion.data.faces import write_face_cache
    from face_emotion.data.manifest import build_manifest

    params = default_params()
    data = dataclasses.replace(params.data, root=str(build_face_folder(root / "faces", per_class=8)), val_fraction=0.25)
    manifest = build_manifest(data, seed=0)
    write_face_cache(manifest, root / "faces.npz")
    return root / "faces.npz", extract(manifest, params.au, dataclasses.replace(params.compute, au_workers=1))
