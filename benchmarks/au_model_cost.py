"""Benchmark: what `face-emotion predict` spends per face on the AU model (its prediction and reasons) and on
`--annotate` (the reasons drawn on the face, written as PNG), MediaPipe's measurement excluded.

    python benchmarks/au_model_cost.py                                  # models/au_model, 500 FER2013 test faces
    python benchmarks/au_model_cost.py --model models/upper_face_au_model --faces 0

Faces are found and measured by MediaPipe first (not timed). Then, as predict does for each image: the AU model
classifies and explains the image's faces (one face a call for the FER2013 faces, the group photo's five in one
call); `--annotate` reads the image again, draws every face's reasons on it at its size and writes the PNG. The
mask detector, a model of its own, has its own column (with models/mask_detector beside the model folder). Prints
one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import io
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from au_extraction import fer_faces  # the same FER2013 test faces as that benchmark
from predict_media import MEDIA

from face_emotion.au_models import MODEL_FILE
from face_emotion.core.config import compose_conf, parse_params
from face_emotion.core.paths import load_paths
from face_emotion.data.images import read_image
from face_emotion.predict import ANNOTATION_PNG_COMPRESSION, AuPredictor, FaceAnswer, load_predictor
from face_emotion.reporting.results import record_benchmark

GROUP_PHOTO_REPEATS = 20
"""The group photo is classified and drawn this many times, for a steadier time."""


def milliseconds(work: Callable[[], object]) -> tuple[float, object]:
    """The milliseconds ``work`` takes, and what it returns."""
    start = time.perf_counter()
    result = work()
    return (time.perf_counter() - start) * 1000, result


def costs(predictor: AuPredictor, name: str, images: list[Path], repeats: int = 1) -> dict[str, object]:
    """Per face answered: the AU model's classification and reasons, the mask detector, and --annotate."""
    located = [AuPredictor.locate(predictor.backend, read_image(path)) for path in images]
    detector, predictor.mask_detector = predictor.mask_detector, None
    model_ms, detector_ms, annotate_ms, faces = 0.0, 0.0, 0.0, 0
    for _ in range(repeats):
        for path, found in zip(images, located, strict=True):
            spent, answers = milliseconds(lambda found=found: predictor.complete(found))
            model_ms += spent
            answered: list[FaceAnswer] = [a for a in answers if a.emotion]  # type: ignore[union-attr]
            faces += len(answered)
            if detector is not None:
                predictor.mask_detector = detector
                detector_ms += milliseconds(lambda found=found: predictor.mark_masked(found))[0]
                predictor.mask_detector = None
            if answered:
                annotate_ms += milliseconds(lambda path=path, answers=answers: _annotated(predictor, path, answers))[0]
    predictor.mask_detector = detector
    per_face = max(faces, 1)
    return {"input": name, "faces answered": faces // repeats,
            "AU model: prediction and reasons (ms/face)": round(model_ms / per_face, 2),
            "mask detector (ms/face)": round(detector_ms / per_face, 2) if detector is not None else "-",
            "--annotate (ms/face)": round(annotate_ms / per_face, 2)}


def _annotated(predictor: AuPredictor, path: Path, answers: list[FaceAnswer]) -> int:
    """What --annotate does for one image: read it, draw every face's reasons, write the PNG (to memory here)."""
    picture = predictor.drawing(read_image(path), answers)
    buffer = io.BytesIO()
    if picture is not None:
        picture.save(buffer, format="PNG", compress_level=ANNOTATION_PNG_COMPRESSION)
    return buffer.tell()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_model = load_paths().au_model
    parser.add_argument("--model", type=Path, default=default_model, help="an AU model folder the pipeline wrote")
    parser.add_argument("--faces", type=int, default=500, help="FER2013 test faces (0: all)")
    args = parser.parse_args()
    if not (args.model / MODEL_FILE).is_file():
        parser.error(f"{args.model} holds no {MODEL_FILE}: name an AU model folder the pipeline wrote")
    params = parse_params(compose_conf())
    predictor = load_predictor(args.model)
    assert isinstance(predictor, AuPredictor)
    with predictor:
        rows = [costs(predictor, "FER2013 48x48 test faces (one a call)", fer_faces(params, args.faces)),
                costs(predictor, "multi_face.jpg (group photo, its faces in one call)", [MEDIA / "multi_face.jpg"],
                      GROUP_PHOTO_REPEATS)]
    note = (f"{args.model} ({predictor.model.kind}, {len(predictor.model.features_)} features); MediaPipe's "
            "measurement excluded; one process.")
    name = "au_model_cost" + ("" if args.model == default_model else "_" + args.model.name)
    print(record_benchmark(name, "python benchmarks/au_model_cost.py " + shlex.join(sys.argv[1:]), rows, note))


if __name__ == "__main__":
    main()
