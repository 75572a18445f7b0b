"""A model folder names the models it works with, its companions: the mask detector that marks its masked faces, the
model that answers them, the AU surrogate that explains it. The stage that trains a model writes them from dvc.yaml's
paths; predict reads them, so no folder name is spelled in code."""

from __future__ import annotations

import json
import os
from pathlib import Path

from face_emotion.core.errors import UserError
from face_emotion.core.io import write_json

COMPANIONS_FILE = "companions.json"
MASK_DETECTOR = "mask_detector"
"""Marks the faces whose lower half a mask hides (predict's masked column)."""
MASKED_FACES_MODEL = "masked_faces_model"
"""Answers the faces the mask detector marks (the AU model's: the upper-face AU model)."""
SURROGATE = "surrogate"
"""The AU model fitted to a black-box model's answers: its reasons."""


def write_companions(folder: Path, companions: dict[str, Path]) -> None:
    """``folder``'s companions.json: each companion's folder relative to it (models/ moves and is shared whole)."""
    write_json({role: Path(os.path.relpath(path, folder)).as_posix() for role, path in companions.items()},
               folder / COMPANIONS_FILE)


def companion(folder: Path, role: str) -> Path | None:
    """The folder that ``folder``'s companions.json names for ``role``; None where it names none (a model folder
    copied on its own, or trained before companions were written). A damaged file is one line."""
    file = folder / COMPANIONS_FILE
    if not file.is_file():
        return None
    try:
        named = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(named, dict) or not isinstance(relative := named.get(role, ""), str):
            raise ValueError("not an object of folder names")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{file} is damaged ({type(exc).__name__}): retrain the model with 'make run'") from None
    return (folder / relative).resolve() if relative else None
