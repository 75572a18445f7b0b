"""A per-image cache of AU measurements, keyed by content hash and by every setting that shapes them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd

from face_emotion.core.config import AuParams
from face_emotion.core.io import write_csv


def settings_key(params: AuParams, version: str) -> str:
    """A short hash of the AU settings (every one can change a measurement) and of the backend's version."""
    return hashlib.sha256(json.dumps([dataclasses.asdict(params), version], sort_keys=True).encode()).hexdigest()[:16]


class AuCache:
    """Rows of earlier measurements in ``<folder>/<backend>-<settings key>.csv``, indexed by content md5."""

    def __init__(self, folder: str | Path, params: AuParams, version: str) -> None:
        self.path = Path(folder) / f"{params.backend}-{settings_key(params, version)}.csv"

    def load(self) -> pd.DataFrame:
        """Cached rows indexed by md5 (empty when there is no cache yet)."""
        if not self.path.is_file():
            return pd.DataFrame(index=pd.Index([], name="md5"))
        return pd.read_csv(self.path, converters={"failure_reason": str}).set_index("md5")

    def save(self, rows: pd.DataFrame) -> None:
        """Replace the cache with ``rows`` (indexed by md5), atomically."""
        write_csv(rows.reset_index(), self.path)
