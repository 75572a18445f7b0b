"""Synthetic face masks: the lower face covered, as the children this project serves saw faces."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from face_emotion.core.config import MaskParams
from face_emotion.core.tables import usable
from face_emotion.data.images import read_image

JITTER = 0.04
"""Seeded random shift of the mask's top edge and centre, as a share of the image height and width."""


def _outline(shape: str, top: float) -> list[tuple[float, float]]:
    """The mask's outline in image-relative coordinates (x right, y down, 0..1), its top edge at ``top``.

    surgical: over nose, mouth and chin, narrowing to the jaw; band: straight across, like a scarf.
    """
    if shape == "band":
        return [(-0.1, top), (1.1, top), (1.1, 1.1), (-0.1, 1.1)]
    depth = 1.0 - top
    return [(0.06, top + 0.08 * depth), (0.5, top - 0.04 * depth), (0.94, top + 0.08 * depth),
            (0.9, top + 0.6 * depth), (0.68, 1.05), (0.32, 1.05), (0.1, top + 0.6 * depth)]


def mask_image(image: Image.Image, params: MaskParams, rng: np.random.Generator) -> Image.Image:
    """A copy of ``image`` with its lower ``params.height`` covered by a light, flat mask (seeded jitter)."""
    masked = image.copy()
    top = 1.0 - params.height + rng.uniform(-JITTER, JITTER)
    shift = rng.uniform(-JITTER, JITTER)
    grey = int(rng.integers(185, 235))
    points = [((x + shift) * image.width, y * image.height) for x, y in _outline(params.shape, top)]
    ImageDraw.Draw(masked).polygon(points, fill=grey if image.mode == "L" else (grey, grey, grey))
    return masked


def image_rng(seed: int, md5: str) -> np.random.Generator:
    """A generator for one image, fixed by the experiment seed and the image's content (order does not matter)."""
    return np.random.default_rng([seed, int(md5[:8], 16)])


def masked_test_manifest(manifest: pd.DataFrame, params: MaskParams, seed: int, out_dir: str | Path) -> pd.DataFrame:
    """Write a masked copy of every usable test image under ``out_dir``/<class>/ and return their manifest rows.

    The rows keep label, split and duplicate flags of the originals; path and md5 are the masked file's.
    """
    out_dir = Path(out_dir)
    test = usable(manifest, "test")
    paths, hashes = [], []
    for i, row in enumerate(test.itertuples()):
        target = out_dir / row.label / f"{i:05d}_{Path(row.path).stem}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        mask_image(read_image(row.path), params, image_rng(seed, row.md5)).save(target)
        paths.append(target.as_posix())
        hashes.append(hashlib.md5(target.read_bytes()).hexdigest())
    return test.assign(path=paths, md5=hashes, source_path=test.path)
