"""Stage explain: per-emotion AU profiles, a heatmap, FACS agreement, and a reason for every test face."""


from face_emotion import au_models
from face_emotion.core.config import AuParams, MediaPipeParams, Params, parse_section
from face_emotion.core.feature_sets import feature_matrix
from face_emotion.core.io import atomic_dir, read_json, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_au_table
from face_emotion.explain.drawing import draw_examples
from face_emotion.explain.faithfulness import deletion_share, mirror_stability
from face_emotion.explain.figures import profile_heatmap, shape_figure
from face_emotion.explain.profiles import agreement_score, facs_agreement, profiles
from face_emotion.explain.reasons import MOUTH_HIDDEN, choose_examples, explain_table


def main(params: Params, paths: Paths) -> None:
    model = au_models.load(paths.au_model)
    table = read_au_table(paths.au_table)
    au = parse_section(AuParams, read_json(paths.au_settings, "extract_au"), "au")
    write_csv(profiles(model), paths.profiles)
    profile_heatmap(model, paths.profile_heatmap)
    agreement = facs_agreement(model)
    write_json(agreement, paths.facs_agreement)
    test = table[table.split == "test"]
    values = feature_matrix(test[test.success.astype(bool)], model.features_)
    metrics = {"facs_agreement": agreement_score(agreement),
               "faithfulness_deletion": deletion_share(model, values, params.seed)}
    if isinstance(au, MediaPipeParams) and au.mirror:  # each face measured with its mirror image
        metrics["mirror_stability"] = mirror_stability(model, values)
    write_json(metrics, paths.explain_metrics)
    explanations = explain_table(model, test)
    write_csv(explanations, paths.explanations)
    train = table[(table.split == "train") & table.success.astype(bool)]
    shape_figure(model, feature_matrix(train, model.features_), paths.shape_plot)
    with atomic_dir(paths.example_faces) as folder:
        examples = draw_examples(model, choose_examples(explanations, model.classes), test, au, folder)
    write_csv(examples, paths.examples)
    if (paths.upper_face_au_model / au_models.MODEL_FILE).is_file():
        explain_masked(paths, au)
    print(f"explain: {metrics}")
    for emotion, found in agreement.items():
        print(f"explain: {emotion}: prototype AUs {found['measurable']} - among the top five: {found['hits']}")
    for row in explanations[explanations.predicted != ""].head(3).itertuples():
        print(f"explain: {row.path}: {row.reasons}")


def explain_masked(paths: Paths, au: AuParams) -> None:
    """The masked-face AU model: its profiles, and its most confident right and wrong answers on the masked test
    faces, each drawn with its reasons."""
    model = au_models.load(paths.upper_face_au_model, "train_upper_face_au_model")
    write_csv(profiles(model), paths.masked_profiles)
    masked = read_au_table(paths.masked_au_table("masked"))
    explanations = explain_table(model, masked)
    explanations["reasons"] = explanations.reasons.where(explanations.predicted == "",
                                                         explanations.reasons + MOUTH_HIDDEN)
    with atomic_dir(paths.masked_example_faces) as folder:
        examples = draw_examples(model, choose_examples(explanations, model.classes), masked, au, folder)
    write_csv(examples.assign(source_path=examples.merge(masked, on="path", how="left").source_path.to_numpy()),
              paths.masked_examples)


if __name__ == "__main__":
    run_stage(main)
