"""Benchmark: the concept CNN's head of masked faces and its rare classes (`make run` first).

    python benchmarks/masked_head_balance.py

The head of masked faces (train_cnn, cnn.concepts) is fitted on masked copies of the training faces without class
weights, and it almost never answers 'disgust'. This scores, on the validation faces masked in the test style (as
train_cnn scores the head; the test split is not read), each face averaged with its mirror image as predict answers:

- the head as the pipeline fits it;
- the head fitted with balanced class weights (every emotion weighing the same in the fit);
- the pipeline's head with class offsets chosen as ``cnn.class_bias=macro_f1`` chooses the CNN's (on all validation
  faces: in-sample), and what such offsets change on faces they were not chosen on (held-out halves of validation).

Prints one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import f1_score

from face_emotion.cnn import class_bias
from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn import model as cnn
from face_emotion.core.config import load_params
from face_emotion.core.errors import UserError
from face_emotion.core.paths import load_paths
from face_emotion.data.faces import load_face_cache
from face_emotion.data.masking import mask_faces
from face_emotion.reporting.results import record_benchmark


def row(variant: str, answers: np.ndarray, labels: np.ndarray, classes: list[str],
        heldout: dict[str, float] | None = None) -> dict[str, object]:
    """One variant's scores from its answers on the masked validation faces (class indices, as ``labels``)."""
    per_class = f1_score(labels, answers, average=None, labels=range(len(classes)), zero_division=0)
    change = f"{heldout['accuracy']:+.4f} / {heldout['macro_f1']:+.4f}" if heldout else "-"
    return {"head of masked faces": variant, "accuracy": round(float(np.mean(answers == labels)), 4),
            "macro-F1": round(float(per_class.mean()), 4),
            "F1 " + " / ".join(classes): " / ".join(f"{value:.2f}" for value in per_class),
            "held-out change (accuracy / macro-F1)": change}


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    params, paths = load_params(), load_paths()
    classes = params.data.classes
    info = cnn.check_role(paths.cnn, cnn.EMOTION_ROLE, "train_cnn")
    masked_head = concept_model.masked_head_from_info(info)
    if masked_head is None:
        raise SystemExit(f"error: {paths.cnn} holds no head of masked faces: run make run with cnn.concepts set")
    model, concepts = cnn.load(paths.cnn), concept_model.Concepts.from_info(info)
    train, val = (load_face_cache(paths.faces, split, classes) for split in ("train", "val"))
    masked_train = mask_faces(train[0], np.random.default_rng(params.seed + 1), 1.0, params.mask.styles,
                              params.mask.height_range())
    masked_val = mask_faces(val[0], np.random.default_rng(params.seed), 1.0, [params.mask.test_style],
                            (params.mask.test_height, params.mask.test_height))
    as_fitted = concept_model.masked_head_outputs(model, masked_head, concepts, masked_val, tta=True)
    balanced = concept_model.fit_masked_head(model, concepts, masked_train, train[1], classes, params.cnn.concepts,
                                             params.seed, class_weight="balanced")
    offsets = class_bias.tuned_offsets([as_fitted], val[1])
    rows = [row("as the pipeline fits it (no class weights)", as_fitted.argmax(axis=1), val[1], classes),
            row("fitted with balanced class weights", concept_model.masked_head_outputs(
                model, balanced, concepts, masked_val, tta=True).argmax(axis=1), val[1], classes),
            row("with class offsets " + ", ".join(f"{name} {value:+.2f}" for name, value in zip(classes, offsets,
                                                                                                 strict=True))
                + " (chosen on these faces)", class_bias.answers([as_fitted], offsets), val[1], classes,
                class_bias.heldout_gain([as_fitted], val[1], params.seed))]
    print(record_benchmark("masked_head_balance", "python benchmarks/masked_head_balance.py", rows,
                           f"Validation faces of the workspace's run ({len(val[1])}), masked in the test style "
                           f"({params.mask.test_style}), each averaged with its mirror image. Held-out change: "
                           "offsets chosen on one seeded half of these faces, scored on the other, mean of both ways."))


if __name__ == "__main__":
    try:
        main()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
