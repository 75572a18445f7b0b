"""Stage explain: per-emotion AU profiles, a heatmap, FACS agreement, and a reason for every test face."""

from face_emotion import explain, logreg
from face_emotion.atomic import write_csv, write_json
from face_emotion.au.table import read_au_table
from face_emotion.config import Params
from face_emotion.figures import profile_heatmap
from face_emotion.stage import run_stage

AU_TABLE = "features/au.csv"
MODEL = "models/logreg/model.json"
PROFILES = "reports/au_profiles.csv"
HEATMAP = "plots/au_profiles.png"
EXPLANATIONS = "reports/explanations.csv"
AGREEMENT = "reports/facs_agreement.json"
AGREEMENT_METRICS = "metrics/facs_agreement.json"


def main(params: Params) -> None:
    model = logreg.AuModel.load(MODEL)
    table = read_au_table(AU_TABLE)
    write_csv(explain.profiles(model), PROFILES)
    profile_heatmap(model, HEATMAP)
    agreement = explain.facs_agreement(model)
    write_json(agreement, AGREEMENT)
    write_json(explain.agreement_metrics(agreement), AGREEMENT_METRICS)
    explanations = explain.explain_table(model, table[table.split == "test"])
    write_csv(explanations, EXPLANATIONS)
    for emotion, found in agreement.items():
        print(f"explain: {emotion}: prototype AUs {found['measurable']} - among the top five: {found['hits']}")
    example = explanations[explanations.predicted != ""].head(3)
    for row in example.itertuples():
        print(f"explain: {row.path}: {row.reasons}")


if __name__ == "__main__":
    run_stage(main)
