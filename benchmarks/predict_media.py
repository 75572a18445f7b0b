"""Benchmark: `face-emotion predict` on a video, a group photo and a folder of FER2013 test faces, with a model
folder the pipeline wrote (default: the AU model, with its own AU settings, mirror averaging included).

    python benchmarks/predict_media.py                         # after make run (or make quick)
    python benchmarks/predict_media.py --model models/cnn
    python benchmarks/predict_media.py --faces 0               # every FER2013 test face

Video: analysed frames/s with start-up excluded (start-up, loading the model and MediaPipe, is its own column) and
the share of frames with a face answered. Faces: images/s with start-up included. None of these faces wears a
mask, so 'marked masked' is the mask detector's false-alarm rate on them (with models/mask_detector beside the
model folder). Run it on an otherwise idle
machine; it prints one Markdown table and records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from au_extraction import fer_faces  # the same FER2013 test faces as that benchmark

from face_emotion.core.config import compose_conf, parse_params
from face_emotion.core.paths import load_paths
from face_emotion.predict import PredictOptions, load_predictor, predict_files
from face_emotion.reporting.results import record_benchmark

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "media"


def run(model: Path, name: str, files: list[Path], options: PredictOptions) -> dict[str, object]:
    """Load the predictor (timed apart), predict every file, count what was answered."""
    start = time.perf_counter()
    with load_predictor(model, options.max_faces) as predictor:
        loaded = time.perf_counter()
        table = predict_files(predictor, files, options)
    done = time.perf_counter()
    frames = table.dropna(subset=["frame"]).drop_duplicates(["path", "frame"])
    answered = table[table.emotion != ""]
    units = len(frames) if len(frames) else len(files)
    found = (answered.drop_duplicates(["path", "frame"]).shape[0] if len(frames) else answered.path.nunique()) / units
    return {"input": name, "frames or images": units, "faces answered": len(answered),
            "start-up s": round(loaded - start, 2), "seconds": round(done - loaded, 1),
            "per s (start-up excluded)": round(units / (done - loaded), 1),
            "per s (start-up included)": round(units / (done - start), 1), "face found": f"{found:.1%}",
            "marked masked": f"{answered.masked.mean():.1%}" if answered.masked.notna().all() else "-"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=load_paths().au_model, help="a model folder")
    parser.add_argument("--faces", type=int, default=1000, help="FER2013 test faces (0: all)")
    parser.add_argument("--frame-step", type=int, default=1)
    args = parser.parse_args()
    options = PredictOptions(frame_step=args.frame_step)
    video = MEDIA / "WolfgangLanger_Pexels.mp4"
    rows = [run(args.model, f"{video.name} (640x360)", [video], options),
            run(args.model, "multi_face.jpg (group photo, 5 faces)", [MEDIA / "multi_face.jpg"], options)]
    if args.faces >= 0:
        faces = fer_faces(parse_params(compose_conf()), args.faces)
        rows.append(run(args.model, "FER2013 48x48 test faces", faces, options))
    name = f"predict_media_{args.model.name}"
    note = f"{args.model}, frame step {args.frame_step}, {options.max_faces} faces at most per image or frame."
    print(record_benchmark(name, "python benchmarks/predict_media.py " + shlex.join(sys.argv[1:]), rows, note))


if __name__ == "__main__":
    main()
