"""A per-image cache of AU measurements, keyed by content hash and by the backend settings that shape them."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd

from face_emotion.atomic import write_csv
from face_emotion.config import AuParams

NOT_PART_OF_KEY = ("workers", "executor", "scheduler_address")
"""Settings that change how fast, not what, is measured."""


def settings_key(params: AuParams, version: str) -> str:
    """A short hash of every setting that can change a measurement, and of the backend's version."""
    settings = {k: v for k, v in dataclasses.asdict(params).items() if k not in NOT_PART_OF_KEY}
    return hashlib.sha256(json.dumps([settings, version], sort_keys=True).encode()).hexdigest()[:16]


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
