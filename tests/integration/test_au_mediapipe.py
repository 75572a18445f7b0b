"""The MediaPipe backend on real faces: AU intensities in range, blendshapes kept, failures with reasons."""

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps

from face_emotion.au import extract
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.core.errors import UserError
from face_emotion.core.facs import ACTION_UNITS
from face_emotion.core.tables import AU_COLUMNS, GEOMETRY_COLUMNS, UNMEASURED_SEPARATOR
from face_emotion.data.masking import apply_mask, draw_look
from face_emotion.faces import found, landmarker
from face_emotion.faces.landmarker import verified_model_path
from tests.helpers import CLASSES, SHARED_FIXTURES, default_params, real_faces

SETTINGS = default_params("au.mirror=false", "compute.au_workers=1")
PARAMS, ONE_WORKER = SETTINGS.au, SETTINGS.compute
TWO_WORKERS = dataclasses.replace(ONE_WORKER, au_workers=2)


@pytest.fixture(scope="module")
def backend():
    with MediaPipeBackend(PARAMS) as opened:
        yield opened


def test_au_columns_follow_openface():
    """The 17 intensities, in OpenFace's own column order (read from a real OpenFace output file)."""
    header = (SHARED_FIXTURES / "openface" / "FaceLandmarkImg" / "face.csv").read_text().splitlines()[0]
    openface = [c.strip() for c in header.split(",") if c.strip().endswith("_r")]
    assert list(AU_COLUMNS) == openface
    assert len({au.name for au in ACTION_UNITS}) == 17


def test_real_happy_faces_smile(backend):
    rows = [backend.measure(str(p)) for p in real_faces("test", "happy", 12)]
    measured = [r for r in rows if r["success"]]
    assert len(measured) >= 10
    for row in measured:
        empty = row["unmeasured"].split(UNMEASURED_SEPARATOR)[0].split()  # read from a region outside the crop
        assert all(0.0 <= row[c] <= 5.0 and row[c] == round(row[c], 2) for c in AU_COLUMNS if c not in empty)
        assert all(np.isnan(row[c]) for c in empty) and set(empty) <= {"AU17_r", "lm_chin_raise"}
        assert row["bs_cheekSquintLeft"] < 0.01  # only ~1e-5 on 48x48 faces: AU06 is read from the landmarks
        assert sum(k.startswith("bs_") for k in row) == 52
        assert sum(k.startswith("lm_") for k in row) == len(GEOMETRY_COLUMNS) == 17
    neutral = [backend.measure(str(p)) for p in real_faces("test", "neutral", 12)]
    for au in ("AU12_r", "AU06_r"):  # lip corners pulled up, cheeks raised
        assert np.nanmean([r[au] for r in measured]) > np.nanmean([r[au] for r in neutral if r["success"]]) + 0.5, au


def test_no_face_and_unreadable_give_reasons(backend, tmp_path):
    Image.new("L", (48, 48), 128).save(tmp_path / "blank.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    assert backend.measure(str(tmp_path / "blank.png")) == {"success": False, "failure_reason": "no face found"}
    broken = backend.measure(str(tmp_path / "broken.jpg"))
    assert not broken["success"] and "image" in broken["failure_reason"]


def test_large_photo_is_measured(backend, tmp_path):
    """A face in a larger colour photo (a FER2013 face placed on a 640x480 background)."""
    face = Image.open(real_faces("test", "surprise", 1)[0]).convert("RGB").resize((200, 200), Image.Resampling.BICUBIC)
    photo = Image.new("RGB", (640, 480), (90, 120, 160))
    photo.paste(face, (300, 120))
    photo.save(tmp_path / "photo.jpg")
    assert backend.measure(str(tmp_path / "photo.jpg"))["success"]


def test_altered_or_missing_model_file_is_refused(tmp_path, monkeypatch):
    assert verified_model_path().is_file()
    fake = tmp_path / "face_landmarker.task"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(landmarker, "packaged_model_path", lambda: fake)
    with pytest.raises(UserError, match="sha256"):
        verified_model_path()
    monkeypatch.setattr(landmarker, "packaged_model_path", lambda: tmp_path / "absent.task")
    with pytest.raises(UserError, match="not found"):
        verified_model_path()


def manifest_of(paths: list[str], label: str = "happy") -> pd.DataFrame:
    md5 = [hashlib.md5(Path(p).read_bytes()).hexdigest() for p in paths]
    return pd.DataFrame({"path": paths, "label": label, "split": "test", "status": "ok", "md5": md5})


def test_two_workers_give_the_same_table_as_one(tmp_path):
    paths = [str(p) for label in ("happy", "sad") for p in real_faces("test", label, 6)]
    manifest = manifest_of(paths)
    one = extract.extract(manifest, PARAMS, ONE_WORKER)
    two = extract.extract(manifest, PARAMS, TWO_WORKERS)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns[:9]) == ["path", "label", "split", "success", "confidence", "failure_reason", "unmeasured",
                                     "backend", "backend_version"]
    summary = extract.summary(one)
    assert summary["images"] == 12 and summary["per_split"]["test"]["detected"] == summary["detected"]


def chunks(folder):
    (settings,) = folder.iterdir()  # one folder per backend and settings key
    return sorted(settings.iterdir(), key=lambda chunk: chunk.stat().st_mtime_ns)


def test_cache_measures_only_new_images(tmp_path):
    """A second run measures only the faces the cache lacks (one new chunk of two rows), with the same table."""
    faces = [str(p) for p in real_faces("test", "surprise", 6)]
    first = extract.extract(manifest_of(faces[:4]), PARAMS, ONE_WORKER, tmp_path / "cache")
    second = extract.extract(manifest_of(faces), PARAMS, ONE_WORKER, tmp_path / "cache")
    assert [len(pd.read_csv(chunk)) for chunk in chunks(tmp_path / "cache")] == [4, 2]
    pd.testing.assert_frame_equal(second.head(4), first, check_dtype=False)
    other = extract.extract(manifest_of(faces[:1]), dataclasses.replace(PARAMS, pad=24), ONE_WORKER, tmp_path / "cache")
    assert len(list((tmp_path / "cache").iterdir())) == 2 and other.success.all()  # other settings, other folder


def test_a_damaged_cache_file_is_measured_again_never_reused(tmp_path, capsys):
    faces = [str(p) for p in real_faces("test", "happy", 3)]
    first = extract.extract(manifest_of(faces), PARAMS, ONE_WORKER, tmp_path / "cache")
    (chunk,) = chunks(tmp_path / "cache")
    chunk.write_text(chunk.read_text().replace(",True,", ",False,", 1))  # an edit: the content no longer fits its name
    again = extract.extract(manifest_of(faces), PARAMS, ONE_WORKER, tmp_path / "cache")
    assert "1 damaged cache file(s)" in capsys.readouterr().out
    pd.testing.assert_frame_equal(again, first, check_dtype=False)
    (chunk,) = chunks(tmp_path / "cache")
    chunk.write_bytes(chunk.read_bytes()[:100])  # truncated
    again = extract.extract(manifest_of(faces), PARAMS, ONE_WORKER, tmp_path / "cache")
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


def test_dask_local_cluster_gives_the_same_table_as_the_process_pool():
    """A real dask.distributed LocalCluster of two worker processes on loopback."""
    paths = [str(p) for label in ("angry", "happy") for p in real_faces("test", label, 5)]
    manifest = manifest_of(paths)
    pool = extract.extract(manifest, PARAMS, TWO_WORKERS)
    dask = extract.extract(manifest, PARAMS, dataclasses.replace(TWO_WORKERS, dask_scheduler="local"))
    pd.testing.assert_frame_equal(pool, dask)


def test_predict_measures_a_face_crop_as_the_pipeline_does():
    """measure_faces (face-emotion predict) and measure_image (the pipeline) give the same row for a FER2013 face,
    mirror averaging on, so a model meets the measurements it was trained on; a crop with no face gives no row."""
    with MediaPipeBackend(dataclasses.replace(PARAMS, mirror=True)) as mirroring:
        for path in [*real_faces("test", "sad", 4), *real_faces("test", "surprise", 4)]:
            image = Image.open(path)
            (face, row), = mirroring.measure_faces(image)
            assert row == mirroring.measure_image(image) and row["success"]
            assert face.box()[2] > face.box()[0]
        assert mirroring.measure_faces(Image.fromarray(np.tile(np.arange(48, dtype=np.uint8) * 5, (48, 1)))) == []


def test_masked_faces_no_view_finds_are_found_by_the_rescue_pass():
    """120 real test faces in the test mask: the rescue pass (au.rescue_confidence) finds faces the usual views miss,
    and every face those views find is measured exactly as without it."""
    mask = default_params().mask
    faces = []
    for label in CLASSES:
        for i, path in enumerate(real_faces("test", label, 20)):
            rng = np.random.default_rng(i)
            look = draw_look(rng, [mask.test_style], (mask.test_height, mask.test_height))
            faces.append(Image.fromarray(apply_mask(np.asarray(Image.open(path)), look, rng)))
    with MediaPipeBackend(dataclasses.replace(PARAMS, rescue_confidence=None)) as plain, MediaPipeBackend(PARAMS) as rescuing:
        without, with_rescue = [plain.measure_image(f) for f in faces], [rescuing.measure_image(f) for f in faces]
    found_without, found_with = sum(r["success"] for r in without), sum(r["success"] for r in with_rescue)
    assert found_without < found_with and len(faces) - found_with <= (len(faces) - found_without) / 2
    assert all(a == b for a, b in zip(without, with_rescue, strict=True) if a["success"])


def test_the_mirror_view_is_the_view_of_the_mirrored_crop():
    """Measuring a crop's mirror image flips the upscaled view instead of upscaling again: byte for byte the same."""
    for path in real_faces("test", "surprise", 6):
        crop = Image.open(path)
        view = found.padded_view(crop, PARAMS.pad, PARAMS.size)
        assert np.array_equal(found.mirrored_view(view), found.padded_view(ImageOps.mirror(crop), PARAMS.pad, PARAMS.size))


def test_mediapipe_is_imported_without_tensorflow_which_still_imports_after():
    """An AU worker does not load TensorFlow with MediaPipe; a process that needs TensorFlow later still gets it whole."""
    script = ("import sys; from face_emotion.faces.landmarker import mediapipe_module; mp = mediapipe_module(); "
              "assert mp.tasks.vision.FaceLandmarker and 'tensorflow' not in sys.modules, 'TensorFlow loaded'; "
              "from tensorflow.tools.docs import doc_controls; import tensorflow as tf; "
              "assert hasattr(doc_controls, 'do_not_doc_inheritable') and int(tf.constant(2) + 1) == 3")
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
