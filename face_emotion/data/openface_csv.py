"""Reading OpenFace output made elsewhere: FaceLandmarkImg and FeatureExtraction CSVs, and plain AU tables."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.core.errors import UserError
from face_emotion.core.tables import AU_COLUMNS, AU_MAX

NOT_TRACKED = "OpenFace did not track a face (success=0)"


def _kind(columns: list[str]) -> str:
    if "face" in columns:
        return "FaceLandmarkImg"
    if "frame" in columns:
        return "FeatureExtraction"
    return "au_table"


DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


def _invalid_reason(values: pd.Series, raw: pd.Series) -> str:
    """Why a row's AU values cannot be used ('' when they can): a decimal comma, NaN, or outside 0-5; ``raw`` holds
    the row's AU fields as they were written."""
    for column, value in values.items():
        if pd.isna(value):
            written = raw[column]
            if isinstance(written, str) and DECIMAL_COMMA.match(written):
                return f"decimal comma in {column} ({written!r}): OpenFace writes a decimal point"
            return f"NaN value in {column}"
        if not 0.0 <= float(value) <= AU_MAX:
            return f"{column}={value} outside 0-{AU_MAX:g}"
    return ""


def _rows(path: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    """The CSV's rows, each at its position (blank lines skipped, as pandas does). A row whose field count differs
    from the header's (an unquoted decimal comma splits a value in two) is an empty row, its reason in the dict."""
    try:
        text = path.read_text(encoding="utf-8")
        records = [record for record in csv.reader(io.StringIO(text), skipinitialspace=True) if record]
    except FileNotFoundError:
        raise UserError(f"OpenFace CSV {path} not found") from None
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UserError(f"OpenFace CSV {path} cannot be parsed: {str(exc).splitlines()[0][:120]}") from None
    if not records:
        raise UserError(f"OpenFace CSV {path} is empty")
    header, rows = records[0], records[1:]
    uneven = {i: f"{len(row)} fields where the header has {len(header)} (an unquoted decimal comma?)"
              for i, row in enumerate(rows) if len(row) != len(header)}
    even = io.StringIO()
    csv.writer(even).writerows([header, *(row for i, row in enumerate(rows) if i not in uneven)])
    even.seek(0)
    try:
        table = pd.read_csv(even)
    except pd.errors.ParserError as exc:
        raise UserError(f"OpenFace CSV {path} cannot be parsed: {str(exc).splitlines()[0][:120]}") from None
    table.index = pd.Index([i for i in range(len(rows)) if i not in uneven])
    integers = [column for column in table.columns if pd.api.types.is_integer_dtype(table[column])]
    table = table.reindex(range(len(rows)))
    return table.astype(dict.fromkeys(integers, "Int64")), uneven  # integers stay integers beside the empty rows


def _success_reasons(table: pd.DataFrame) -> pd.Series:
    """Per row, why OpenFace's ``success`` column rules it out ('' when it does not): 0 (or false), or not 0 or 1."""
    if "success" not in table:
        return pd.Series("", index=table.index, dtype=object)
    spelled = table["success"].map(lambda value: {"true": 1, "false": 0}.get(str(value).strip().lower(), value))
    success = pd.to_numeric(spelled, errors="coerce").astype(float)
    return pd.Series([("" if flag == 1 else NOT_TRACKED if flag == 0 else f"success is {written!r}, not 0 or 1")
                      for flag, written in zip(success, table["success"], strict=True)], index=table.index, dtype=object)


def read_openface_csv(path: str | Path) -> pd.DataFrame:
    """One row per face (or frame, or table row): the 17 AU intensities, success, confidence, failure_reason.

    Accepts OpenFace's FaceLandmarkImg header (names with leading spaces), its FeatureExtraction header, and a
    plain table of AU columns with other columns (a label, say) kept as they are. Rows OpenFace marks
    ``success == 0``, rows whose field count differs from the header's, a ``success`` that is not 0 or 1, and NaN
    or out-of-range AUs are kept as failures with a reason, never as zeros or shifted values.
    """
    path = Path(path)
    table, uneven = _rows(path)
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in AU_COLUMNS if c not in table.columns]
    if missing and len(table.columns) == 1 and ";" in table.columns[0]:
        raise UserError(f"OpenFace CSV {path} is separated by ';' (a spreadsheet export?): OpenFace writes "
                        "comma-separated values with decimal points")
    if missing:
        raise UserError(f"OpenFace CSV {path} has no column '{missing[0]}' (expected the 17 AU*_r intensities)")
    raw = table[list(AU_COLUMNS)].copy()
    table[list(AU_COLUMNS)] = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    kind = _kind(list(table.columns))
    reasons = _success_reasons(table)
    reasons = reasons.where(reasons != "", [_invalid_reason(table.loc[i, list(AU_COLUMNS)], raw.loc[i])
                                            for i in table.index])
    reasons.update(pd.Series(uneven, dtype=object))
    table["failure_reason"] = reasons
    table["success"] = reasons == ""
    table.loc[~table.success, list(AU_COLUMNS)] = np.nan
    table["confidence"] = pd.to_numeric(table["confidence"], errors="coerce") if "confidence" in table else np.nan
    table.attrs["kind"] = kind
    return table


def most_confident(table: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Per group of ``by`` (e.g. 'frame'), the successful face with the highest confidence, else the first failure."""
    groups = [table] if by is None or by not in table else [group for _, group in table.groupby(by, sort=True)]
    chosen = []
    for group in groups:
        measured = group[group.success]
        chosen.append(measured.confidence.fillna(-1.0).idxmax() if len(measured) else group.index[0])
    return table.loc[chosen]


def face_of_image(path: str | Path) -> dict[str, object]:
    """The AU row of the most confident face in one FaceLandmarkImg CSV (a failure row when none was found)."""
    table = read_openface_csv(path)
    if table.empty:
        return {"success": False, "failure_reason": "OpenFace found no face (empty CSV)", "confidence": np.nan}
    row = most_confident(table, by=None).iloc[0]
    return {"success": bool(row.success), "failure_reason": row.failure_reason, "confidence": row.confidence,
            **{c: row[c] for c in AU_COLUMNS}}
