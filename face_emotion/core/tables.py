"""The two tables every stage passes on, in one place: the manifest (every input file and what became of it) and the
AU table (one row per usable face: its status, AU intensities and the backend's extra measurements), with the
meaning of each AU-table column in FACS words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd

from face_emotion.core.errors import UserError
from face_emotion.core.facs import ACTION_UNITS, HEAD_POSITIONS, UPPER_FACE_AUS, au_column, au_label

# The manifest (prepare's output) ---------------------------------------------------------------------------------
USED, REJECTED, EXCLUDED = "ok", "rejected", "excluded"
"""A file's status: used; rejected (unusable: empty, not an image, ...); excluded (usable, but not wanted)."""
SPLITS = ("train", "val", "test")
MANIFEST_COLUMNS = ["path", "label", "split", "status", "reason", "md5", "pixel_md5", "bytes", "width", "height", "blank",
                    "group"]
"""Then ``in_train``: whether a val or test image has an exact pixel copy among the images it is scored against.
``group``: rows with one group (a video, a subject: data.group_column) share a split; empty for independent rows."""
_MANIFEST_TEXT = ("reason", "label", "md5", "pixel_md5", "group")


def read_csv_with_text(source: str | Path | IO, text_columns: tuple[str, ...]) -> pd.DataFrame:
    """A CSV whose ``text_columns`` are read as text, empty fields as empty strings (never NaN)."""
    return pd.read_csv(source, dtype=dict.fromkeys(text_columns, str)).fillna(dict.fromkeys(text_columns, ""))


def _read_output(path: str | Path, text_columns: tuple[str, ...], required: list[str], stage: str) -> pd.DataFrame:
    """A table a stage wrote; missing, damaged or foreign is one line naming the command that rebuilds it."""
    rebuild = f"rebuild it with 'dvc repro --force {stage}'"
    try:
        table = read_csv_with_text(path, text_columns)
    except FileNotFoundError:
        raise UserError(f"{path} not found: run 'dvc repro {stage}'") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path} is damaged ({type(exc).__name__}: {str(exc).splitlines()[0][:100]}): {rebuild}") from None
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise UserError(f"{path} has no column '{missing[0]}': {rebuild}")
    return table


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a manifest written by the prepare stage (empty reasons and labels stay empty strings)."""
    return _read_output(path, _MANIFEST_TEXT, ["path", "label", "split", "status"], "prepare")


def usable(manifest: pd.DataFrame, split: str | None = None) -> pd.DataFrame:
    """The manifest's used rows (of one split, if given), in manifest order, renumbered."""
    keep = manifest.status == USED
    if split is not None:
        keep &= manifest.split == split
    return manifest[keep].reset_index(drop=True)


# The AU table (extract_au's output) ------------------------------------------------------------------------------
ID_COLUMNS = ["path", "label", "split"]
STATUS_COLUMNS = ["success", "confidence", "failure_reason", "unmeasured", "backend", "backend_version"]
"""Then the 17 AU*_r intensities, then backend extras (MediaPipe: the bs_* blendshapes and lm_* landmark geometry).
``unmeasured``: on a measured face, the columns left empty because the region they are read from lies outside the
image, and why ('AU17_r lm_chin_raise: chin outside the image'); empty when every column is measured."""
UNMEASURED_SEPARATOR = ": "
AU_MAX = 5.0
AU_COLUMNS: tuple[str, ...] = tuple(au.column for au in ACTION_UNITS)
AU_PRESENCE_COLUMNS: tuple[str, ...] = tuple(column.removesuffix("_r") + "_c" for column in AU_COLUMNS)
"""OpenFace's presence columns (AU01_c ...): 1 where the AU shows, 0 where it does not."""
AU_PRESENT_FROM = 1.0
"""An AU counts as present from this intensity on the 0-5 scale (FACS's A, a trace, and above). OpenFace decides its
_c columns with classifiers of their own; here they follow the measured intensity."""
AU_DECIMALS = 2
"""OpenFace's precision. MediaPipe's cheekSquint and noseSneer give ~1e-5 on FER2013 faces: kept, such noise would be
standardised into large, meaningless contributions ("AU09 nose wrinkler +1.4" on a face with no wrinkle)."""

BLENDSHAPES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)
"""MediaPipe FaceLandmarker's 52 blendshape categories, in its output order."""
BLENDSHAPE_COLUMNS: tuple[str, ...] = tuple(f"bs_{name}" for name in BLENDSHAPES)
BLENDSHAPE_DECIMALS = 3
"""The raw blendshape scores (0-1), kept to 0.001 for the same reason as the AUs."""
_BLENDSHAPE_AU: dict[str, int] = {f"bs_{name}": au.number for au in ACTION_UNITS for name in au.blendshapes}

@dataclass(frozen=True)
class Measurement:
    """A landmark measurement: what it measures, the AUs its rise shows and the AUs its fall shows (FACS head
    positions 51-54 count as AUs here)."""

    name: str
    rises: tuple[int, ...]
    falls: tuple[int, ...] = ()
    """Empty where a low value is only the absence of the rising movement."""


GEOMETRY: dict[str, Measurement] = {
    "lm_inner_brow_height": Measurement("inner brow height", (1,), falls=(4,)),
    "lm_outer_brow_height": Measurement("outer brow height", (2,)),
    "lm_brow_slant": Measurement("brow slant", (1,), falls=(4,)),
    "lm_brow_gap": Measurement("brows drawn together", (4,)),
    "lm_eye_opening": Measurement("eye opening", (5,), falls=(7,)),
    "lm_lower_lid_raise": Measurement("lower lid raise", (6,)),
    "lm_cheek_lift": Measurement("cheek lift", (6,)),
    "lm_nose_lift": Measurement("nose wings lift", (9,)),
    "lm_upper_lip_lift": Measurement("upper lip lift", (10,)),
    "lm_corner_lift": Measurement("lip corners lift", (12,), falls=(15,)),
    "lm_corner_depression": Measurement("lip corners down", (15,)),
    "lm_lip_narrowing": Measurement("red of the lips narrowed", (23,)),
    "lm_lip_gap": Measurement("lips apart", (25,)),
    "lm_chin_raise": Measurement("chin raise", (17,)),
    "lm_mouth_width": Measurement("mouth width", (20,)),
    "lm_head_turn": Measurement("head turned", (51, 52)),
    "lm_head_pitch": Measurement("head down", (54,)),
}
"""Landmark measurements (face_emotion.au.geometry) by AU-table column. Four read both ways, as FACS describes the
movements: lowered inner brows and the V of a low brow slant are AU04, an eye opening narrowed by the lids is AU07,
lip corners below the lip midline are AU15."""
GEOMETRY_COLUMNS: tuple[str, ...] = tuple(GEOMETRY)
GEOMETRY_DECIMALS = 5
REGIONAL_COLUMNS: frozenset[str] = frozenset(AU_COLUMNS + GEOMETRY_COLUMNS)
"""The columns read from one region of the face: empty (NaN) on a measured face where that region lies outside the
image (``unmeasured`` names them); the AU models count such a value as no evidence."""

COLUMN_DECIMALS: dict[str, int] = (dict.fromkeys(AU_COLUMNS, AU_DECIMALS) | dict.fromkeys(BLENDSHAPE_COLUMNS, BLENDSHAPE_DECIMALS)
                                   | dict.fromkeys(GEOMETRY_COLUMNS, GEOMETRY_DECIMALS))
"""The precision each measured column is kept to."""

PAIR_SEPARATOR = "*"
AU_PAIRS: tuple[str, ...] = tuple(f"{a}{PAIR_SEPARATOR}{b}" for i, a in enumerate(AU_COLUMNS) for b in AU_COLUMNS[i + 1:])
"""All 136 products of two AU intensities, e.g. 'AU06_r*AU12_r' (cheek raiser together with lip corner puller)."""
UPPER_FACE_COLUMNS: tuple[str, ...] = tuple(au_column(n) for n in UPPER_FACE_AUS)
UPPER_FACE_GEOMETRY_COLUMNS: tuple[str, ...] = tuple(
    column for column, measurement in GEOMETRY.items()
    if {*measurement.rises, *measurement.falls} <= {*UPPER_FACE_AUS, *HEAD_POSITIONS})
"""The landmark measurements of brows, lids and cheeks, and the head's position: what a face mask leaves visible."""
UPPER_FACE_BLENDSHAPE_COLUMNS: tuple[str, ...] = tuple(
    column for column in BLENDSHAPE_COLUMNS if column.removeprefix("bs_").startswith(("brow", "eye", "cheekSquint")))
"""The blendshapes of brows, eyes (lids and gaze) and cheeks."""


NO_FACE = "no_face"
"""The AU model's answer for a face without a measurement (counted as an error)."""
AU_MODEL = "au_model"
"""The AU model's name wherever models are compared (metrics, predictions, confusion matrices); its family is the
au_model.kind param."""
CNN = "cnn"
"""The CNN's name wherever models are compared, and its AU surrogate's folder under the surrogates path."""
UPPER_FACE_AU_MODEL = "upper_face_au_model"
"""The AU model of masked faces: the same family trained on masked training faces' upper-face features
(mask.au_features)."""
AU_ROUTE = "au_route"
"""The AU models as predict uses them: each face to upper_face_au_model when the mask detector sees a mask, else to
au_model."""
CNN_UPPER_FACE = "cnn_upper_face"
"""The concept CNN's head of masked faces (on the concepts a mask leaves visible), on every face."""
CNN_ROUTE = "cnn_route"
"""The concept CNN as predict uses it: each face to its head of masked faces when the mask detector sees a mask, else
to its full head (cnn_tta with evaluate.tta)."""


AU_TABLE_TEXT = ("failure_reason", "unmeasured", "label")


def read_au_table(path: str | Path) -> pd.DataFrame:
    """Read an AU table written by extract_au or mask_faces (empty failure reasons stay empty strings)."""
    return _read_output(path, AU_TABLE_TEXT, [*ID_COLUMNS, "success"], "extract_au mask_faces")


def action_units_of(column: str, falling: bool = False) -> tuple[int, ...]:
    """The AU numbers a feature's rise shows: 'AU12_r' -> (12,), 'bs_mouthSmileLeft' -> (12,), 'lm_cheek_lift' -> (6,),
    'AU06_r*AU12_r' -> (6, 12); with ``falling``, those its fall shows: 'lm_brow_slant' -> (4,), 'AU12_r' -> () (an
    intensity or blendshape at 0 is a face at rest)."""
    if PAIR_SEPARATOR in column:
        return () if falling else tuple(n for part in column.split(PAIR_SEPARATOR) for n in action_units_of(part))
    if column in GEOMETRY:
        return GEOMETRY[column].falls if falling else GEOMETRY[column].rises
    if falling:
        return ()
    if column in AU_COLUMNS:
        return (int(column[2:4]),)
    return (_BLENDSHAPE_AU[column],) if column in _BLENDSHAPE_AU else ()


def describe(column: str, falling: bool = False) -> str:
    """A readable label: 'AU12 lip corner puller', 'mouthSmileLeft (AU12 lip corner puller)',
    'cheek lift (AU06 cheek raiser)', 'AU06 ... x AU12 ...'; with ``falling``, the feature's fall:
    'brow slant, low (AU04 brow lowerer)'."""
    if PAIR_SEPARATOR in column:
        return " x ".join(describe(part) for part in column.split(PAIR_SEPARATOR))
    if column in AU_COLUMNS:
        return au_label(int(column[2:4]))
    if column in GEOMETRY:
        name = f"{GEOMETRY[column].name}, low" if falling else GEOMETRY[column].name
        return f"{name} ({' / '.join(au_label(n) for n in action_units_of(column, falling))})"
    name = column.removeprefix("bs_")
    return f"{name} ({au_label(_BLENDSHAPE_AU[column])})" if column in _BLENDSHAPE_AU else name
