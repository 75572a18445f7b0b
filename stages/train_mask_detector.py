"""Stage train_mask_detector: the small CNN that tells whether a face's lower half is covered."""

from face_emotion.cnn import mask_detector
from face_emotion.cnn.model import INFO_FILE, MASK_DETECTOR_ROLE, MODEL_FILE
from face_emotion.cnn.training import configure_threads
from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import atomic_path, size_mb, write_json
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.data.faces import load_face_cache


def main(params: Params, paths: Paths) -> None:
    if not isinstance(params.data, FaceImageData):
        write_json({"role": MASK_DETECTOR_ROLE, "trained": False, "reason": f"data.kind={params.data.kind} has no images"},
                   paths.mask_detector / INFO_FILE)
        write_json({}, paths.train_mask_detector_metrics)
        print(f"train_mask_detector: skipped (data.kind={params.data.kind} has no images)")
        return
    configure_threads(params.compute.cnn_threads)
    classes = params.data.classes
    train_faces, _ = load_face_cache(paths.faces, "train", classes)
    val_faces, _ = load_face_cache(paths.faces, "val", classes)
    model, val_accuracy = mask_detector.train(train_faces, val_faces, params.mask, params.seed)
    with atomic_path(paths.mask_detector / MODEL_FILE) as tmp:
        model.save(tmp)
    write_json({"role": MASK_DETECTOR_ROLE, "trained": True, "val_accuracy": round(val_accuracy, 4),
                "threshold": mask_detector.THRESHOLD,
                "styles": params.mask.styles,
                "height": params.mask.height, "input": "48x48 grayscale face, uint8 0-255 (as the CNN's)",
                "seed": params.seed}, paths.mask_detector / INFO_FILE)
    write_json({"mask_detector": {"val_accuracy": round(val_accuracy, 4),
                                  "size_mb": size_mb(paths.mask_detector / MODEL_FILE)}},
               paths.train_mask_detector_metrics)
    print(f"train_mask_detector: validation accuracy {val_accuracy:.4f} (half the faces masked), "
          f"saved to {paths.mask_detector / MODEL_FILE}")


if __name__ == "__main__":
    run_stage(main)
