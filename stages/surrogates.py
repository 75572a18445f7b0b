"""Stage surrogates: each black-box model (a plain CNN, every Teachable Machine export) explained in facial movements:
the AU model (au_model) fitted to its answers on the training faces, saved as an AU model folder that predict reads,
and how much of its behaviour the measured movements explain (surrogate_agreement: the share of test faces where
the surrogate gives the black box's answer). A concept CNN gives its own reasons and gets none."""

from face_emotion import au_models
from face_emotion.core.config import Params
from face_emotion.core.io import read_json, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_au_table
from face_emotion.evaluation.face_answers import TEST, TRAIN, FaceAnswers
from face_emotion.evaluation.surrogate import agreement, answered, fit_surrogate, with_answers


def main(params: Params, paths: Paths) -> None:
    found = FaceAnswers.read(paths)
    models = found.black_boxes if TRAIN in found.tables else []  # AU-table data: no faces to answer
    paths.surrogates.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, dict[str, float]] = {}
    if models:
        table = read_au_table(paths.au_table)
        classes = params.data.classes
        for name in models:
            answers = {split: with_answers(table, found.tables[split].path.to_numpy(), found.tables[split][name].to_numpy())
                       for split in (TRAIN, TEST)}
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
