"""Stage practice: an offline page where learners guess the emotion of test faces, whole and masked, and see the
movements behind each (reports/practice/index.html)."""


from face_emotion import au_models
from face_emotion.core.config import AuParams, FaceImageData, Params, parse_section
from face_emotion.core.io import atomic_dir, read_json, size_mb, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import read_au_table
from face_emotion.practice.build import Level, build_deck
from face_emotion.practice.page import write_page


def main(params: Params, paths: Paths) -> None:
    au = parse_section(AuParams, read_json(paths.au_settings, "extract_au"), "au")
    levels = []
    if isinstance(params.data, FaceImageData):
        table = read_au_table(paths.au_table)
        levels.append(Level("whole", au_models.load(paths.au_model), table[table.split == "test"]))
        if (paths.upper_face_au_model / au_models.MODEL_FILE).is_file():
            levels.append(Level("masked", au_models.load(paths.upper_face_au_model, "train_upper_face_au_model"),
                                read_au_table(paths.masked_au_table("masked"))))
    with atomic_dir(paths.practice) as folder:
        deck = build_deck(levels, params.practice, params.data.classes, au, folder)
        if not levels:
            deck.notes.append(f"This experiment's data has no face images (data.kind={params.data.kind}): "
                              "there are no faces to practise with.")
        write_page(deck, folder)
    counts = deck.counts()
    write_json({"faces": {level: sum(by_emotion.values()) for level, by_emotion in counts.items()},
                "page_mb": size_mb(paths.practice)}, paths.practice_metrics)
    for level, by_emotion in counts.items():
        print(f"practice: {level}: " + ", ".join(f"{emotion} {n}" for emotion, n in by_emotion.items()))
    for note in deck.notes:
        print(f"practice: {note}")
    print(f"practice: open {paths.practice_page.resolve().as_uri()}")


if __name__ == "__main__":
    run_stage(main)
