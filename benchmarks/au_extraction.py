"""Benchmark: AU extraction speed (images/s) and face-found rate of the configured backend.

    python benchmarks/au_extraction.py                 # 1,000 FER2013 test faces and 100 larger photos
    python benchmarks/au_extraction.py --faces 0       # every FER2013 test face (the detection-rate target)
    python benchmarks/au_extraction.py --no-mirror     # each face measured once (au.mirror=false)

Larger photos are made from FER2013 test faces: the face upscaled to 256 px and placed on a 640x480 background.
Run it on an otherwise idle machine; it prints one Markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import pandas as pd
from PIL import Image

from face_emotion.au import extract
from face_emotion.config import load_params

FER_TEST = Path("data/fer2013/test")


def fer_faces(count: int, classes: list[str]) -> list[Path]:
    """``count`` test faces spread over the classes (0: all of them), in a fixed order."""
    faces = sorted(p for c in classes for p in (FER_TEST / c).glob("*.jpg"))
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


def measure(paths: list[Path], label: str, params) -> dict[str, object]:
    manifest = pd.DataFrame({"path": [str(p) for p in paths], "label": label, "split": "test", "status": "ok",
                             "md5": [str(i) for i in range(len(paths))]})
    start = time.perf_counter()
    table = extract.extract(manifest, params)
    seconds = time.perf_counter() - start
    return {"images": len(paths), "seconds": round(seconds, 1), "images_per_s": round(len(paths) / seconds, 1),
            "face_found": round(float(table.success.mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1000, help="FER2013 test faces (0: all)")
    parser.add_argument("--photos", type=int, default=100, help="larger photos")
    parser.add_argument("--workers", type=int, default=None, help="override au.workers")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction, default=None, help="override au.mirror")
    args = parser.parse_args()
    params = load_params()
    au = dataclasses.replace(params.au, workers=args.workers or params.au.workers,
                             mirror=params.au.mirror if args.mirror is None else args.mirror)
    faces = fer_faces(args.faces, params.data.classes)
    results = {"FER2013 48x48 test faces": measure(faces, "fer", au)}
    if args.photos:
        with tempfile.TemporaryDirectory() as folder:
            results["640x480 photos"] = measure(photos(faces[: args.photos], Path(folder)), "photo", au)
    print(f"\nbackend {au.backend}, {au.workers} workers, mirror {au.mirror} (start-up included)\n")
    print("| input | images | seconds | images/s | face found |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['images']} | {r['seconds']} | {r['images_per_s']} | {r['face_found']:.1%} |")


if __name__ == "__main__":
    main()
