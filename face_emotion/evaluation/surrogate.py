"""AU surrogates of black-box models: the readable AU model fitted to a model's answers instead of the true labels,
so that a plain CNN or a Teachable Machine export gets reasons in facial movements, and a measure of how much of its
behaviour the measured movements explain (``surrogate_agreement``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from face_emotion import au_models
from face_emotion.au_models.base import AuModel
from face_emotion.core.config import AuModelParams
from face_emotion.core.errors import UserError
from face_emotion.core.tables import NO_FACE


def with_answers(table: pd.DataFrame, paths: np.ndarray, answers: np.ndarray) -> pd.DataFrame:
    """The AU-table rows of the faces at ``paths``, labelled with a black box's ``answers`` instead of the truth."""
    answered = pd.DataFrame({"path": paths, "answer": answers})
    rows = table.drop_duplicates("path").merge(answered, on="path", how="inner", validate="one_to_one")
    return rows.assign(label=rows.answer).drop(columns="answer")


def answered(train: pd.DataFrame, classes: list[str]) -> list[str]:
    """The classes among ``classes`` a black box gives on the measured rows of ``train`` (with_answers)."""
    return [c for c in classes if c in set(train[train.success.astype(bool)].label)]


def fit_surrogate(train: pd.DataFrame, params: AuModelParams, classes: list[str], seed: int) -> AuModel:
    """The configured AU model fitted on measured training rows labelled with a black box's answers (``train``:
    with_answers), over the classes the black box gives (an answer outside ``classes`` is left out)."""
    train = train[train.label.isin(classes)]
    given = answered(train, classes)
    if len(given) < 2:
        raise UserError(f"the model gives fewer than two of the classes on the measured training faces ({given}): "
                        "nothing for an AU surrogate to learn")
    return au_models.fit_table(train, params, given, seed)


def agreement(surrogate: AuModel, test: pd.DataFrame) -> float:
    """The share of test rows (with_answers) where the surrogate gives the black box's answer; a face it cannot
    measure counts as a disagreement."""
    predicted = au_models.predict_table(surrogate, test)
    return round(float(np.mean((predicted.to_numpy() == test.label.to_numpy()) & (predicted.to_numpy() != NO_FACE))), 4)
