"""Stage entry points run as DVC runs them (python -m stages.<name> in a copy of the project), without DVC."""

import dataclasses
import json
import tempfile
from pathlib import Path

import pandas as pd

from face_emotion.au.extract import extract
from face_emotion.au.masked import mask_and_measure, masked_copy_id
from face_emotion.core.paths import load_paths
from face_emotion.data.manifest import build_manifest
from face_emotion.data.masking import write_masked_copies
from face_emotion.evaluation.comparison import au_survival
from tests.helpers import CLASSES, add_bad_files, build_face_folder, copy_project, default_params, run


def test_stage_reports_bad_config_in_one_line(tmp_path):
    """An unknown class and a missing folder end the real stage with one line and exit code 2."""
    project = copy_project(tmp_path / "project")
    params = (project / "params.yaml").read_text()
    (project / "params.yaml").write_text(params.replace("- surprise", "- contempt"))
    result = run(["python", "-m", "stages.prepare"], cwd=project, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: params: data.classes[5]: input should be 'angry', 'disgust', 'happy', " \
        "'neutral', 'sad' or 'surprise', got 'contempt'"
    (project / "params.yaml").write_text(params.replace("root: data/fer2013", "root: missing/fer2013"))
    result = run(["python", "-m", "stages.prepare"], cwd=project, check=False)
    assert result.returncode == 2
    expected = "error: data folder 'missing/fer2013' not found: run 'dvc pull' or set data.root"
    assert result.stderr.strip().splitlines() == [expected]


def test_prepare_writes_manifest_faces_and_report(tmp_path):
    root = build_face_folder(tmp_path / "faces", per_class=8)
    build_face_folder(root, per_class=3, labels=["fear"])
    add_bad_files(root)
    project = copy_project(tmp_path / "project")
    params = (project / "params.yaml").read_text().replace("root: data/fer2013", f"root: {root}")
    (project / "params.yaml").write_text(params)
    result = run(["python", "-m", "stages.prepare"], cwd=project)
    assert "5 rejected, 7 excluded" in result.stdout
    paths = load_paths(project)
    report = json.loads(paths.data_quality.read_text())
    assert report["rejected"] == 5 and report["used"] == 96
    markdown = paths.data_quality_page.read_text()
    assert "truncated.jpg" in markdown and "empty.jpg" in markdown
    assert paths.faces.is_file() and len(pd.read_csv(paths.manifest)) == 96 + 5 + 7


def test_real_mediapipe_keeps_the_eyes_and_loses_the_mouth_under_a_mask(tmp_path):
    """Real MediaPipe on 24 real test faces, unmasked and masked: blinks and brows survive, the smile does not."""
    params = default_params("au.mirror=false", "compute.au_workers=1")
    faces = build_face_folder(tmp_path / "faces", per_class=4)
    manifest = build_manifest(dataclasses.replace(params.data, root=str(faces), val_fraction=0.0), seed=0)
    test = manifest[manifest.split == "test"]
    masked = write_masked_copies(manifest, ("test",), [params.mask.test_style], (params.mask.test_height,) * 2, 42,
                             tmp_path / "masked")
    unmasked_table, masked_table = extract(test, params.au, params.compute), extract(masked, params.au, params.compute)
    masked_table["source_path"] = masked.source_path.to_numpy()
    assert masked_table.success.sum() >= len(masked) // 2
    survival = au_survival(unmasked_table, masked_table, ["AU01_r", "AU45_r", "AU12_r", "AU25_r"]).set_index("au").r
    assert min(survival["AU01_r"], survival["AU45_r"]) > max(survival["AU12_r"], survival["AU25_r"])


def test_masked_copies_not_kept_measure_as_kept_ones_and_name_their_original(tmp_path):
    """mask_train_faces measures its copies from a scratch folder it removes: the same rows (real MediaPipe) as copies
    kept in a folder, each path naming its original and copy number, and nothing left behind."""
    params = default_params("au.mirror=false", "compute.au_workers=1")
    faces = build_face_folder(tmp_path / "faces", per_class=2)
    manifest = build_manifest(dataclasses.replace(params.data, root=str(faces), val_fraction=0.0), seed=0)
    styles, heights = params.mask.styles, params.mask.height_range()
    kept_manifest, kept = mask_and_measure(manifest, ("train",), styles, heights, params, tmp_path / "cache", 2,
                                           images=tmp_path / "kept")
    scratch = set(Path(tempfile.gettempdir()).glob("masked-copies.*"))
    copies_manifest, copies = mask_and_measure(manifest, ("train",), styles, heights, params, tmp_path / "cache2", 2)
    assert set(Path(tempfile.gettempdir()).glob("masked-copies.*")) == scratch  # the scratch folder is gone
    assert len(list((tmp_path / "kept").rglob("*.png"))) == len(kept) == len(copies) == 2 * 2 * len(CLASSES)
    assert list(copies.path) == list(copies_manifest.path) == [
        masked_copy_id(source, copy) for copy in (0, 1) for source in kept_manifest.source_path[: len(kept) // 2]]
    assert list(copies.source_path) == list(kept.source_path) and list(copies_manifest.md5) == list(kept_manifest.md5)
    assert copies.drop(columns="path").equals(kept.drop(columns="path")) and copies.success.sum() > 0
