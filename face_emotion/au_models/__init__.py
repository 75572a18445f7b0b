"""The explainable AU models, one class per family (``au_model.kind``), with one saved form: a folder holding
model.json (plain numbers, naming its family), a readable coefficient table, and how the faces were measured."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.au_models.additive import AdditiveModel
from face_emotion.au_models.base import FORMAT, AuModel
from face_emotion.au_models.ebm import EbmModel
from face_emotion.au_models.linear import LinearModel
from face_emotion.au_models.pairwise import PairwiseModel
from face_emotion.core.config import AuModelParams, parse_section
from face_emotion.core.errors import UserError
from face_emotion.core.feature_sets import FEATURE_SETS, feature_matrix
from face_emotion.core.io import write_csv, write_json
from face_emotion.core.tables import NO_FACE

MODELS: dict[str, type[AuModel]] = {model.kind: model for model in (LinearModel, AdditiveModel, PairwiseModel, EbmModel)}
"""Family name (the ``au_model.kind`` param) -> class."""
MODEL_FILE = "model.json"
COEFFICIENTS_FILE = "coefficients.csv"
SHAPES_FILE = "shapes.csv"
AU_SETTINGS_FILE = "au_settings.json"
"""How the training faces were measured, so that predict measures new faces alike."""


def fit_table(train: pd.DataFrame, params: AuModelParams, classes: list[str], seed: int) -> AuModel:
    """The configured model fitted on the measured rows (``success``) of an AU table."""
    measured = train[train.success.astype(bool)]
    features = list(FEATURE_SETS[params.features])
    values = feature_matrix(measured, features)
    return MODELS[params.kind].from_params(params, classes, seed).fit(values, measured.label.to_numpy(), features)


def predict_table(model: AuModel, table: pd.DataFrame) -> pd.Series:
    """Predicted emotion per row; rows without a measured face get NO_FACE."""
    predictions = pd.Series(NO_FACE, index=table.index, dtype=object)
    measured = table.success.astype(bool)
    if measured.any():
        predictions[measured] = model.predict(feature_matrix(table[measured], model.features_))
    return predictions


def train(table: pd.DataFrame, params: AuModelParams, classes: list[str], seed: int, folder: Path,
          au_settings: dict[str, object]) -> AuModel:
    """The model fitted on the table's train rows, saved into ``folder``."""
    model = fit_table(table[table.split == "train"], params, classes, seed)
    save(model, folder, au_settings)
    return model


def save(model: AuModel, folder: str | Path, au_settings: dict[str, object]) -> None:
    """The model folder: model.json, coefficients.csv, the additive model's shapes.csv, and the AU settings."""
    folder = Path(folder)
    write_json(model.to_dict(), folder / MODEL_FILE)
    write_csv(model.coefficient_table().round(4), folder / COEFFICIENTS_FILE)
    if isinstance(model, AdditiveModel):
        write_csv(model.shape_table(), folder / SHAPES_FILE)
    write_json(au_settings, folder / AU_SETTINGS_FILE)


def load(folder: str | Path, stage: str = "train_au_model") -> AuModel:
    """The model saved in ``folder``; a missing, damaged or foreign model.json is one clear error naming ``stage``,
    the stage that rebuilds it."""
    path = Path(folder) / MODEL_FILE
    retrain = f"retrain it with 'dvc repro {stage}'"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} not found: {retrain}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is damaged ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}): {retrain}") from None
    kind, version = (data.get("kind"), data.get("format")) if isinstance(data, dict) else (None, None)
    if kind not in MODELS or version != FORMAT:
        raise UserError(f"{path} is not an AU model of this version (kind {kind!r}, format {version!r} "
                        f"where {', '.join(MODELS)} and format {FORMAT} are known): {retrain}")
    try:
        model = MODELS[kind].from_dict(data, parse_section(AuModelParams, data["params"], "au_model"))
        model.predict_proba(np.asarray([model.mean_]))
    except (UserError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise UserError(f"{path} is damaged ({type(exc).__name__}: {str(exc)[:120]}): {retrain}") from None
    return model
