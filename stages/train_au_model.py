"""Stage train_au_model: the explainable AU model, saved as plain JSON with a readable coefficient table."""


from face_emotion import au_models
from face_emotion.core.companions import MASK_DETECTOR, MASKED_FACES_MODEL, write_companions
from face_emotion.core.config import Params
from face_emotion.core.io import read_json, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import AU_MODEL, read_au_table
from face_emotion.evaluation.scores import training_metrics


def main(params: Params, paths: Paths) -> None:
    table = read_au_table(paths.au_table)
    model = au_models.train(table, params.au_model, params.data.classes, params.seed, paths.au_model,
                           read_json(paths.au_settings, "extract_au"))
    write_companions(paths.au_model, {MASK_DETECTOR: paths.mask_detector, MASKED_FACES_MODEL: paths.upper_face_au_model})
    metrics = training_metrics(model, table, paths.au_model)
    write_json({AU_MODEL: metrics}, paths.train_au_model_metrics)
    print(f"train_au_model: {model.kind} model on {len(model.features_)} features; {metrics} "
          "(unmeasured faces counted wrong)")


if __name__ == "__main__":
    run_stage(main)
