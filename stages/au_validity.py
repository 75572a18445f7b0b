"""Stage au_validity: does each AU column measure its movement? Spread, prototype AUC on the validation split (the
metric au_validity) and a montage per AU of the faces it scores highest and lowest."""

from face_emotion.au import validity
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.facs import ACTION_UNITS
from face_emotion.core.io import atomic_dir, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_au_table
from face_emotion.data.faces import faces_by_path


def main(params: Params, paths: Paths) -> None:
    table = read_au_table(paths.au_table)
    au_scores = validity.scores(table, params.data.classes)
    with atomic_dir(paths.au_validity) as folder:
        write_csv(au_scores, folder / paths.au_scores.name)
        if isinstance(params.data, FaceImageData):
            faces = faces_by_path(paths.faces, "val")
            val = table[(table.split == "val") & table.success.astype(bool)].reset_index(drop=True)
            (folder / paths.au_montages.name).mkdir()
            for au in ACTION_UNITS:
                chosen = [i for part in validity.extremes(val[au.column]) for i in part]
                sheet = validity.montage([faces[val.path[i]] for i in chosen], [val[au.column][i] for i in chosen])
                sheet.save(folder / paths.au_montages.name / f"{au.column}.png", optimize=True)
    metrics = validity.metrics(au_scores)
    write_json(metrics, paths.au_validity_metrics)
    print(f"au_validity: mean prototype AUC {metrics['au_validity']} on the validation split; "
          f"weakest: {au_scores.nsmallest(3, 'auc')[['au', 'auc']].to_dict('records')}")
    if metrics["dead"]:
        print(f"au_validity: warning: no spread (standard deviation < {validity.MIN_SPREAD}) in {metrics['dead']}")


if __name__ == "__main__":
    run_stage(main)
