"""Benchmark: other heads on the concept CNN's frozen concepts, scored on the validation faces (`make run` first).

    python benchmarks/concept_heads.py                    # the workspace's concept CNN (models/cnn)
    python benchmarks/concept_heads.py --model FOLDER     # another concept CNN the pipeline trained

Asks whether the readable head limits the concept CNN's accuracy: its concepts are computed once for the training
and validation faces of the workspace's face cache (each face averaged with its mirror image, as the model answers),
then heads are fitted on the training faces' concepts and scored on the validation faces beside the trained one: a
multinomial logistic regression refitted, additive shape functions (a cubic spline per concept, then a logistic
regression: still one readable curve per concept and emotion), and gradient boosting on all the concepts together
(not readable: the ceiling of what the concepts hold). The test split is not read. Prints one Markdown table and
records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler

from face_emotion.cnn import model as cnn
from face_emotion.core.config import load_params
from face_emotion.core.errors import UserError
from face_emotion.core.paths import load_paths
from face_emotion.data.faces import load_face_cache
from face_emotion.reporting.results import record_benchmark

SEED = 0
HEADS = {
    **{f"logistic regression refitted (C={c:g})": make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))
       for c in (0.01, 0.1, 1.0)},
    **{f"additive: a spline per concept ({knots} knots), logistic regression on them": make_pipeline(
        StandardScaler(), SplineTransformer(n_knots=knots), LogisticRegression(C=0.1, max_iter=3000))
       for knots in (4, 6)},
    "gradient boosting on all the concepts (not readable)": HistGradientBoostingClassifier(random_state=SEED),
}
"""The heads fitted on the frozen concepts, by the name the table gives them."""


def scored(name: str, answers: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    """One row of the table: a head's accuracy and macro-F1 on the validation faces."""
    return {"head": name, "val accuracy": round(float(np.mean(answers == labels)), 4),
            "val macro-F1": round(float(f1_score(labels, answers, average="macro")), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    paths = load_paths()
    parser.add_argument("--model", type=Path, default=paths.cnn, help="a concept CNN folder (default: the workspace's)")
    args = parser.parse_args()
    classes = load_params().data.classes
    info = cnn.check_role(args.model, cnn.EMOTION_ROLE, "train_cnn")
    if "concept_set" not in info or info.get("classes") != classes:
        parser.error(f"{args.model} is not a concept CNN of data.classes ({', '.join(classes)})")
    model = cnn.load(args.model)
    (train_faces, train_labels), (val_faces, val_labels) = (load_face_cache(paths.faces, split, classes)
                                                            for split in ("train", "val"))
    trained_answers, val_concepts = cnn.concept_outputs(model, val_faces, tta=True)
    _, train_concepts = cnn.concept_outputs(model, train_faces, tta=True)
    rows = [scored("the trained head (its class offsets were chosen on these faces)", trained_answers.argmax(axis=1),
                   val_labels)]
    for name, head in HEADS.items():
        rows.append(scored(name, head.fit(train_concepts, train_labels).predict(val_concepts), val_labels))
        print(rows[-1], flush=True)
    note = (f"{args.model}: concept CNN ({info['concept_set']}, {info['concept_training']}), "
            f"{train_concepts.shape[1]} concepts; heads fitted on {len(train_labels)} training faces' concepts, scored "
            f"on {len(val_labels)} validation faces; each face averaged with its mirror image. The refitted heads add no "
            "class offsets (the trained head's were tuned for macro-F1 on these faces): compare accuracy.")
    print(record_benchmark("concept_heads", "python benchmarks/concept_heads.py " + shlex.join(sys.argv[1:]), rows,
                           note))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
