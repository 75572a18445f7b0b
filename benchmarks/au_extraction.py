"""Benchmark: AU extraction speed (images/s) and face-found rate of the configured backend.

    python benchmarks/au_extraction.py                        # 1,000 FER2013 test faces and 100 larger photos
    python benchmarks/au_extraction.py --faces 0              # every FER2013 test face (the detection-rate target)
    python benchmarks/au_extraction.py -S au.mirror=false     # each face measured once
    python benchmarks/au_extraction.py -S compute.au_workers=1
    python benchmarks/au_extraction.py --faces 0 --photos 0 --against 2c52c35 --rounds 2   # against another commit

Larger photos are made from FER2013 test faces: the face upscaled to 256 px and placed on a 640x480 background.
Start-up (opening MediaPipe in each worker) is included. The last row is the floor under the first: MediaPipe's
FaceLandmarker alone on the same faces' detection views (and their mirror images with au.mirror), in as many
processes, start-up and everything else excluded. The two rows above it say where the time between goes: the same
faces measured in a plain loop in each process (no start-up, no pool), and the part of that loop spent inside
FaceLandmarker calls (retried views included). Run it on an otherwise idle machine; it prints one Markdown
table and records it for docs/results.md.

``--against COMMIT`` times the FER2013 faces with this checkout's code and with COMMIT's (a temporary git worktree),
each in a fresh process, in turns for ``--rounds`` rounds: the machine's speed drifts by 10 % within an hour here,
so only runs side by side compare two versions.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shlex
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from face_emotion.au import extract
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.core.config import MediaPipeParams, Params, compose_conf, parse_params
from face_emotion.core.tables import USED
from face_emotion.faces.finder import TRAINING_MAX_FACES
from face_emotion.faces.found import mirrored_view, padded_view
from face_emotion.faces.landmarker import create_landmarker, mediapipe_module
from face_emotion.reporting.results import record_benchmark


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
    """The FaceLandmarker calls of measuring ``faces`` alone, spread over ``compute.au_workers`` processes (fewer for
    fewer faces)."""
    views = [padded_view(Image.open(face), params.au.pad, params.au.size) for face in faces]
    workers = min(params.compute.au_workers, len(faces))
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        seconds = max(pool.starmap(_landmarker_seconds, [(views[i::workers], params.au) for i in range(workers)]))
    return {"input": "FaceLandmarker alone on those faces' views (floor)", "images": len(faces),
            "seconds": round(seconds, 1), "images/s": round(len(faces) / seconds, 1), "face found": "-"}


def _loop_seconds(faces: list[Path], params: MediaPipeParams) -> tuple[float, float]:
    """Seconds one open MediaPipe backend takes to measure ``faces`` in a plain loop, and the part of them spent inside
    FaceLandmarker calls."""
    landmarker_class = mediapipe_module().tasks.vision.FaceLandmarker
    detect, inside = landmarker_class.detect, [0.0]

    def timed_detect(self: object, image: object, *args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return detect(self, image, *args, **kwargs)
        finally:
            inside[0] += time.perf_counter() - start

    with MediaPipeBackend(params) as backend:
        backend.measure(str(faces[0]))
        landmarker_class.detect = timed_detect
        start = time.perf_counter()
        for face in faces:
            backend.measure(str(face))
        return time.perf_counter() - start, inside[0]


def where_time_goes(faces: list[Path], params: Params) -> list[dict[str, object]]:
    """The faces measured in a plain loop in each of ``compute.au_workers`` processes (fewer for fewer faces; start-up
    and the pool excluded), and the FaceLandmarker calls of that loop alone: the slowest process's seconds of each."""
    workers = min(params.compute.au_workers, len(faces))
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        loops = pool.starmap(_loop_seconds, [(faces[i::workers], params.au) for i in range(workers)])
    loop, inside = max(total for total, _ in loops), max(calls for _, calls in loops)
    return [{"input": "FER2013 test faces again, a plain loop in each process (no start-up, no pool)", "images": len(faces),
             "seconds": round(loop, 1), "images/s": round(len(faces) / loop, 1), "face found": "-"},
            {"input": "that loop's FaceLandmarker calls alone (retried views included)", "images": len(faces),
             "seconds": round(inside, 1), "images/s": round(len(faces) / inside, 1), "face found": "-"}]


REPOSITORY = Path(__file__).resolve().parents[1]
TIMED_RUN = """
import json, sys, time
sys.path[:0] = json.loads(sys.argv[2])  # run with -S: no editable-install hook, the workers (spawned with -S) alike
import pandas as pd
from face_emotion.au import extract
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.core.config import compose_conf, parse_params
paths, overrides = json.loads(sys.stdin.read()), json.loads(sys.argv[1])
params = parse_params(compose_conf(*overrides))
manifest = pd.DataFrame({"path": paths, "label": "any", "split": "test", "status": "ok",
                         "md5": [str(i) for i in range(len(paths))]})
start = time.perf_counter()
table = extract.extract(manifest, params.au, params.compute)
print(json.dumps({"seconds": time.perf_counter() - start, "found": float(table.success.mean()), "code": extract.__file__}))
"""
"""Times extract.extract on the given faces with whichever face_emotion package the process imports."""


def timed_run(faces: list[Path], overrides: list[str], code: Path) -> dict[str, float]:
    """Seconds and face-found share of one fresh process measuring ``faces`` with the package in the folder
    ``code``. Python starts without its site hooks (-S), so that this checkout's editable install cannot take the
    import over, and is given the installed packages' folders by hand."""
    search_path = [str(code), *site.getsitepackages()]
    out = subprocess.run([sys.executable, "-S", "-c", TIMED_RUN, json.dumps(overrides), json.dumps(search_path)],
                         input=json.dumps([str(f.resolve()) for f in faces]), check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(result["code"]).is_relative_to(code):
        raise RuntimeError(f"the run meant for {code} imported {result['code']}")
    return result


def against(commit: str, faces: list[Path], overrides: list[str], rounds: int) -> list[dict[str, object]]:
    """This checkout and ``commit`` measuring ``faces`` in turns, ``rounds`` times each: one row per version (median
    images/s) and their ratio."""
    seconds: dict[str, list[float]] = {"this checkout": [], commit: []}
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        worktree = Path(folder) / "code"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), commit], check=True)
        try:
            for _ in range(rounds):
                for version, code in (("this checkout", REPOSITORY), (commit, worktree)):
                    result = timed_run(faces, overrides, code)
                    seconds[version].append(result["seconds"])
                    found[version] = result["found"]
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], check=True)
    speed = {version: len(faces) / float(np.median(times)) for version, times in seconds.items()}
    rows: list[dict[str, object]] = [
        {"input": f"FER2013 48x48 test faces, {version}", "images": len(faces),
         "seconds": round(float(np.median(seconds[version])), 1), "images/s": round(speed[version], 1),
         "face found": f"{found[version]:.1%}"} for version in seconds]
    rows.append({"input": f"this checkout / {commit} (median of {rounds} rounds, in turns)", "images": len(faces),
                 "seconds": "-", "images/s": round(speed["this checkout"] / speed[commit], 3), "face found": "-"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1000, help="FER2013 test faces (0: all)")
    parser.add_argument("--photos", type=int, default=100, help="larger photos")
    parser.add_argument("-S", "--set", dest="overrides", action="append", default=[], help="an override of conf/")
    parser.add_argument("--against", metavar="COMMIT", help="also time COMMIT's code on the FER2013 faces, in turns")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of --against")
    args = parser.parse_args()
    for option, value, least in (("--faces", args.faces, 0), ("--photos", args.photos, 0), ("--rounds", args.rounds, 1)):
        if value < least:
            parser.error(f"{option} must be at least {least}, got {value}")
    params = parse_params(compose_conf(*args.overrides))
    faces = fer_faces(params, args.faces)
    if args.against:
        rows = against(args.against, faces, args.overrides, args.rounds)
    else:
        rows = [measure("FER2013 48x48 test faces", faces, params)]
    if args.photos:
        with tempfile.TemporaryDirectory() as folder:
            rows.append(measure("640x480 photos", photos(faces[: args.photos], Path(folder)), params))
    if isinstance(params.au, MediaPipeParams):
        rows += [*where_time_goes(faces, params), landmarker_floor(faces, params)]
    note = (f"au={params.au}, {params.compute.au_workers} workers; start-up included.")
    name = "au_extraction" + "".join(f"_{o}" for o in args.overrides) + ("_against" if args.against else "")
    print(record_benchmark(name, "python benchmarks/au_extraction.py " + shlex.join(sys.argv[1:]), rows, note))


if __name__ == "__main__":
    main()
