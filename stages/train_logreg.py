"""Stage train_logreg: the explainable AU model, saved as plain JSON and a readable coefficient table."""

import dataclasses

from face_emotion import logreg
from face_emotion.atomic import write_csv, write_json
from face_emotion.au.table import read_au_table
from face_emotion.config import Params
from face_emotion.evaluation import scores
from face_emotion.stage import run_stage

AU_TABLE = "features/au.csv"
MODEL = "models/logreg/model.json"
AU_SETTINGS = "models/logreg/au_settings.json"
COEFFICIENTS = "models/logreg/coefficients.csv"
SHAPES = "models/logreg/shapes.csv"
TRAIN_METRICS = "metrics/logreg_train.json"


def main(params: Params) -> None:
    table = read_au_table(AU_TABLE)
    model = logreg.fit(table[table.split == "train"], params.data.classes, params.logreg, params.seed)
    model.save(MODEL)
    # how the training faces were measured, for `face-emotion predict` (any change to it changes features/au.csv)
    write_json({k: v for k, v in dataclasses.asdict(params.au).items() if k not in ("workers", "executor", "scheduler_address")},
               AU_SETTINGS)
    write_csv(model.coefficient_table().round(4), COEFFICIENTS)
    if model.knots is not None:  # the additive model's curves: logit at each knot, per emotion and feature
        write_csv(model.shape_table(), SHAPES)
    val = table[table.split == "val"]
    val_scores = scores(val.label, logreg.predict_table(model, val), params.data.classes)
    write_json({"val": {k: val_scores[k] for k in ("accuracy", "macro_f1", "n")}}, TRAIN_METRICS)
    quality = (f"validation accuracy {val_scores['accuracy']:.3f}, macro-F1 {val_scores['macro_f1']:.3f} "
               "(unmeasured faces counted wrong)" if len(val) else "no validation split")
    print(f"train_logreg: {quality}; coefficients in {COEFFICIENTS}")


if __name__ == "__main__":
    run_stage(main)
