"""Face pixel arrays for the CNN, read from the manifest's usable images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from face_emotion.images import FACE_SIZE, read_image, to_gray_face


def load_faces(images: pd.DataFrame, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 48, 48, 1) uint8 faces and their class indices for manifest rows ``images``."""
    faces = np.zeros((len(images), FACE_SIZE, FACE_SIZE, 1), dtype=np.uint8)
    for i, path in enumerate(images.path):
        faces[i, :, :, 0] = to_gray_face(read_image(path))
    labels = np.array([classes.index(label) for label in images.label], dtype=np.int64)
    return faces, labels


def usable(manifest: pd.DataFrame, split: str) -> pd.DataFrame:
    """The manifest's usable rows of one split, in manifest order."""
    return manifest[(manifest.status == "ok") & (manifest.split == split)].reset_index(drop=True)
