"""The openface_csv AU backend: measurements OpenFace made elsewhere, looked up per manifest row."""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path

import pandas as pd

from face_emotion.au.backends.base import AuBackend
from face_emotion.core.config import OpenFaceCsvParams
from face_emotion.core.errors import UserError
from face_emotion.core.tables import AU_COLUMNS
from face_emotion.data.openface_csv import face_of_image, read_openface_csv


@cache
def _table(path: str) -> pd.DataFrame:
    return read_openface_csv(path)


class OpenFaceCsvBackend(AuBackend):
    """'<table>#<row>' paths read that AU-table row; image paths read '<csv_dir>/<image stem>.csv'."""

    name = "openface_csv"
    params: OpenFaceCsvParams

    @classmethod
    def version(cls, params: OpenFaceCsvParams) -> str:
        return f"openface_csv-{importlib.metadata.version('face-emotion')}"

    @classmethod
    def check(cls, params: OpenFaceCsvParams) -> None:
        if params.csv_dir is not None and not Path(params.csv_dir).is_dir():
            raise UserError(f"au.csv_dir '{params.csv_dir}' is not a folder")

    def close(self) -> None:
        _table.cache_clear()

    def measure(self, path: str) -> dict[str, object]:
        """The AU row for one manifest entry."""
        table_path, _, row = path.rpartition("#")
        if table_path and row.isdigit():
            found = _table(table_path).iloc[int(row)]
            return {"success": bool(found.success), "failure_reason": found.failure_reason,
                    "confidence": found.confidence, **{c: found[c] for c in AU_COLUMNS}}
        if self.params.csv_dir is None:
            return {"success": False, "failure_reason": "no OpenFace CSV: set au.csv_dir"}
        csv_path = Path(self.params.csv_dir) / f"{Path(path).stem}.csv"
        if not csv_path.is_file():
            return {"success": False, "failure_reason": f"no OpenFace CSV {csv_path}"}
        try:
            return face_of_image(csv_path)
        except UserError as exc:
            return {"success": False, "failure_reason": str(exc)}
