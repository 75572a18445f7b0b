"""The answers of the models on raw faces, as the answer_faces stage writes them (face_emotion.evaluation.answering)
and evaluate and surrogates read them: per face set (the test faces, each masked test set, the training faces) one
row per face, a column per model, the mask detector's verdicts beside them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from face_emotion.core.errors import UserError
from face_emotion.core.io import read_json
from face_emotion.core.paths import Paths

TEST = "test"
TRAIN = "train"
"""The face sets besides the masked test sets (MaskParams.test_sets): the black boxes answer the training faces."""
MASK_DETECTOR = "mask_detector"
"""The column of the mask detector's verdicts (True: masked) in every face set's answers, and its size's key."""


@dataclass(frozen=True)
class FaceAnswers:
    """What answer_faces wrote, read back: per face set one row per face, and what answered."""

    tables: dict[str, pd.DataFrame]
    models: list[str]
    black_boxes: list[str]
    sizes: dict[str, float]
    seconds: dict[str, dict[str, float]]
    cnn_concepts: dict[str, float] | None

    @classmethod
    def read(cls, paths: Paths) -> FaceAnswers:
        """The answers under Paths.face_answers; a missing or damaged file is one clear error."""
        info = read_json(paths.face_answers_info, "answer_faces")
        keys = ("models", "black_boxes", "sizes_mb", "seconds", "cnn_concepts")
        if missing := [key for key in keys if key not in info]:
            raise UserError(f"{paths.face_answers_info} is damaged (no {missing[0]!r}): rerun 'dvc repro --force "
                            "answer_faces'")
        if not isinstance(info["seconds"], dict) or not all(isinstance(v, dict) for v in info["seconds"].values()):
            raise UserError(f"{paths.face_answers_info} is damaged ('seconds' is not a table per face set): rerun "
                            "'dvc repro --force answer_faces'")
        tables = {face_set: _read_table(paths.face_answers_of(face_set), ["path", *answered])
                  for face_set, answered in info["seconds"].items()}
        return cls(tables, *(info[key] for key in keys))

    def of(self, face_set: str, face_paths: pd.Series) -> pd.DataFrame:
        """The answers of one face set in the order of ``face_paths``; a face without an answer is one clear error
        (the answers are older than the faces)."""
        table = self.tables.get(face_set, pd.DataFrame({"path": pd.Series([], dtype=str)}))
        rows = pd.DataFrame({"path": face_paths.to_numpy()}).merge(table, on="path", how="left", validate="one_to_one")
        if len(face_paths) and (table.empty or rows[table.columns].isna().any().any()):
            raise UserError(f"{face_set}: some faces have no answer in the answers of the models on raw faces: "
                            "rerun 'dvc repro answer_faces'")
        return rows


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """One face set's answers: a row per face (each path once), a column per model that answered it, read as text (a
    Teachable Machine label may look like a number); missing or damaged is one line."""
    try:
        table = pd.read_csv(path, dtype=dict.fromkeys(columns, str), keep_default_na=False)
    except FileNotFoundError:
        raise UserError(f"{path} not found: run 'dvc repro answer_faces'") from None
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is damaged ({type(exc).__name__}): rerun 'dvc repro --force answer_faces'") from None
    if lacking := [column for column in columns if column not in table]:
        raise UserError(f"{path} is damaged (no column {lacking[0]!r}): rerun 'dvc repro --force answer_faces'")
    if table.path.duplicated().any():
        raise UserError(f"{path} is damaged (a face answered twice): rerun 'dvc repro --force answer_faces'")
    return table
