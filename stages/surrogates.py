"""Stage surrogates: each black-box model (a plain CNN, every Teachable Machine export) explained in facial movements:
the AU model (au_model) fitted to its answers on the training faces, saved as an AU model folder that predict reads,
and how much of its behaviour the measured movements explain (surrogate_agreement: the share of test faces where
the surrogate gives the black box's answer). A concept CNN gives its own reasons and gets none."""

import numpy as np

from face_emotion import au_models
from face_emotion.cnn import model as cnn
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import read_json, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import CNN, read_au_table
from face_emotion.data.faces import face_paths, load_face_cache
from face_emotion.evaluation.comparison import FaceModel, cnn_face_models
from face_emotion.evaluation.surrogate import agreement, answered, fit_surrogate, with_answers
from face_emotion.evaluation.teachable_machine import find_exports, load_export


def black_boxes(params: Params, paths: Paths) -> dict[str, FaceModel]:
    """The models on raw faces that give no reasons of their own: a plain CNN (flip averaged with evaluate.tta) and
    the Teachable Machine exports."""
    models: dict[str, FaceModel] = {}
    if (paths.cnn / cnn.MODEL_FILE).is_file() and not cnn.is_concept_model(model := cnn.load(paths.cnn)):
        models[CNN] = cnn_face_models(model, params.data.classes, params.evaluate.tta)[
            "cnn_tta" if params.evaluate.tta else CNN]
    for folder in find_exports(paths.teachable_machine):
        export = load_export(folder)
        models[export.name] = export.predict_labels
    return models


def main(params: Params, paths: Paths) -> None:
    models = black_boxes(params, paths) if isinstance(params.data, FaceImageData) else {}  # a bad export: stop here
    paths.surrogates.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, dict[str, float]] = {}
    if models:
        table = read_au_table(paths.au_table)
        classes = params.data.classes
        faces = {split: (load_face_cache(paths.faces, split, classes)[0], face_paths(paths.faces, split))
                 for split in ("train", "test")}
        for name, model in models.items():
            answers = {split: with_answers(table, found, np.asarray(model(pixels), dtype=object))
                       for split, (pixels, found) in faces.items()}
            if len(given := answered(answers["train"], classes)) < 2:  # counted and said, the run goes on
                metrics[name] = {"classes_answered": len(given)}
                print(f"surrogates: {name} gives {', '.join(given) or 'none of data.classes'} on every measured "
                      "training face: nothing for an AU surrogate to learn")
                continue
            surrogate = fit_surrogate(answers["train"], params.au_model, classes, params.seed)
            au_models.save(surrogate, paths.surrogate(name), read_json(paths.au_settings, "extract_au"))
            metrics[name] = {"surrogate_agreement": agreement(surrogate, answers["test"]), "terms": surrogate.n_terms}
            print(f"surrogates: {name}: the {surrogate.kind} AU model gives its answer on "
                  f"{metrics[name]['surrogate_agreement']:.1%} of the test faces")
    write_json(metrics, paths.surrogates_metrics)
    if not models:
        print("surrogates: no black-box model to explain (the CNN is a concept model; no Teachable Machine export)")


if __name__ == "__main__":
    run_stage(main)
