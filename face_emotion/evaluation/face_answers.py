"""The answers of the models on raw faces, as the answer_faces stage writes them (face_emotion.evaluation.answering)
and evaluate and surrogates read them: per face set (the test faces, each masked test set, the training faces) one
row per face, a column per model, the mask detector's verdicts beside them."""

from __future__ import annotations

from dataclasses import dataclass

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
        columns = {name: str for name in info["models"]}
        tables = {}
        for file in sorted(paths.face_answers.glob("*.csv")):
            if file.stem in info["seconds"]:
                try:
                    tables[file.stem] = pd.read_csv(file, dtype={"path": str, **columns}, keep_default_na=False)
                except (ValueError, pd.errors.ParserError) as exc:
                    raise UserError(f"{file} is damaged ({type(exc).__name__}): rerun 'dvc repro --force answer_faces'"
                                    ) from None
        return cls(tables, info["models"], info["black_boxes"], info["sizes_mb"], info["seconds"], info["cnn_concepts"])

    def of(self, face_set: str, face_paths: pd.Series) -> pd.DataFrame:
        """The answers of one face set in the order of ``face_paths``; a face without an answer is one clear error
        (the answers are older than the faces)."""
        table = self.tables.get(face_set, pd.DataFrame({"path": pd.Series([], dtype=str)}))
        rows = pd.DataFrame({"path": face_paths.to_numpy()}).merge(table, on="path", how="left", validate="one_to_one")
        if len(face_paths) and (table.empty or rows[table.columns].isna().any().any()):
            raise UserError(f"{face_set}: some faces have no answer in the answers of the models on raw faces: "
                            "rerun 'dvc repro answer_faces'")
        return rows
