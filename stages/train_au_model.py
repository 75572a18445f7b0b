"""Stage train_au_model: the explainable AU model, saved as plain JSON with a readable coefficient table."""

import json

from face_emotion import au_model
from face_emotion.core.config import Params
from face_emotion.core.io import size_mb, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import AU_MODEL, read_au_table
from face_emotion.evaluation.scores import scores


def main(params: Params, paths: Paths) -> None:
    table = read_au_table(paths.au_table)
    classes = params.data.classes
    model = au_model.fit_table(table[table.split == "train"], params.au_model, classes, params.seed)
    au_model.save(model, paths.au_model, json.loads(paths.au_settings.read_text()))
    val = table[table.split == "val"]
    metrics: dict[str, object] = {"terms": model.n_terms, "size_mb": size_mb(paths.au_model / au_model.MODEL_FILE)}
    if len(val):
        val_scores = scores(val.label, au_model.predict_table(model, val), classes)
        metrics = {"val_accuracy": val_scores["accuracy"], "val_macro_f1": val_scores["macro_f1"], **metrics}
    write_json({AU_MODEL: metrics}, paths.train_au_model_metrics)
    print(f"train_au_model: {model.kind} model on {len(model.features_)} features; {metrics} "
          "(unmeasured faces counted wrong)")


if __name__ == "__main__":
    run_stage(main)
