"""The AU table every backend writes (features/au.csv): its fixed columns, and reading it back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ID_COLUMNS = ["path", "label", "split"]
STATUS_COLUMNS = ["success", "confidence", "failure_reason", "backend", "backend_version"]
"""Then the 17 AU*_r intensities, then backend extras (MediaPipe: the 52 bs_* blendshapes)."""


def read_au_table(path: str | Path) -> pd.DataFrame:
    """Read an AU table written by extract_au (empty failure reasons stay empty strings)."""
    return pd.read_csv(path, converters={"failure_reason": str, "label": str})
