"""The answer_faces stage's work: every model on raw faces (the CNN, flip averaged with evaluate.tta, its head of
masked faces, Teachable Machine exports) answers every test face, unmasked and under each test mask, the mask
detector gives its verdicts, the black boxes answer every training face (for their AU surrogates), and a concept CNN
is checked against the measured AUs. Kept apart from evaluate and surrogates, so that an AU-model experiment scores
and explains its model on these answers without loading TensorFlow or running a CNN again."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn import mask_detector
from face_emotion.cnn import model as cnn
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import atomic_dir, size_mb, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.tables import CNN, CNN_UPPER_FACE, read_au_table, read_manifest, usable
from face_emotion.data.faces import decode_faces, face_paths, load_face_cache
from face_emotion.evaluation.face_answers import MASK_DETECTOR, TEST, TRAIN
from face_emotion.evaluation.teachable_machine import MODEL_FILE, find_exports, load_export
from face_emotion.explain.profiles import agreement_score, facs_agreement
from face_emotion.explain.reasons import reasoned

FaceModel = Callable[[np.ndarray], np.ndarray]
"""A model on raw faces: (n, 48, 48, 1) uint8 faces in, n class names out."""


@dataclass(frozen=True)
class FaceModels:
    """The models on raw faces of a run: each by name, its size in MB, and which give no reasons of their own."""

    models: dict[str, FaceModel]
    sizes: dict[str, float]
    black_boxes: dict[str, FaceModel]


def cnn_face_models(model, classes: list[str], tta: bool) -> dict[str, FaceModel]:
    """A loaded Keras CNN as a FaceModel, and with ``tta`` also as 'cnn_tta' (each face's prediction averaged with
    its mirror image's)."""
    names = {CNN: False, **({"cnn_tta": True} if tta else {})}
    return {name: (lambda faces, flip=flip: np.asarray(classes)[cnn.predict_proba(model, faces, tta=flip).argmax(axis=1)])
            for name, flip in names.items()}


def face_models(params: Params, paths: Paths, cnn_model: object | None) -> FaceModels:
    """``cnn_model`` (None where the run trained none) as the CNN, flip averaged with evaluate.tta, and its head of
    masked faces where it has one; every Teachable Machine export. The black boxes: a plain CNN (its answer as
    evaluate.tta chooses) and the exports."""
    models: dict[str, FaceModel] = {}
    black_boxes: dict[str, FaceModel] = {}
    if cnn_model is not None:
        models.update(cnn_face_models(cnn_model, params.data.classes, params.evaluate.tta))
        info = cnn.check_role(paths.cnn, cnn.EMOTION_ROLE, "train_cnn")
        if not cnn.is_concept_model(cnn_model):
            black_boxes[CNN] = models["cnn_tta" if params.evaluate.tta else CNN]
        elif (masked_head := concept_model.masked_head_from_info(info)) is not None:
            concepts = concept_model.Concepts.from_info(info)
            models[CNN_UPPER_FACE] = lambda faces: np.asarray(params.data.classes)[concept_model.masked_head_outputs(
                cnn_model, masked_head, concepts, faces, tta=params.evaluate.tta).argmax(axis=1)]
    sizes = dict.fromkeys(models, size_mb(paths.cnn / cnn.MODEL_FILE)) if models else {}
    for folder in find_exports(paths.teachable_machine):
        export = load_export(folder)
        unknown = sorted(set(export.labels) - set(params.data.classes))
        if unknown:
            print(f"answer_faces: {export.name} also predicts {', '.join(unknown)}; those answers count as errors")
        models[export.name] = black_boxes[export.name] = export.predict_labels
        sizes[export.name] = size_mb(folder / MODEL_FILE)
    if (paths.mask_detector / cnn.MODEL_FILE).is_file():
        sizes[MASK_DETECTOR] = size_mb(paths.mask_detector / cnn.MODEL_FILE)
    return FaceModels(models, sizes, black_boxes)


def answered(paths: np.ndarray, faces: np.ndarray, models: dict[str, FaceModel], detector: object | None
             ) -> tuple[pd.DataFrame, dict[str, float]]:
    """One row per face (``paths``): each model's answer and the detector's verdict; the seconds each model took."""
    table = pd.DataFrame({"path": paths})
    seconds: dict[str, float] = {}
    for name, model in models.items():
        start = time.perf_counter()
        table[name] = np.asarray(model(faces), dtype=object) if len(faces) else np.array([], dtype=object)
        seconds[name] = round(time.perf_counter() - start, 4)
    if detector is not None:
        table[MASK_DETECTOR] = mask_detector.is_masked(detector, faces) if len(faces) else np.array([], dtype=bool)
    return table, seconds


def concept_checks(paths: Paths, model, faces: np.ndarray, labels: np.ndarray, test_paths: np.ndarray,
                   au_table: pd.DataFrame, tta: bool) -> dict[str, float]:
    """The concept CNN's checks on the test faces (fidelity and intervention), its head's FACS agreement and each
    face's answer with its reasons (as predict gives them), written beside the answers; the headline numbers."""
    info = cnn.check_role(paths.cnn, cnn.EMOTION_ROLE, "train_cnn")
    concepts = concept_model.Concepts.from_info(info)
    numbers, fidelity = concept_model.concept_check(model, concepts, faces, labels,
                                                    concepts.targets(au_table, test_paths))
    write_csv(fidelity, paths.concept_fidelity)
    head = concept_model.head(model, concepts, info["classes"], info["concept_set"])
    agreement = facs_agreement(head)
    write_json(agreement, paths.concept_facs_agreement)
    answers = reasoned(head, concepts.in_units(cnn.concept_outputs(model, faces, tta=tta)[1]))
    write_csv(pd.DataFrame({"path": test_paths, "predicted": [a.emotion for a in answers],
                            "reasons": [a.text for a in answers]}), paths.concept_reasons)
    return {**numbers, "facs_agreement": agreement_score(agreement)}


def answer_faces(params: Params, paths: Paths) -> str:
    """Writes every face set's answers (Paths.face_answers_of), what answered (Paths.face_answers_info) and a concept
    CNN's checks; returns a line on what answered."""
    classes = params.data.classes
    cnn_model = cnn.load(paths.cnn) if (paths.cnn / cnn.MODEL_FILE).is_file() else None
    found = face_models(params, paths, cnn_model)
    detector = mask_detector.load(paths.mask_detector) if MASK_DETECTOR in found.sizes else None
    faces, labels = load_face_cache(paths.faces, TEST, classes)
    test_paths = usable(read_manifest(paths.manifest), TEST).path.to_numpy()
    face_sets = {TEST: (test_paths, faces)}
    for name in params.mask.test_sets():
        if not (masked := read_manifest(paths.masked_manifest(name))).empty:
            face_sets[name] = (masked.path.to_numpy(), decode_faces(masked))
    if found.black_boxes and isinstance(params.data, FaceImageData):
        face_sets[TRAIN] = (face_paths(paths.faces, TRAIN), load_face_cache(paths.faces, TRAIN, classes)[0])
    seconds: dict[str, dict[str, float]] = {}
    concepts = None
    with atomic_dir(paths.face_answers) as folder:
        writing = replace(paths, face_answers=folder)  # renamed into place when every file is written
        for face_set, (set_paths, set_faces) in face_sets.items():
            models = found.black_boxes if face_set == TRAIN else found.models
            table, seconds[face_set] = answered(set_paths, set_faces, models, None if face_set == TRAIN else detector)
            write_csv(table, writing.face_answers_of(face_set))
        if cnn_model is not None and cnn.is_concept_model(cnn_model):
            concepts = concept_checks(writing, cnn_model, faces, labels, test_paths, read_au_table(paths.au_table),
                                      params.evaluate.tta)
        write_json({"models": list(found.models), "black_boxes": list(found.black_boxes), "sizes_mb": found.sizes,
                    "seconds": seconds, "cnn_concepts": concepts}, writing.face_answers_info)
    return (f"answer_faces: {', '.join(found.models) or 'no model on raw faces'} answered "
            f"{', '.join(f'{len(p)} {s}' for s, (p, _) in face_sets.items())} faces"
            + ("; the mask detector gave its verdicts" if detector is not None else ""))

