"""AUs of masked faces: masked copies of a manifest's images written into a folder, then measured like any image."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from face_emotion.au import extract
from face_emotion.core.config import Params
from face_emotion.core.io import atomic_dir, write_csv
from face_emotion.core.tables import ID_COLUMNS, MANIFEST_COLUMNS
from face_emotion.data.masking import write_masked_copies


def mask_and_measure(manifest: pd.DataFrame, splits: tuple[str, ...], styles: list[str], heights: tuple[float, float],
                     params: Params, images: Path, au_cache: Path, copies: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every usable image of ``splits`` masked ``copies`` times into ``images`` (replaced whole, atomically) and
    measured with the configured AU backend (cached in ``au_cache``): the masked copies' manifest and AU table, each
    row with the ``source_path`` of its unmasked original."""
    with atomic_dir(images) as folder:
        masked = write_masked_copies(manifest, splits, styles, heights, params.seed, folder, copies)
        masked["path"] = masked.path.str.replace(folder.as_posix(), images.as_posix(), n=1, regex=False)
    table = extract.extract(masked, params.au, params.compute, au_cache)
    table.insert(1, "source_path", masked.source_path.to_numpy())
    return masked, table


def write_empty(manifest_path: Path, au_table_path: Path, images: Path) -> None:
    """Empty outputs of a masking stage, for data without images."""
    write_csv(pd.DataFrame(columns=[*MANIFEST_COLUMNS, "source_path"]), manifest_path)
    write_csv(pd.DataFrame(columns=[*ID_COLUMNS, "source_path", "success"]), au_table_path)
    images.mkdir(parents=True, exist_ok=True)
