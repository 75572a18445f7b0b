"""Reading face images of any common format safely, and bringing them to the 48x48 grayscale form."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
FACE_SIZE = 48


class ImageRejected(Exception):
    """An input file that cannot be used as an image; ``str(exc)`` is the reason."""


def is_image_name(path: str | Path) -> bool:
    """Whether the file name has one of the supported image extensions."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _to_8bit(image: Image.Image) -> Image.Image:
    """Convert 16-bit and 32-bit single-channel images to 8-bit by their value range."""
    values = np.asarray(image, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    return Image.fromarray(scaled.round().astype(np.uint8), mode="L")


def read_image(path: str | Path) -> Image.Image:
    """Decode ``path`` fully, upright by its EXIF tag, as an 8-bit 'L' or 'RGB' image.

    Raises ImageRejected with a short reason for empty, undecodable or truncated files.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageRejected("empty file (0 bytes)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
    except ImageRejected:
        raise
    except UnidentifiedImageError:
        raise ImageRejected("not an image (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageRejected(f"unreadable image ({str(exc).splitlines()[0] or type(exc).__name__})") from None
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return _to_8bit(image)
    if image.mode == "L":
        return image
    return image.convert("RGB")


def to_gray_face(image: Image.Image, size: int = FACE_SIZE) -> np.ndarray:
    """The image as a ``size`` x ``size`` uint8 grayscale array (the FER2013 form)."""
    gray = image.convert("L")
    if gray.size != (size, size):
        gray = gray.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(gray, dtype=np.uint8)
