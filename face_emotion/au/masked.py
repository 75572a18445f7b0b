"""AUs of masked faces: masked copies of a manifest's images, measured like any image; kept in a folder (the masked
test sets, which later stages read) or measured from a scratch folder that is removed (the training copies, of which
only the measurements are used)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.au import extract
from face_emotion.core.config import Params
from face_emotion.core.io import atomic_dir, write_csv
from face_emotion.core.tables import ID_COLUMNS, MANIFEST_COLUMNS
from face_emotion.data.masking import write_masked_copies


def masked_copy_id(source_path: str, copy: int) -> str:
    """The ``path`` of a masked copy that is not kept as a file: its original's path and which copy it is."""
    return f"{source_path}#masked-copy-{copy}"


def mask_and_measure(manifest: pd.DataFrame, splits: tuple[str, ...], styles: list[str], heights: tuple[float, float],
                     params: Params, au_cache: Path, copies: int = 1, images: Path | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every usable image of ``splits`` masked ``copies`` times and measured with the configured AU backend (cached
    in ``au_cache``): the masked copies' manifest and AU table, each row with the ``source_path`` of its unmasked
    original. With ``images``, the copies are kept there (the folder replaced whole, atomically); without, they are
    measured from a scratch folder that is then removed, and each row's path is ``masked_copy_id`` (the copies are
    redrawn identically from the seed and the original's content)."""
    if images is not None:
        with atomic_dir(images) as folder:
            masked = write_masked_copies(manifest, splits, styles, heights, params.seed, folder, copies)
            masked["path"] = masked.path.str.replace(folder.as_posix(), images.as_posix(), n=1, regex=False)
        table = extract.extract(masked, params.au, params.compute, au_cache)
    else:
        with tempfile.TemporaryDirectory(prefix="masked-copies.") as folder:
            masked = write_masked_copies(manifest, splits, styles, heights, params.seed, folder, copies)
            table = extract.extract(masked, params.au, params.compute, au_cache)
        copy = np.arange(len(masked)) // max(1, len(masked) // copies)
        masked["path"] = [masked_copy_id(source, c) for source, c in zip(masked.source_path, copy, strict=True)]
        table["path"] = masked.path.to_numpy()
    table.insert(1, "source_path", masked.source_path.to_numpy())
    return masked, table


def write_empty(manifest_path: Path, au_table_path: Path, images: Path | None = None) -> None:
    """Empty outputs of a masking stage, for data without images."""
    write_csv(pd.DataFrame(columns=[*MANIFEST_COLUMNS, "source_path"]), manifest_path)
    write_csv(pd.DataFrame(columns=[*ID_COLUMNS, "source_path", "success"]), au_table_path)
    if images is not None:
        images.mkdir(parents=True, exist_ok=True)
