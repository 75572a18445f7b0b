"""Stage train_cnn: the reference Keras CNN on raw 48x48 faces (a share masked on the fly), with per-epoch curves from
dvclive; validation accuracy unmasked and under the test mask style, for choosing cnn.mask_prob; with cnn.class_bias,
offsets per emotion chosen on validation for macro-F1, kept where they are worth it on held-out halves. With
cnn.concepts, the concept-bottleneck CNN, its head as a readable coefficient table, its concepts' fidelity on
validation, and a second head for masked faces on the concepts a mask leaves visible, fitted on masked copies of the
training faces."""

import numpy as np

from face_emotion.cnn import class_bias, training
from face_emotion.cnn import concepts as concept_model
from face_emotion.cnn.model import EMOTION_ROLE, INFO_FILE, MODEL_FILE, concept_outputs, predict_proba
from face_emotion.core.companions import MASK_DETECTOR, SURROGATE, write_companions
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import atomic_path, size_mb, write_csv, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.core.tables import CNN, read_au_table
from face_emotion.data.faces import face_paths, load_face_cache
from face_emotion.data.masking import mask_faces


def skip(reason: str, paths: Paths) -> None:
    """Leave the stage's outputs in place, saying why no CNN was trained."""
    write_json({"role": EMOTION_ROLE, "trained": False, "reason": reason}, paths.cnn / INFO_FILE)
    write_json({}, paths.train_cnn_metrics)
    (paths.cnn_training / "plots" / "metrics").mkdir(parents=True, exist_ok=True)
    print(f"train_cnn: skipped ({reason})")


def main(params: Params, paths: Paths) -> None:
    if not isinstance(params.data, FaceImageData):
        skip(f"data.kind={params.data.kind} has no images", paths)
        return
    classes, seed = params.data.classes, params.cnn_seed
    train = load_face_cache(paths.faces, "train", classes)
    val = load_face_cache(paths.faces, "val", classes)
    concepts = data = None
    if params.cnn.concepts is not None:
        table = read_au_table(paths.au_table)
        concepts = concept_model.Concepts.fitted(table[table.split == "train"], params.cnn.concepts)
        data = training.ConceptData(concepts.targets(table, face_paths(paths.faces, "train")),
                                         concepts.targets(table, face_paths(paths.faces, "val")),
                                         concepts.hidden_by_mask())
    model = training.train(train, val, len(classes), params.cnn, params.mask, seed, paths.cnn_training,
                           params.compute.cnn_threads, data)
    offsets, bias_metrics = class_bias.fit(model, val[0], val[1], params.cnn.class_bias, seed)
    val_accuracy = round(float(np.mean(predict_proba(model, val[0]).argmax(axis=1) == val[1])), 4)
    masked_val = mask_faces(val[0], np.random.default_rng(seed), 1.0, [params.mask.test_style],
                            (params.mask.test_height, params.mask.test_height))
    val_masked_accuracy = round(float(np.mean(predict_proba(model, masked_val).argmax(axis=1) == val[1])), 4)
    with atomic_path(paths.cnn / MODEL_FILE) as tmp:
        model.save(tmp)
    info = {"role": EMOTION_ROLE, "trained": True, "classes": classes, "arch": params.cnn.arch,
            "params": model.count_params(),
            "input": "48x48 grayscale, uint8 0-255 (the model rescales); (n, 48, 48, 1)",
            "preprocessing": "face found and cropped square around its landmarks, 1.15x wider (face-emotion "
                             "predict); FER2013 crops used as they are; resized to 48x48 bilinear, grayscale",
            "seed": seed, "class_bias": dict(zip(classes, np.round(offsets, 2).tolist(), strict=True))}
    metrics = {"val_accuracy": val_accuracy, "val_masked_accuracy": val_masked_accuracy, **bias_metrics,
               "size_mb": size_mb(paths.cnn / MODEL_FILE)}
    if concepts is not None:
        info |= {"concept_set": params.cnn.concepts, "concept_training": params.cnn.concept_training,
                 **concepts.to_info()}
        head = concept_model.head(model, concepts, classes, params.cnn.concepts)
        write_csv(head.coefficient_table().round(4), paths.cnn / concept_model.COEFFICIENTS_FILE)
        predicted = concept_outputs(model, val[0])[1]
        scores = concept_model.fidelity(concepts.in_units(predicted), concepts.in_units(data.val), concepts.columns)
        metrics["val_concept_fidelity"] = concept_model.median_au_r(scores)
        masked_train = mask_faces(train[0], np.random.default_rng(seed + 1), 1.0, params.mask.styles,
                                  params.mask.height_range())
        masked_head = concept_model.fit_masked_head(model, concepts, masked_train, train[1], classes,
                                                    params.cnn.concepts, seed)
        info[concept_model.MASKED_HEAD] = masked_head.to_dict()
        answers = concept_model.masked_head_outputs(model, masked_head, concepts, masked_val).argmax(axis=1)
        metrics["val_masked_head_accuracy"] = round(float(np.mean(answers == val[1])), 4)
    write_json(info, paths.cnn / INFO_FILE)
    surrogate = {} if concepts is not None else {SURROGATE: paths.surrogate(CNN)}  # a concept CNN explains itself
    write_companions(paths.cnn, {MASK_DETECTOR: paths.mask_detector, **surrogate})
    write_json({CNN: metrics}, paths.train_cnn_metrics)
    print(f"train_cnn: {model.count_params()} parameters, validation accuracy {val_accuracy:.4f}, "
          f"{val_masked_accuracy:.4f} masked ({params.mask.test_style}), saved to {paths.cnn / MODEL_FILE}")


if __name__ == "__main__":
    run_stage(main)
