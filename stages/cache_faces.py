"""Stage cache_faces: every usable image decoded once into features/faces.npz (48x48 uint8), for the CNN."""

from face_emotion import dataset
from face_emotion.config import Params
from face_emotion.faces import write_face_cache
from face_emotion.stage import run_stage

MANIFEST = "features/manifest.csv"
FACE_CACHE = "features/faces.npz"


def main(params: Params) -> None:
    manifest = dataset.read_manifest(MANIFEST)
    if params.data.kind != "images":
        manifest = manifest.iloc[0:0]  # an AU table has no faces to cache: empty arrays
    counts = write_face_cache(manifest, FACE_CACHE)
    print(f"cache_faces: {counts} faces in {FACE_CACHE}")


if __name__ == "__main__":
    run_stage(main)
