"""Stage train_cnn: the reference Keras CNN on raw 48x48 faces, with per-epoch metrics from dvclive."""

from pathlib import Path

from face_emotion import cnn
from face_emotion.atomic import atomic_path, write_json
from face_emotion.config import Params
from face_emotion.errors import UserError
from face_emotion.faces import load_face_cache
from face_emotion.stage import run_stage
from stages.cache_faces import FACE_CACHE

MODEL = "models/cnn/model.keras"
MODEL_INFO = "models/cnn/model_info.json"
LIVE_DIR = "metrics/cnn_train"


def skip(reason: str) -> None:
    """Leave the stage's outputs in place, saying why no CNN was trained."""
    write_json({"trained": False, "reason": reason}, MODEL_INFO)
    write_json({"trained": False}, f"{LIVE_DIR}/metrics.json")
    Path(f"{LIVE_DIR}/plots/metrics").mkdir(parents=True, exist_ok=True)
    print(f"train_cnn: skipped ({reason})")


def main(params: Params) -> None:
    if params.data.kind != "images":
        skip(f"data.kind={params.data.kind} has no images")
        return
    classes = params.data.classes
    train = load_face_cache(FACE_CACHE, "train", classes)
    val = load_face_cache(FACE_CACHE, "val", classes)
    if not len(val[0]):
        raise UserError("the CNN needs validation images for early stopping: set data.val_fraction above 0")
    model = cnn.train(train, val, len(classes), params.cnn, params.seed, LIVE_DIR)
    with atomic_path(MODEL) as tmp:
        model.save(tmp)
    write_json({"trained": True, "classes": classes, "arch": params.cnn.arch, "params": model.count_params(),
                "input": "48x48 grayscale, uint8 0-255 (the model rescales); (n, 48, 48, 1)",
                "preprocessing": "face found and cropped square around its landmarks, 1.15x wider (face-emotion "
                                 "predict); FER2013 crops used as they are; resized to 48x48 bilinear, grayscale",
                "seed": params.seed}, MODEL_INFO)
    print(f"train_cnn: {model.count_params()} parameters, saved to {MODEL}")


if __name__ == "__main__":
    run_stage(main)
