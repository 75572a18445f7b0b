"""Google Teachable Machine: its image-model exports as comparable models, and training images in its upload layout."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from face_emotion.core.errors import UserError
from face_emotion.core.tables import USED

MODEL_FILE = "keras_model.h5"
LABELS_FILE = "labels.txt"
INPUT_SIZE = 224
"""Teachable Machine image models take 224x224 RGB scaled to [-1, 1]."""
BATCH = 128


def read_labels(path: Path) -> list[str]:
    """Class names of an export, in output order: lines '0 Happy' become 'happy'."""
    if not path.is_file():
        raise UserError(f"Teachable Machine export {path.parent} has no {LABELS_FILE}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} cannot be read as text ({type(exc).__name__}): export the model again") from None
    labels = []
    for number, line in enumerate(filter(None, (line.strip() for line in text.splitlines()))):
        index, _, name = line.partition(" ")
        if index != str(number) or not name.strip():
            raise UserError(f"{path}: line {number + 1} is {line!r}, expected '{number} <class name>'")
        labels.append(name.strip().lower())
    if not labels:
        raise UserError(f"{path} lists no classes")
    if len(set(labels)) != len(labels):
        raise UserError(f"{path} lists a class twice")
    return labels


def check_export(folder: Path) -> None:
    """A one-line UserError, without loading TensorFlow, unless the export's labels read and its model file is a
    complete Keras HDF5 file with a model config (check_params runs this before any stage)."""
    import h5py

    read_labels(folder / LABELS_FILE)
    try:
        with h5py.File(folder / MODEL_FILE, "r") as h5:
            if "model_config" not in h5.attrs or "model_weights" not in h5:
                raise UserError(f"{folder / MODEL_FILE} holds no Keras model (no model config or weights): export the "
                                "model again")
    except OSError as exc:
        raise UserError(f"{folder / MODEL_FILE} is damaged or not an HDF5 file ({str(exc).splitlines()[0][:120]}): "
                        "export the model again") from None


def _legacy_layers() -> dict[str, type]:
    """Keras 3 stand-ins for layers whose tf.keras 2 config Keras 3 rejects (DepthwiseConv2D's ``groups``)."""
    import keras

    class DepthwiseConv2D(keras.layers.DepthwiseConv2D):
        def __init__(self, *args, groups: int | None = None, **kwargs) -> None:  # groups is always 1 for depthwise
            super().__init__(*args, **kwargs)

    return {"DepthwiseConv2D": DepthwiseConv2D}


def to_model_input(faces: np.ndarray) -> np.ndarray:
    """(n, h, w, 1) uint8 faces as Teachable Machine's input: (n, 224, 224, 3) float32 in [-1, 1]."""
    resized = [np.asarray(Image.fromarray(face[:, :, 0]).convert("RGB").resize((INPUT_SIZE, INPUT_SIZE),
                                                                              Image.Resampling.LANCZOS))
               for face in faces]
    return np.stack(resized).astype(np.float32) / 127.5 - 1.0


@dataclass
class TeachableMachineModel:
    """A loaded export: the Keras model and its class names in output order."""

    name: str
    model: object
    labels: list[str]

    def predict_labels(self, faces: np.ndarray) -> np.ndarray:
        """The export's class name for each (n, h, w, 1) uint8 face."""
        indices = [self.model.predict_on_batch(to_model_input(faces[i:i + BATCH])).argmax(axis=1)  # type: ignore[attr-defined]
                   for i in range(0, len(faces), BATCH)]
        return np.asarray(self.labels, dtype=object)[np.concatenate(indices)] if indices else np.array([], dtype=object)


def load_export(folder: Path) -> TeachableMachineModel:
    """Load one export folder (keras_model.h5 + labels.txt), old tf.keras 2 exports included."""
    import keras

    labels = read_labels(folder / LABELS_FILE)
    try:
        model = keras.models.load_model(folder / MODEL_FILE, compile=False, custom_objects=_legacy_layers())
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise UserError(f"{folder / MODEL_FILE} could not be loaded: {str(exc).splitlines()[0][:200]}") from None
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[-1] != 3:
        raise UserError(f"{folder / MODEL_FILE} takes input of shape {shape}, not images (n, height, width, 3): "
                        "is it a Teachable Machine image model?")
    outputs = model.output_shape[-1]
    if outputs != len(labels):
        raise UserError(f"{folder}: the model has {outputs} outputs but {LABELS_FILE} lists {len(labels)} classes")
    return TeachableMachineModel(f"tm_{folder.name}", model, labels)


def find_exports(root: str | Path) -> list[Path]:
    """Export folders under ``root``: ``root`` itself or its subfolders holding keras_model.h5."""
    root = Path(root)
    if not root.is_dir():
        return []
    candidates = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    return [folder for folder in candidates if (folder / MODEL_FILE).is_file()]


def export_training_images(manifest: pd.DataFrame, out_dir: str | Path, max_per_class: int | None = None,
                           seed: int = 42) -> dict[str, int]:
    """Copy the usable training images (train and val) into ``out_dir``/<class>/, the layout Teachable Machine's
    upload takes, one copy per distinct image; returns the count per class. ``out_dir`` must be new or empty."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder: name a new folder (nothing is overwritten)")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UserError(f"{out_dir} is not empty; choose a new folder (nothing is overwritten)")
    images = manifest[(manifest.status == USED) & manifest.split.isin(["train", "val"])].drop_duplicates("pixel_md5")
    if images.empty:
        raise UserError("the manifest has no usable training images (is data.kind an AU table?)")
    counts = {}
    for label, group in images.groupby("label"):
        if max_per_class is not None and len(group) > max_per_class:
            group = group.sample(n=max_per_class, random_state=seed).sort_index()
        (out_dir / label).mkdir(parents=True, exist_ok=True)
        for i, path in enumerate(group.path):
            shutil.copyfile(path, out_dir / label / f"{i:05d}_{Path(path).name}")
        counts[label] = len(group)
    return counts
