"""Stage explain: per-emotion AU profiles, a heatmap, FACS agreement, and a reason for every test face."""

from face_emotion import au_model
from face_emotion.core.config import Params
from face_emotion.core.io import write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_au_table
from face_emotion.explain.figures import profile_heatmap
from face_emotion.explain.profiles import agreement_score, facs_agreement, profiles
from face_emotion.explain.reasons import explain_table


def main(params: Params, paths: Paths) -> None:
    model = au_model.load(paths.au_model)
    table = read_au_table(paths.au_table)
    write_csv(profiles(model), paths.profiles)
    profile_heatmap(model, paths.profile_heatmap)
    agreement = facs_agreement(model)
    write_json(agreement, paths.facs_agreement)
    write_json({"facs_agreement": agreement_score(agreement)}, paths.explain_metrics)
    explanations = explain_table(model, table[table.split == "test"])
    write_csv(explanations, paths.explanations)
    for emotion, found in agreement.items():
        print(f"explain: {emotion}: prototype AUs {found['measurable']} - among the top five: {found['hits']}")
    for row in explanations[explanations.predicted != ""].head(3).itertuples():
        print(f"explain: {row.path}: {row.reasons}")


if __name__ == "__main__":
    run_stage(main)
