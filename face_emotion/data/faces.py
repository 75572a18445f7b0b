"""Face pixel arrays: every usable image decoded once into one array file (48x48 uint8), for the CNN and evaluation."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.core.errors import UserError
from face_emotion.core.io import atomic_path
from face_emotion.core.tables import SPLITS, usable
from face_emotion.data.images import FACE_SIZE, read_image, to_gray_face


def decode_faces(images: pd.DataFrame) -> np.ndarray:
    """(n, 48, 48, 1) uint8 faces for manifest rows ``images``."""
    faces = np.zeros((len(images), FACE_SIZE, FACE_SIZE, 1), dtype=np.uint8)
    for i, path in enumerate(images.path):
        faces[i, :, :, 0] = to_gray_face(read_image(path))
    return faces


def write_face_cache(manifest: pd.DataFrame, target: str | Path) -> dict[str, int]:
    """Decode every usable image once into one .npz: per split its faces, labels (names) and paths."""
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS:
        rows = usable(manifest, split)
        arrays[f"{split}_faces"] = decode_faces(rows)
        arrays[f"{split}_labels"] = rows.label.to_numpy(dtype=str)
        arrays[f"{split}_paths"] = rows.path.to_numpy(dtype=str)
    with atomic_path(target) as tmp:
        np.savez(tmp, **arrays)
    return {split: len(arrays[f"{split}_faces"]) for split in SPLITS}


def _read_split(path: str | Path, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One split of the face cache as (faces, label names, paths); a damaged or foreign file is one clear error."""
    rebuild = "rebuild it with 'dvc repro --force prepare'"
    try:
        with np.load(path, allow_pickle=False) as cache:
            faces, labels, paths = cache[f"{split}_faces"], cache[f"{split}_labels"], cache[f"{split}_paths"]
    except FileNotFoundError:
        raise UserError(f"face cache {path} not found: run 'dvc repro prepare'") from None
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        raise UserError(f"face cache {path} is damaged ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}): "
                        f"{rebuild}") from None
    if faces.dtype != np.uint8 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE, 1) or not len(faces) == len(labels) == len(paths):
        raise UserError(f"face cache {path} holds {split} arrays of the wrong shape {faces.shape}: {rebuild}")
    return faces, labels, paths


def load_face_cache(path: str | Path, split: str, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One split of the face cache as (faces, class indices); a damaged or foreign file is one clear error."""
    faces, labels, _ = _read_split(path, split)
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise UserError(f"face cache {path} has class '{unknown[0]}', not in data.classes: rebuild it with "
                        "'dvc repro --force prepare'")
    return faces, np.array([classes.index(label) for label in labels], dtype=np.int64)


def faces_by_path(path: str | Path, split: str) -> dict[str, np.ndarray]:
    """One split of the face cache as image path -> its 48x48 face."""
    faces, _, paths = _read_split(path, split)
    return dict(zip(paths.tolist(), faces, strict=True))


def face_paths(path: str | Path, split: str) -> np.ndarray:
    """The image path of each face of one split of the face cache, in its order."""
    return _read_split(path, split)[2]
