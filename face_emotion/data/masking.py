"""Synthetic face masks: the lower face covered, as the children this project serves saw faces.

A mask is drawn on an image array of any size from a :class:`MaskLook`, the random choices of one mask (style, top
edge, tone, tint, surface pattern), seeded per image. The styles (core.config.MASK_STYLES): surgical_pleated and
surgical_flat over nose, mouth and chin, narrowing to the jaw; cloth, a band straight across like a scarf; respirator,
an oval cup from over the nose to under the chin. The same drawing masks the test faces (mask_faces), the CNN's
training faces on the fly (cnn.mask_prob) and the mask detector's training faces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from face_emotion.core.tables import usable
from face_emotion.data.images import read_image

JITTER = 0.04
"""Seeded random shift of the mask's centre, as a share of the image width."""
TONES = {"surgical_pleated": (170, 245), "surgical_flat": (170, 245), "cloth": (35, 225), "respirator": (190, 250)}
"""Each style's range of grey levels (0-255)."""
TEXTURES = {"surgical_pleated": (14, 30), "surgical_flat": (2, 6), "cloth": (6, 22), "respirator": (10, 24)}
"""Each style's range of surface pattern strength (grey levels): pleats, weave or seam."""
SURGICAL_TINTS = ((1.0, 1.0, 1.0), (0.78, 0.9, 1.0), (0.75, 0.95, 0.92))
"""White, blue and green surgical masks (RGB multipliers of the tone)."""


@dataclass(frozen=True)
class MaskLook:
    """The random choices of one mask; positions are shares of the image height (``top``) and width (``shift``)."""

    style: str
    top: float
    """The top edge over the nose, from the image top (0.5: the lower half covered)."""
    shift: float
    tone: float
    tint: tuple[float, float, float]
    texture: float
    phase: float
    """Where the surface pattern starts, 0-1."""


def draw_look(rng: np.random.Generator, styles: list[str] | tuple[str, ...], heights: tuple[float, float]) -> MaskLook:
    """One mask: a style from ``styles``, covering a share of the face height from ``heights`` (low, high)."""
    style = styles[int(rng.integers(len(styles)))]
    if style.startswith("surgical"):
        tint = SURGICAL_TINTS[int(rng.integers(len(SURGICAL_TINTS)))]
    elif style == "cloth":
        tint = tuple(float(t) for t in rng.uniform(0.55, 1.0, 3))
    else:
        tint = (1.0, 1.0, 1.0)
    return MaskLook(style=style, top=1.0 - float(rng.uniform(*heights)), shift=float(rng.uniform(-JITTER, JITTER)),
                    tone=float(rng.uniform(*TONES[style])), tint=tint,  # type: ignore[arg-type]
                    texture=float(rng.uniform(*TEXTURES[style])), phase=float(rng.uniform()))


def coverage(look: MaskLook, height: int, width: int) -> np.ndarray:
    """How much of each pixel the mask covers (0-1, edges anti-aliased), an (height, width) float array."""
    across = np.abs((np.arange(width) + 0.5) / width - 0.5 - look.shift)[None, :]
    down = ((np.arange(height) + 0.5) / height)[:, None]
    depth = 1.0 - look.top
    below_top = np.clip((down - look.top) / depth, 0.0, 1.0)
    if look.style == "respirator":  # an oval cup from over the nose to under the chin
        radius = np.hypot(across / 0.4, (down - look.top - 0.55 * depth) / (0.62 * depth))
        return np.clip((1.0 - radius) * min(0.4 * width, 0.62 * depth * height) + 0.5, 0.0, 1.0)
    if look.style == "cloth":
        top_edge, half_width = look.top + 0.06 * depth * (across / 0.5) ** 2, np.full_like(below_top, 0.6)
    else:
        top_edge = look.top - 0.04 * depth + 0.12 * depth * (across / 0.44) ** 2
        half_width = 0.44 - 0.12 * below_top**2
    vertical = np.clip((down - top_edge) * height + 0.5, 0.0, 1.0)
    horizontal = np.clip((half_width - across) * width + 0.5, 0.0, 1.0)
    return vertical * horizontal


def surface(look: MaskLook, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The mask's grey levels, an (height, width) float array: its tone, lighter towards the top, and its pattern."""
    across = ((np.arange(width) + 0.5) / width - 0.5 - look.shift)[None, :]
    down = ((np.arange(height) + 0.5) / height)[:, None]
    rows = np.clip((down - look.top) / (1.0 - look.top), 0.0, 1.0)
    grey = look.tone * (1.04 - 0.12 * rows) + np.zeros((1, width))
    if look.style == "surgical_pleated":  # three folds across
        grey = grey - look.texture * np.clip(np.sin(2 * np.pi * (3 * rows + look.phase)), 0.0, 1.0) ** 6
    elif look.style == "respirator":  # the seam down the middle
        grey = grey - look.texture * np.exp(-((across / 0.025) ** 2))
    elif look.style == "cloth":  # a weave
        grey = grey + look.texture * np.sin(2 * np.pi * (8 * across + look.phase)) * np.sin(2 * np.pi * 8 * rows)
    grey = grey + rng.normal(0.0, look.texture / 6, (height, width))
    return np.clip(grey, 0.0, 255.0)


def apply_mask(image: np.ndarray, look: MaskLook, rng: np.random.Generator) -> np.ndarray:
    """A masked copy of an (h, w), (h, w, 1) or (h, w, 3) image array (uint8 or float 0-255), of the same dtype."""
    height, width = image.shape[:2]
    cover = coverage(look, height, width)
    grey = surface(look, height, width, rng)
    if image.ndim == 3 and image.shape[2] == 3:
        fill = grey[..., None] * np.asarray(look.tint)[None, None, :]
        cover = cover[..., None]
    else:
        fill = grey * float(np.dot(look.tint, (0.299, 0.587, 0.114)))
        if image.ndim == 3:
            fill, cover = fill[..., None], cover[..., None]
    masked = image * (1.0 - cover) + fill * cover
    return masked.round().astype(image.dtype) if image.dtype == np.uint8 else masked.astype(image.dtype)


def mask_faces(faces: np.ndarray, rng: np.random.Generator, probability: float, styles: list[str],
               heights: tuple[float, float]) -> np.ndarray:
    """A copy of a batch of (n, h, w[, c]) faces, each masked with ``probability`` by a random mask."""
    masked = faces.copy()
    for i in np.flatnonzero(rng.random(len(faces)) < probability):
        masked[i] = apply_mask(faces[i], draw_look(rng, styles, heights), rng)
    return masked


def image_rng(seed: int, md5: str) -> np.random.Generator:
    """A generator for one image, fixed by the experiment seed and the image's content (order does not matter)."""
    return np.random.default_rng([seed, int(md5[:8], 16)])


def write_masked_copies(manifest: pd.DataFrame, splits: tuple[str, ...], styles: list[str] | tuple[str, ...],
                        heights: tuple[float, float], seed: int, out_dir: str | Path, copies: int = 1) -> pd.DataFrame:
    """Write ``copies`` masked copies of every usable image of ``splits`` under ``out_dir``/<class>/ (each a mask drawn
    from ``styles`` over a share of the face from ``heights``, seeded per image and copy) and return their manifest
    rows.

    The rows keep label, split and duplicate flags of the originals; path and md5 are the masked file's,
    ``source_path`` the original's.
    """
    out_dir = Path(out_dir)
    chosen = usable(manifest)
    chosen = chosen[chosen.split.isin(splits)].reset_index(drop=True)
    rows, paths, hashes = [], [], []
    for copy in range(copies):
        for i, row in enumerate(chosen.itertuples()):
            target = out_dir / row.label / f"{i:05d}_{Path(row.path).stem}{f'_copy{copy}' if copy else ''}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            rng = image_rng(seed + copy, row.md5)
            image = np.asarray(read_image(row.path))
            Image.fromarray(apply_mask(image, draw_look(rng, styles, heights), rng)).save(target)
            rows.append(i)
            paths.append(target.as_posix())
            hashes.append(hashlib.md5(target.read_bytes()).hexdigest())
    copied = chosen.iloc[rows].reset_index(drop=True)
    return copied.assign(path=paths, md5=hashes, source_path=copied.path)
