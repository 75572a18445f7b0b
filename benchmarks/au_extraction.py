"""Benchmark: AU extraction speed (images/s) and face-found rate of the configured backend.

    python benchmarks/au_extraction.py                        # 1,000 FER2013 test faces and 100 larger photos
    python benchmarks/au_extraction.py --faces 0              # every FER2013 test face (the detection-rate target)
    python benchmarks/au_extraction.py -S au.mirror=false     # each face measured once
    python benchmarks/au_extraction.py -S compute.au_workers=1

Larger photos are made from FER2013 test faces: the face upscaled to 256 px and placed on a 640x480 background.
Start-up (opening MediaPipe in each worker) is included. The last row is the floor under the first: MediaPipe's
FaceLandmarker alone on the same faces' detection views (and their mirror images with au.mirror), in as many
processes, start-up and everything else excluded. Run it on an otherwise idle machine; it prints one Markdown
table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from face_emotion.au import extract
from face_emotion.au.backends.mediapipe import (
    TRAINING_MAX_FACES,
    create_landmarker,
    mediapipe_module,
    mirrored_view,
    padded_view,
)
from face_emotion.core.config import MediaPipeParams, Params, compose_conf, parse_params
from face_emotion.core.tables import USED
from face_emotion.results import record_benchmark


def fer_faces(params: Params, count: int) -> list[Path]:
    """``count`` test faces spread over the classes (0: all of them), in a fixed order."""
    test = Path(params.data.root) / "test"
    faces = sorted(p for c in params.data.classes for p in (test / c).glob("*.jpg"))
    return faces if count == 0 else faces[:: max(1, len(faces) // count)][:count]


def photos(faces: list[Path], folder: Path) -> list[Path]:
    """Each face upscaled and placed off-centre in a 640x480 colour photo."""
    made = []
    for i, face in enumerate(faces):
        photo = Image.new("RGB", (640, 480), (70 + i % 90, 110, 150))
        photo.paste(Image.open(face).convert("RGB").resize((256, 256), Image.Resampling.BICUBIC), (260, 120))
        made.append(folder / f"photo_{i:04d}.jpg")
        photo.save(made[-1], quality=92)
    return made


def measure(name: str, paths: list[Path], params: Params) -> dict[str, object]:
    manifest = pd.DataFrame({"path": [str(p) for p in paths], "label": "any", "split": "test", "status": USED,
                             "md5": [str(i) for i in range(len(paths))]})
    start = time.perf_counter()
    table = extract.extract(manifest, params.au, params.compute)
    seconds = time.perf_counter() - start
    return {"input": name, "images": len(paths), "seconds": round(seconds, 1), "images/s": round(len(paths) / seconds, 1),
            "face found": f"{table.success.mean():.1%}"}


def _landmarker_seconds(views: list[np.ndarray], params: MediaPipeParams) -> float:
    """Seconds one FaceLandmarker takes for ``views`` (and their mirror images with ``params.mirror``)."""
    mediapipe = mediapipe_module()
    landmarker = create_landmarker(params, video=False, max_faces=TRAINING_MAX_FACES)
    images = [mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=mirrored_view(view) if flip else view)
              for view in views for flip in ((False, True) if params.mirror else (False,))]
    landmarker.detect(images[0])
    start = time.perf_counter()
    for image in images:
        landmarker.detect(image)
    seconds = time.perf_counter() - start
    landmarker.close()
    return seconds


def landmarker_floor(faces: list[Path], params: Params) -> dict[str, object]:
    """The FaceLandmarker calls of measuring ``faces`` alone, spread over ``compute.au_workers`` processes."""
    views = [padded_view(Image.open(face), params.au.pad, params.au.size) for face in faces]
    workers = params.compute.au_workers
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        seconds = max(pool.starmap(_landmarker_seconds, [(views[i::workers], params.au) for i in range(workers)]))
    return {"input": "FaceLandmarker alone on those faces' views (floor)", "images": len(faces),
            "seconds": round(seconds, 1), "images/s": round(len(faces) / seconds, 1), "face found": "-"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1000, help="FER2013 test faces (0: all)")
    parser.add_argument("--photos", type=int, default=100, help="larger photos")
    parser.add_argument("-S", "--set", dest="overrides", action="append", default=[], help="an override of conf/")
    args = parser.parse_args()
    params = parse_params(compose_conf(*args.overrides))
    faces = fer_faces(params, args.faces)
    rows = [measure("FER2013 48x48 test faces", faces, params)]
    if args.photos:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure("640x480 photos", photos(faces[: args.photos], Path(folder)), params))
    if isinstance(params.au, MediaPipeParams):
        rows.append(landmarker_floor(faces, params))
    note = (f"au={params.au}, {params.compute.au_workers} workers; start-up included.")
    name = "au_extraction" + "".join(f"_{o}" for o in args.overrides)
    print(record_benchmark(name, "python benchmarks/au_extraction.py " + shlex.join(sys.argv[1:]), rows, note))


if __name__ == "__main__":
    main()
