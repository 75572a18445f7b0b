"""The openface_csv AU backend: measurements OpenFace made elsewhere, looked up per manifest row."""

from __future__ import annotations

import importlib.metadata
from functools import cache
from pathlib import Path
from types import TracebackType

import pandas as pd

from face_emotion.au.mapping import AU_COLUMNS
from face_emotion.au.openface_csv import face_of_image, read_openface_csv
from face_emotion.config import AuParams
from face_emotion.errors import UserError


@cache
def _table(path: str) -> pd.DataFrame:
    return read_openface_csv(path)


class OpenFaceCsvBackend:
    """'<table>#<row>' paths read that AU-table row; image paths read '<csv_dir>/<image stem>.csv'."""

    name = "openface_csv"

    @staticmethod
    def version() -> str:
        return f"openface_csv-{importlib.metadata.version('face-emotion')}"

    @staticmethod
    def check(params: AuParams) -> None:
        if params.csv_dir is not None and not Path(params.csv_dir).is_dir():
            raise UserError(f"au.csv_dir '{params.csv_dir}' is not a folder")

    def __init__(self, params: AuParams) -> None:
        self.params = params

    def __enter__(self) -> OpenFaceCsvBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
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
