"""Stage entry points run as DVC runs them (python -m stages.<name> in a copy of the project), without DVC."""

import dataclasses
import json

import pandas as pd

from face_emotion.au.extract import extract
from face_emotion.core.paths import load_paths
from face_emotion.data.manifest import build_manifest
from face_emotion.data.masking import write_masked_copies
from face_emotion.evaluation.comparison import au_survival
from tests.helpers import add_bad_files, build_face_folder, copy_project, default_params, run


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
