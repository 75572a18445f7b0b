"""Stage train_upper_face_au_model: the AU model of masked faces, the au_model family trained on the masked training
faces and reading only what the mask leaves visible (mask.au_features); predict and evaluate send it the faces the
mask detector sees masked."""

import dataclasses

from face_emotion import au_models
from face_emotion.core.config import Params
from face_emotion.core.io import read_json, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import UPPER_FACE_AU_MODEL, read_au_table
from face_emotion.evaluation.scores import training_metrics


def main(params: Params, paths: Paths) -> None:
    table = read_au_table(paths.masked_train_au_table)
    if not table.success.astype(bool).any():
        paths.upper_face_au_model.mkdir(parents=True, exist_ok=True)
        write_json({}, paths.train_upper_face_au_model_metrics)
        print("train_upper_face_au_model: skipped (no masked training face was measured)")
        return
    model_params = dataclasses.replace(params.au_model, features=params.mask.au_features)
    model = au_models.train(table, model_params, params.data.classes, params.seed, paths.upper_face_au_model,
                           read_json(paths.au_settings, "extract_au"))
    metrics = training_metrics(model, table, paths.upper_face_au_model)
    write_json({UPPER_FACE_AU_MODEL: metrics}, paths.train_upper_face_au_model_metrics)
    print(f"train_upper_face_au_model: {model.kind} model on {len(model.features_)} upper-face features of masked faces; "
          f"{metrics} (validation faces masked; unmeasured faces counted wrong)")


if __name__ == "__main__":
    run_stage(main)
