"""Stage prepare: a manifest of every input file, a seeded validation split, every usable face decoded once, and a
data-quality report."""

from face_emotion.core.config import FaceImageData, Params
from face_emotion.core.io import write_csv, write_json, write_text
from face_emotion.core.paths import Paths
from face_emotion.core.stage import run_stage
from face_emotion.data.faces import write_face_cache
from face_emotion.data.manifest import build_manifest, quality_markdown, quality_report


def main(params: Params, paths: Paths) -> None:
    manifest = build_manifest(params.data, params.seed, paths.video_faces)
    report = quality_report(manifest)
    write_csv(manifest, paths.manifest)
    faces = write_face_cache(manifest if isinstance(params.data, FaceImageData) else manifest.iloc[0:0], paths.faces)
    write_json(report, paths.data_quality)
    write_text(quality_markdown(report, manifest), paths.data_quality_page)
    print(f"prepare: {report['used']} faces used, {report['rejected']} rejected, {report['excluded']} excluded "
          f"(see {paths.data_quality_page}); decoded per split: {faces}")


if __name__ == "__main__":
    run_stage(main)
