"""Benchmark: CNNs the pipeline trained, on the same test faces: each one's accuracy and macro-F1 with flip
averaging (as cnn_tta) and the share of faces each pair answers alike. Made to compare the concept CNN (the default,
cnn.concepts) with the plain CNN trained with the same params (cnn.concepts=null): does reading its answer through
named movements change what it answers? A second plain CNN trained with another seed (cnn.seed) gives the yardstick:
how alike two CNNs answer that differ in nothing but the seed.

    python benchmarks/cnn_agreement.py --other ../plain/models/cnn   # the workspace's models/cnn against another
    python benchmarks/cnn_agreement.py --other PLAIN PLAIN_SEED_43   # ... against each of several

Each folder is a models/cnn copied aside after its run, e.g. `dvc exp run -S cnn.concepts=null -S cnn.class_bias=null
-S cnn.seed=43 && cp -r models/cnn ../plain_seed_43`. The test faces are the workspace's (features/dataset, after
`make run`); both CNNs must know the same classes. Prints one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from face_emotion.cnn import model as cnn
from face_emotion.core.config import load_params
from face_emotion.core.errors import UserError
from face_emotion.core.paths import load_paths
from face_emotion.data.faces import load_face_cache
from face_emotion.reporting.results import record_benchmark


def describe_cnn(folder: Path) -> str:
    """What a CNN folder holds, in a few words."""
    info = cnn.check_role(folder, cnn.EMOTION_ROLE, "train_cnn")
    kind = f"concept CNN ({info['concept_set']}, {info['concept_training']})" if "concept_set" in info else "plain CNN"
    return f"{folder}: {kind}, {info.get('arch', '?')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    paths = load_paths()
    parser.add_argument("--model", type=Path, default=paths.cnn, help="a CNN folder (default: the workspace's)")
    parser.add_argument("--other", type=Path, nargs="+", required=True, help="the CNN folders to compare it with")
    args = parser.parse_args()
    folders: list[Path] = []  # each folder once, however it is spelled
    for folder in (args.model, *args.other):
        if folder.resolve() not in {seen.resolve() for seen in folders}:
            folders.append(folder)
    if len(folders) < 2:
        parser.error("--other names no CNN folder but --model's")
    classes = load_params().data.classes
    for folder in folders:
        if cnn.check_role(folder, cnn.EMOTION_ROLE, "train_cnn").get("classes") != classes:
            parser.error(f"{folder} does not predict data.classes ({', '.join(classes)})")
    faces, labels = load_face_cache(paths.faces, "test", classes)
    answers = {folder: cnn.predict_proba(cnn.load(folder), faces, tta=True).argmax(axis=1) for folder in folders}
    rows = [{"CNN": describe_cnn(folder), "test faces": len(labels),
             "accuracy (flip averaged)": round(float(np.mean(found == labels)), 4),
             "macro-F1": round(float(f1_score(labels, found, average="macro")), 4),
             **{f"same answer as {other}": "-" if other == folder else round(float(np.mean(found == answers[other])), 4)
                for other in folders}}
            for folder, found in answers.items()]
    print(record_benchmark("cnn_agreement", "python benchmarks/cnn_agreement.py " + shlex.join(sys.argv[1:]), rows,
                           "All on the workspace's test faces, each face averaged with its mirror image."))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
