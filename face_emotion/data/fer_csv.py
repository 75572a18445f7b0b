"""Converting the public `fer2013.csv` table (emotion,pixels,Usage) into the image-folder layout prepare reads."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

from face_emotion.core.errors import UserError

FER_CODES = {0: "angry", 1: "disgust", 2: "fear", 3: "happy", 4: "sad", 5: "surprise", 6: "neutral"}
USAGE_FOLDERS = {"Training": "train", "PublicTest": "test", "PrivateTest": "private_test"}
"""Kaggle's image-folder release uses Training as train and PublicTest as test; PrivateTest is kept apart."""
REQUIRED_COLUMNS = ("emotion", "pixels", "Usage")
SIDE = 48


def _face(row: dict[str, str]) -> tuple[str, str, np.ndarray]:
    """(split folder, class, 48x48 pixels) of one CSV row; ValueError with a reason if it is malformed."""
    try:
        code = int(row["emotion"])
    except (TypeError, ValueError):
        raise ValueError(f"emotion {row['emotion']!a} is not a number") from None
    if code not in FER_CODES:
        raise ValueError(f"emotion code {code} is not 0-6")
    if row["Usage"] not in USAGE_FOLDERS:
        raise ValueError(f"Usage {row['Usage']!a} is not one of {', '.join(USAGE_FOLDERS)}")
    try:
        values = np.array((row["pixels"] or "").split(), dtype=np.int64)
    except ValueError:
        raise ValueError("pixels are not all integers") from None
    if values.size != SIDE * SIDE or values.min(initial=0) < 0 or values.max(initial=0) > 255:
        raise ValueError(f"pixels: expected {SIDE * SIDE} values in 0-255, got {values.size}")
    return USAGE_FOLDERS[row["Usage"]], FER_CODES[code], values.reshape(SIDE, SIDE).astype(np.uint8)


MAX_FIELD = 1 << 20
"""Longest field read (a row's 2,304 pixel values take about 9,000 characters): a longer one is that row's reason."""


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """Let the csv module read fields of up to ``limit`` characters (its default stops a whole file at 131,072)."""
    saved = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(saved)


def import_fer2013_csv(table: str | Path, out_dir: str | Path) -> dict[str, object]:
    """Write each valid row as ``<out>/<split>/<class>/<Usage>_<row>.png``; count and list the rows skipped (bytes
    that are not UTF-8 and overlong fields among their reasons), and say where reading stopped if a line cannot be
    read at all (a field over MAX_FIELD)."""
    table, out_dir = Path(table), Path(out_dir)
    if not table.is_file():
        raise UserError(f"{table} not found")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir} is a file, not a folder: name a folder to write the images into")
    written: Counter[str] = Counter()
    skipped: list[str] = []
    with table.open(newline="", encoding="utf-8", errors="surrogateescape") as handle, _field_limit(MAX_FIELD):
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{table} has no '{missing[0]}' column (expected emotion,pixels,Usage)")
        rows, stopped = iter(reader), ""
        for number in itertools.count(1):
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                stopped = f"row {number} cannot be read ({exc}): the rows after it were not read"
                break
            try:
                split, label, pixels = _face(row)
            except ValueError as exc:
                skipped.append(f"row {number}: {exc}")
                continue
            target = out_dir / split / label / f"{row['Usage']}_{number:05d}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels, mode="L").save(target)
            written[f"{split}/{label}"] += 1
    return {"written": sum(written.values()), "per_folder": dict(sorted(written.items())), "skipped": skipped,
            "stopped": stopped}
