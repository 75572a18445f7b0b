"""A per-image cache of AU measurements, keyed by content hash and by every setting that shapes them.

The cache is a folder of chunk files, each written once (atomically) and named by the hash of its content, so an
interrupted extraction keeps what it measured, and a damaged or edited chunk is found, dropped and measured again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path

import pandas as pd

from face_emotion.core.config import AuParams
from face_emotion.core.io import atomic_path
from face_emotion.core.tables import read_csv_with_text

HASH_LENGTH = 16


def settings_key(params: AuParams, version: str) -> str:
    """A short hash of the AU settings (every one can change a measurement) and of the backend's version."""
    return hashlib.sha256(json.dumps([dataclasses.asdict(params), version], sort_keys=True).encode()).hexdigest()[:16]


def _content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:HASH_LENGTH]


class AuCache:
    """Rows of earlier measurements in ``<folder>/<backend>-<settings key>/<content hash>.csv``, indexed by md5."""

    def __init__(self, folder: str | Path, params: AuParams, version: str) -> None:
        self.folder = Path(folder) / f"{params.backend}-{settings_key(params, version)}"

    def load(self) -> pd.DataFrame:
        """Every intact chunk's rows indexed by md5 (empty when there are none); damaged chunks are deleted."""
        frames, damaged = [], []
        for chunk in sorted(self.folder.glob("*.csv")):
            content = chunk.read_bytes()
            if _content_hash(content) != chunk.stem:
                damaged.append(chunk)
                continue
            frames.append(read_csv_with_text(io.BytesIO(content), ("failure_reason", "unmeasured")))
        for chunk in damaged:
            chunk.unlink()
        if damaged:
            print(f"extract_au: {len(damaged)} damaged cache file(s) in {self.folder} dropped; their faces are measured again")
        if not frames:
            return pd.DataFrame(index=pd.Index([], name="md5"))
        rows = pd.concat(frames, ignore_index=True).set_index("md5")
        return rows[~rows.index.duplicated(keep="last")]

    def add(self, rows: pd.DataFrame) -> None:
        """Store ``rows`` (indexed by md5) as a new chunk."""
        content = rows.reset_index().to_csv(index=False).encode()
        with atomic_path(self.folder / f"{_content_hash(content)}.csv") as tmp:
            tmp.write_bytes(content)
