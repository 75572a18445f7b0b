"""`face-emotion predict` on real faces, larger photos and bad files, with an AU model and a CNN built here."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from face_emotion import au_models
from face_emotion import predict as predict_module
from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.cli import main
from face_emotion.cnn import mask_detector
from face_emotion.cnn import model as cnn
from face_emotion.core.companions import MASK_DETECTOR, MASKED_FACES_MODEL, write_companions
from face_emotion.core.tables import AU_COLUMNS, AU_PRESENCE_COLUMNS, AU_PRESENT_FROM, UNMEASURED_SEPARATOR
from face_emotion.data.faces import decode_faces
from face_emotion.data.images import read_image
from face_emotion.data.masking import apply_mask, draw_look
from face_emotion.explain.reasons import MOUTH_HIDDEN
from face_emotion.faces.finder import FaceFinder, finding_settings
from face_emotion.predict import load_predictor, predict_files
from tests.helpers import CLASSES, SHARED_FIXTURES, default_params, real_faces, write_clip

AU = default_params("au.mirror=false").au
LINEAR = default_params("au_model=linear").au_model
MASK = default_params().mask


@pytest.fixture(scope="module")
def measured_faces() -> pd.DataFrame:
    """Real MediaPipe measurements of 8 real faces per class."""
    with MediaPipeBackend(AU) as backend:
        return pd.DataFrame([{**backend.measure(str(face)), "label": label, "path": str(face)}
                             for label in CLASSES for face in real_faces("train", label, 8)])


def save_au_model(params, measured_faces: pd.DataFrame, folder: Path) -> Path:
    """The model folder train_au_model writes, for faces measured as AU measures them."""
    au_models.save(au_models.fit_table(measured_faces, params, CLASSES, seed=0), folder, dataclasses.asdict(AU))
    return folder


@pytest.fixture(scope="module")
def au_model_dir(measured_faces, tmp_path_factory):
    return save_au_model(LINEAR, measured_faces, tmp_path_factory.mktemp("models") / "au_model")


@pytest.fixture(scope="module")
def cnn_model_dir(tmp_path_factory):
    """A CNN of the pipeline's architecture, saved the way train_cnn saves it (weights untrained)."""
    params = default_params("cnn=vgg", "cnn.filters=[8]", "cnn.dense_units=8").cnn
    folder = tmp_path_factory.mktemp("models") / "cnn"
    folder.mkdir()
    cnn.build_model(params, len(CLASSES)).save(folder / cnn.MODEL_FILE)
    (folder / cnn.INFO_FILE).write_text(json.dumps({"role": cnn.EMOTION_ROLE, "classes": CLASSES}))
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Real FER2013 faces in a nested folder, a larger photo, and every kind of bad file."""
    root = tmp_path_factory.mktemp("inputs")
    (root / "faces" / "nested").mkdir(parents=True)
    for face in real_faces("test", "happy", 3):
        (root / "faces" / "nested" / face.name).write_bytes(face.read_bytes())
    face = Image.open(real_faces("test", "surprise", 1)[0])
    photo = Image.new("RGB", (800, 600), (120, 140, 160))
    photo.paste(face.convert("RGB").resize((240, 240), Image.Resampling.BICUBIC), (420, 150))
    photo.save(root / "photo.jpg")
    Image.fromarray(np.asarray(face, dtype=np.uint16) * 257).save(root / "deep.png")
    face.convert("CMYK").resize((192, 192)).save(root / "print.jpg")
    Image.fromarray(np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))).save(root / "no_face.png")
    (root / "empty.jpg").write_bytes(b"")
    (root / "text.jpg").write_text("not an image\n")
    good = real_faces("test", "sad", 1)[0].read_bytes()
    (root / "corrupt.jpg").write_bytes(good[: len(good) // 3])
    (root / "faces" / "notes.txt").write_text("ignored inside folders\n")
    return root


def predict(model_dir, inputs, tmp_path, *names):
    out = tmp_path / "predictions.csv"
    paths = [str(inputs / n) for n in names] or [str(inputs)]
    code = main(["predict", "--model", str(model_dir), "--output", str(out), *paths])
    text = {"emotion": "string", "reason": "string", "au_reasons": "string"}
    return code, pd.read_csv(out, dtype=text).fillna(dict.fromkeys(text, "")).set_index("path")


def test_au_model_predicts_with_reasons_and_reports_bad_files(au_model_dir, inputs, tmp_path):
    code, table = predict(au_model_dir, inputs, tmp_path)
    assert code == 0
    assert len(table) == 10  # 3 faces, photo, deep, print, no_face, empty, text, corrupt; not notes.txt
    rows = {p.split("/")[-1]: r for p, r in table.iterrows()}
    for name in ("photo.jpg", "deep.png", "print.jpg", *[f for f in rows if f.startswith("PublicTest")]):
        assert rows[name].emotion in CLASSES and rows[name].reason == ""
        assert rows[name].au_reasons.startswith(f"{rows[name].emotion} (")
        assert abs(sum(rows[name][f"p_{c}"] for c in CLASSES) - 1) < 1e-3
    assert rows["no_face.png"].reason == "no face found" and rows["no_face.png"].emotion == ""
    assert rows["empty.jpg"].reason.startswith("empty file")
    assert rows["text.jpg"].reason.startswith("not an image")
    assert rows["corrupt.jpg"].reason.startswith("unreadable image")


def test_cnn_predicts_on_faces_and_photos(cnn_model_dir, inputs, tmp_path):
    code, table = predict(cnn_model_dir, inputs, tmp_path, "photo.jpg", "faces", "no_face.png", "missing.jpg")
    assert code == 0 and len(table) == 6
    assert (table.emotion != "").sum() == 4 and "au_reasons" not in table
    assert table.loc[str(inputs / "missing.jpg"), "reason"] == "file not found"


def test_the_cnn_answers_each_face_averaged_with_its_mirror_image(cnn_model_dir, inputs, tmp_path):
    """predict's CNN is evaluate's cnn_tta: each face's probabilities averaged with its mirror image's."""
    code, table = predict(cnn_model_dir, inputs, tmp_path, "faces")
    faces = decode_faces(pd.DataFrame({"path": table.index}))
    expected = cnn.predict_proba(cnn.load(cnn_model_dir), faces, tta=True)
    assert code == 0 and np.allclose(table[[f"p_{c}" for c in CLASSES]].to_numpy(), expected, atol=1e-4)


def test_the_cnn_answers_a_face_crop_mediapipe_misses_with_a_note(cnn_model_dir, au_model_dir, tmp_path):
    """A 48x48 crop is the CNN's own input: answered even when MediaPipe finds no face in it, the row says so; the
    AU model, which needs MediaPipe's measurement, has no answer for it."""
    Image.fromarray(np.tile(np.linspace(0, 255, 48, dtype=np.uint8), (48, 1))).save(tmp_path / "crop.png")
    code, table = predict_media(cnn_model_dir, tmp_path, str(tmp_path / "crop.png"))
    assert code == 0 and table.emotion[0] in CLASSES
    assert table.reason[0] == "no face found by MediaPipe: classified as a face crop"
    code, table = predict_media(au_model_dir, tmp_path, str(tmp_path / "crop.png"))
    assert code == 1 and table.reason[0] == "no face found"


def test_nothing_processed_exits_non_zero(au_model_dir, inputs, tmp_path):
    code, table = predict(au_model_dir, inputs, tmp_path, "empty.jpg", "no_face.png")
    assert code == 1 and (table.emotion == "").all()


def test_not_a_model_directory_is_one_line(inputs, tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path), "--output", str(tmp_path / "o.csv"), str(inputs / "faces")]) == 2
    assert "holds no model.json" in capsys.readouterr().err


def test_folder_without_images_is_one_line(au_model_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["predict", "--model", str(au_model_dir), "--output", str(tmp_path / "o.csv"), str(tmp_path / "empty")]) == 2
    assert capsys.readouterr().err.startswith("error: no image or video files in")


def test_installed_command_with_a_pairwise_model_exits_cleanly(measured_faces, inputs, tmp_path):
    """`face-emotion predict` as a user runs it: the pairwise model's reasons, and no MediaPipe traceback at exit."""
    params = default_params("au_model=pairwise", "au_model.features=au17_geometry", "au_model.rounds=10").au_model
    model_dir = save_au_model(params, measured_faces, tmp_path / "pairwise")
    out = tmp_path / "predictions.csv"
    command = Path(sys.executable).parent / "face-emotion"
    result = subprocess.run([str(command), "predict", "--model", str(model_dir), "--output", str(out),
                             str(inputs / "faces")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    table = pd.read_csv(out)
    assert len(table) == 3 and table.au_reasons.str.match(r"^\w+ \(0\.\d\d\): ").all()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("faces/nested/{first}", "must be a .csv file"),
        ("photo.jpg", "must be a .csv file"),
        ("faces.csv/", "is a folder"),
        ("no/such/folder/out.csv", "does not exist"),
        ("/proc/out.csv", "cannot be written"),
        ("listed.csv", "is one of the inputs"),
    ],
)
def test_a_bad_output_is_refused_before_any_prediction_and_nothing_is_touched(au_model_dir, inputs, tmp_path, capsys,
                                                                              output, message):
    """predict never overwrites a user's file: not an input photo, not an image, not a folder, not an input CSV."""
    first = sorted((inputs / "faces" / "nested").iterdir())[0]
    (tmp_path / "faces.csv").mkdir()
    (tmp_path / "listed.csv").write_text("a user's table\n")
    target = output.format(first=first.name)
    target = str(inputs / target) if target.startswith("faces/") or target == "photo.jpg" else \
        (target if target.startswith("/") else str(tmp_path / target))
    before = {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}
    paths = [str(inputs / "faces"), str(inputs / "photo.jpg"), str(tmp_path / "listed.csv")]
    assert main(["predict", "--model", str(au_model_dir), "--output", target, *paths]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()} == before
    assert (tmp_path / "listed.csv").read_text() == "a user's table\n"


def test_annotate_draws_each_faces_reasons_on_it(au_model_dir, inputs, tmp_path):
    """`--annotate DIR`: one PNG per predicted input, the reasons drawn on the face at its size (a 48x48 face
    enlarged), the row naming it; real MediaPipe landmarks on real faces and on a larger photo."""
    out, folder = tmp_path / "predictions.csv", tmp_path / "drawn"
    code = main(["predict", "--model", str(au_model_dir), "--output", str(out), "--annotate", str(folder),
                 str(inputs / "faces"), str(inputs / "photo.jpg"), str(inputs / "empty.jpg"),
                 str(SHARED_FIXTURES / "media" / "single_face.jpg")])
    assert code == 0
    table = pd.read_csv(out, dtype={"annotation": str}).fillna({"annotation": ""})
    drawn = table[table.annotation != ""]
    assert len(drawn) == 5 and (table.loc[table.path.str.endswith("empty.jpg"), "annotation"] == "").all()
    for row in drawn.itertuples():
        picture = Image.open(row.annotation)
        source = Image.open(row.path)
        assert picture.width >= source.width and picture.height > source.height  # the face, then the legend
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(a).name for a in drawn.annotation)


@pytest.mark.parametrize(("model", "annotate", "message"), [
    ("cnn", "drawn", "--annotate draws an AU model's reasons"),
    ("au", "/proc/drawn", "--annotate /proc/drawn cannot be written"),
])
def test_annotate_problems_are_one_line_before_any_prediction(au_model_dir, cnn_model_dir, inputs, tmp_path, capsys,
                                                              model, annotate, message):
    model_dir = au_model_dir if model == "au" else cnn_model_dir
    target = annotate if annotate.startswith("/") else str(tmp_path / annotate)
    code = main(["predict", "--model", str(model_dir), "--output", str(tmp_path / "out.csv"), "--annotate", target,
                 str(inputs / "faces")])
    assert code == 2 and message in capsys.readouterr().err and not (tmp_path / "out.csv").exists()


MEDIA = SHARED_FIXTURES / "media"
GROUP_PHOTO = MEDIA / "multi_face.jpg"
GROUP_FACES = 5


def predict_media(model_dir: Path, tmp_path: Path, *args: str) -> tuple[int, pd.DataFrame]:
    """`face-emotion predict` with ``args`` (options and inputs); its exit code and its table."""
    out = tmp_path / "predictions.csv"
    code = main(["predict", "--model", str(model_dir), "--output", str(out), *args])
    text = {"emotion": "string", "reason": "string", "au_reasons": "string", "annotation": "string"}
    return code, pd.read_csv(out, dtype={**text, "masked": "boolean"}).fillna(dict.fromkeys(text, ""))


def overlap(a: pd.Series, b: pd.Series) -> float:
    width = min(a.box_right, b.box_right) - max(a.box_left, b.box_left)
    height = min(a.box_bottom, b.box_bottom) - max(a.box_top, b.box_top)
    return max(width, 0) * max(height, 0) / min((a.box_right - a.box_left) * (a.box_bottom - a.box_top),
                                                (b.box_right - b.box_left) * (b.box_bottom - b.box_top))


@pytest.mark.parametrize("model", ["au", "cnn"])
def test_every_face_of_a_group_photo_gets_its_own_row(au_model_dir, cnn_model_dir, tmp_path, model):
    """multi_face.jpg shows five people: five rows, five boxes on five different faces, ids 0-4."""
    model_dir = au_model_dir if model == "au" else cnn_model_dir
    options = ["--annotate", str(tmp_path / "drawn")] if model == "au" else []
    code, table = predict_media(model_dir, tmp_path, *options, str(GROUP_PHOTO))
    assert code == 0
    assert list(table.face_id) == list(range(GROUP_FACES)) and (table.emotion != "").all() and table.frame.isna().all()
    assert all(overlap(a, b) < 0.2 for i, a in table.iterrows() for j, b in table.iterrows() if i < j)
    if model == "au":
        drawing = Image.open(table.annotation[0])
        assert drawing.width == 1000 and drawing.height > 667  # the photo at its size, five legends below
        assert table.au_reasons.str.match(r"^\w+ \(").all()


def test_annotate_never_replaces_an_existing_file(au_model_dir, tmp_path):
    """--annotate into the inputs' own folder, where an input is named as a drawing would be (00001_a.png) and an
    earlier drawing lies: both stay byte for byte, each row names its own new drawing."""
    folder = tmp_path / "photos"
    folder.mkdir()
    first, second = real_faces("test", "sad", 2)
    shutil.copy(first, folder / "00001_a.png")  # sorted first: index 0; a.jpg is index 1, whose drawing is 00001_a.png
    shutil.copy(second, folder / "a.jpg")
    (folder / "00000_00001_a.png").write_bytes(b"an earlier drawing")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, table = predict_media(au_model_dir, tmp_path, "--annotate", str(folder), str(folder / "00001_a.png"),
                                str(folder / "a.jpg"))
    assert code == 0
    assert all((folder / name).read_bytes() == data for name, data in before.items())
    assert [Path(p).name for p in table.annotation] == ["00000_00001_a_2.png", "00001_a_2.png"]
    assert all(Image.open(p).width >= 288 for p in table.annotation)


def test_a_file_name_that_is_not_utf8_is_written_escaped_and_the_run_kept(au_model_dir, tmp_path, capsys):
    """A name whose bytes are not UTF-8 (Latin-1 'café') among good ones, drawn with --annotate: every row is written,
    that path and its drawing's path with the byte escaped (the drawing itself keeps the raw byte), and the summary
    says so."""
    folder = tmp_path / "photos"
    folder.mkdir()
    faces = real_faces("test", "happy", 2)
    shutil.copy(faces[0], folder / faces[0].name)
    with open(os.fsencode(folder) + b"/caf\xe9.jpg", "wb") as latin1:
        latin1.write(faces[1].read_bytes())
    code, table = predict_media(au_model_dir, tmp_path, "--annotate", str(tmp_path / "drawn"), str(folder))
    assert code == 0 and (table.emotion != "").all()
    assert sorted(Path(p).name for p in table.path) == sorted([faces[0].name, "caf\\xe9.jpg"])
    assert sorted(Path(p).name for p in table.annotation) == sorted([f"00000_{faces[0].stem}.png", "00001_caf\\xe9.png"])
    assert os.fsencode(tmp_path / "drawn") + b"/00001_caf\xe9.png" in [os.fsencode(p) for p in (tmp_path / "drawn").iterdir()]
    assert "1 file name(s) not valid UTF-8: written with those bytes escaped" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["au", "cnn"])
def test_aus_adds_openface_columns_for_every_face_of_photos_and_video_frames(au_model_dir, cnn_model_dir, tmp_path, model):
    """--aus: each face's AU01_r ... AU45_r (0-5) and AU.._c (present from intensity 1), for the group photo's five
    faces, a FER2013 face and a video's frames, with the CNN too; empty where no face was measured, and where the
    region an AU is read from lies outside the image (a crop that cuts the chin: AU17), ``unmeasured`` saying why."""
    face = real_faces("test", "happy", 1)[0]
    (tmp_path / "text.jpg").write_text("not an image\n")
    cut = tmp_path / "chin_cut.png"
    read_image(face).crop((0, 0, 48, 38)).save(cut)
    inputs = [GROUP_PHOTO, face, MEDIA / "WolfgangLanger_Pexels.mp4", MEDIA / "no_face.mp4", tmp_path / "text.jpg",
              cut]
    model_dir = au_model_dir if model == "au" else cnn_model_dir
    code, table = predict_media(model_dir, tmp_path, "--aus", "--frame-step", "48", *map(str, inputs))
    assert code == 0
    faces = table[table.emotion != ""]
    assert len(faces[faces.path == str(GROUP_PHOTO)]) == GROUP_FACES and faces.frame.notna().sum() >= 9
    intensities, presence = faces[list(AU_COLUMNS)], faces[list(AU_PRESENCE_COLUMNS)]
    unmeasured = faces.unmeasured.fillna("")  # the CSV's empty fields
    named = unmeasured.str.split(UNMEASURED_SEPARATOR).str[0].str.split()
    empty = pd.DataFrame([[column in columns for column in AU_COLUMNS] for columns in named], index=faces.index,
                         columns=list(AU_COLUMNS))
    assert (intensities.isna() == empty).all().all() and (presence.isna().to_numpy() == empty.to_numpy()).all()
    assert intensities.ge(0).where(~empty, True).all().all() and intensities.le(5).where(~empty, True).all().all()
    assert (presence.fillna(0).to_numpy() == (intensities.fillna(0).to_numpy() >= AU_PRESENT_FROM)).all()
    assert intensities.std().gt(0).sum() >= 10  # the faces differ: measured, not filled in
    chin_cut = faces[faces.path == str(cut)].iloc[0]
    assert np.isnan(chin_cut.AU17_r) and pd.isna(chin_cut.AU17_c) and np.isfinite(chin_cut.AU01_r)
    assert chin_cut.unmeasured.endswith("chin outside the image") and "AU17_r" in chin_cut.unmeasured
    assert (unmeasured[faces.path == str(GROUP_PHOTO)] == "").all()
    faceless = table[table.emotion == ""]
    assert set(faceless.path) == {str(MEDIA / "no_face.mp4"), str(tmp_path / "text.jpg")}
    assert faceless[[*AU_COLUMNS, *AU_PRESENCE_COLUMNS]].isna().all().all()
    if model == "au":  # the AU model's own measurement: as the AU backend measures the face
        with MediaPipeBackend(AU) as backend:
            expected = backend.measure(str(face))
        measured = faces[faces.path == str(face)].iloc[0]
        assert [measured[c] for c in AU_COLUMNS] == pytest.approx([expected[c] for c in AU_COLUMNS], abs=0.01)
    (tmp_path / "plain").mkdir()
    _, plain = predict_media(model_dir, tmp_path / "plain", str(face))
    assert not set(plain.columns) & {*AU_COLUMNS, *AU_PRESENCE_COLUMNS, "unmeasured"}


def test_a_video_gives_a_row_per_analysed_frame_and_a_timeline(au_model_dir, tmp_path):
    """WolfgangLanger_Pexels.mp4 (472 frames, one face): every 4th frame analysed, its time, one tracked face id, the
    probabilities smoothed over 3 frames, and the emotion timeline drawn."""
    code, table = predict_media(au_model_dir, tmp_path, "--frame-step", "4", "--smooth", "3", "--annotate",
                                str(tmp_path / "drawn"), str(MEDIA / "WolfgangLanger_Pexels.mp4"))
    assert code == 0
    assert list(table.frame) == list(range(0, 472, 4))
    assert table.time_s.is_monotonic_increasing and table.time_s.iloc[-1] == pytest.approx(468 / 23.976, abs=0.05)
    answered = table[table.emotion != ""]
    assert len(answered) >= 0.97 * len(table) and set(answered.face_id) == {0}
    probabilities = answered[[f"p_{c}" for c in CLASSES]].to_numpy()
    assert list(answered.emotion) == [CLASSES[i] for i in probabilities.argmax(axis=1)]
    timeline = Image.open(table.annotation[0])
    assert timeline.format == "PNG" and timeline.width > timeline.height


def test_frames_without_faces_and_bad_videos_are_rows_with_reasons(au_model_dir, tmp_path):
    """no_face.mp4 (no face at all), face_noface.mov (a face in some frames), and videos that cannot be read: a row
    with a reason for each, no traceback, and the other inputs still predicted."""
    good = (MEDIA / "WolfgangLanger_Pexels.mp4").read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(good[: len(good) // 3])
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "text.mov").write_text("not a video\n")
    with wave.open(str(tmp_path / "sound_only.avi"), "wb") as sound:  # a RIFF container with no video stream
        sound.setnchannels(1), sound.setsampwidth(2), sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 800)
    inputs = [MEDIA / "no_face.mp4", MEDIA / "face_noface.mov", *(tmp_path / n for n in
              ("truncated.mp4", "empty.mp4", "text.mov", "sound_only.avi")), MEDIA / "single_face.jpg"]
    code, table = predict_media(au_model_dir, tmp_path, "--frame-step", "3", *map(str, inputs))
    assert code == 0
    by_file = {Path(path).name: rows for path, rows in table.groupby("path")}
    assert (by_file["no_face.mp4"].reason == "no face found").all() and by_file["no_face.mp4"].frame.notna().all()
    mixed = by_file["face_noface.mov"]
    assert 0 < (mixed.emotion != "").sum() < len(mixed) and (mixed[mixed.emotion == ""].reason == "no face found").all()
    truncated = by_file["truncated.mp4"]
    assert (truncated.emotion != "").sum() > 10
    assert truncated.reason.iloc[-1].startswith("video ends after") and "of 472 frames" in truncated.reason.iloc[-1]
    assert list(by_file["empty.mp4"].reason) == ["empty file (0 bytes)"]
    assert by_file["text.mov"].reason.iloc[0].startswith("not a readable video")
    assert by_file["sound_only.avi"].reason.iloc[0].startswith("not a readable video")
    assert by_file["single_face.jpg"].emotion.iloc[0] in CLASSES


def test_a_4k_video_is_analysed_with_boxes_in_its_own_pixels(cnn_model_dir, tmp_path):
    """A 3840x2160 video of the single-face photo: the face is found and boxed in 4K pixels."""
    import cv2

    photo = np.asarray(Image.open(MEDIA / "single_face.jpg").convert("RGB"))
    frame = np.full((2160, 3840, 3), 90, dtype=np.uint8)
    frame[800:800 + photo.shape[0] * 2, 1500:1500 + photo.shape[1] * 2] = cv2.resize(photo, None, fx=2, fy=2)[..., ::-1]
    writer = cv2.VideoWriter(str(tmp_path / "uhd.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (3840, 2160))
    for _ in range(3):
        writer.write(frame)
    writer.release()
    code, table = predict_media(cnn_model_dir, tmp_path, str(tmp_path / "uhd.mp4"))
    assert code == 0 and list(table.frame) == [0, 1, 2] and (table.emotion != "").all()
    assert (table.box_left > 1500).all() and (table.box_right < 1500 + 2 * photo.shape[1]).all()


def test_a_video_stored_sideways_is_read_upright_by_its_rotation_metadata(au_model_dir, tmp_path):
    """As phones record: frames stored turned 90 degrees clockwise, with a display matrix saying to turn them back.
    The faces are found on the upright frames, in the same places as in the original clip."""
    video = MEDIA / "WolfgangLanger_Pexels.mp4"
    upright = write_clip(tmp_path / "upright.mp4", "-i", str(video), "-t", "1", "-an")
    sideways = write_clip(tmp_path / "sideways.mp4", "-i", str(upright), "-vf", "transpose=clock")
    tagged = write_clip(tmp_path / "tagged.mp4", "-display_rotation", "90", "-i", str(sideways), "-c", "copy")
    _, original = predict_media(au_model_dir, tmp_path, str(upright))
    code, rotated = predict_media(au_model_dir, tmp_path, str(tagged))
    assert code == 0 and len(rotated) == len(original) == 24
    assert (rotated.emotion != "").all()
    for side in ("box_left", "box_top", "box_right", "box_bottom"):
        assert (rotated[side] - original[side]).abs().max() <= 3, side


def test_a_variable_frame_rate_video_keeps_each_frames_true_time(au_model_dir, tmp_path):
    """Frames 10-29 of the fixture dropped with their timestamps kept (a variable frame rate): the frame after the
    gap is timed 21 frame periods after the one before it, the others one period apart."""
    period = 1 / 23.976
    video = write_clip(tmp_path / "gap.mp4", "-i", str(MEDIA / "WolfgangLanger_Pexels.mp4"), "-t", "2",
                       "-vf", "select='not(between(n,10,29))'", "-fps_mode", "passthrough", "-an")
    code, table = predict_media(au_model_dir, tmp_path, str(video))
    assert code == 0 and list(table.frame) == list(range(28)) and (table.emotion != "").all()
    gaps = np.diff(table.time_s.to_numpy())
    assert gaps[9] == pytest.approx(21 * period, abs=0.002)
    assert np.delete(gaps, 9) == pytest.approx(np.full(26, period), abs=0.002)


@pytest.mark.parametrize(("option", "value"), [("--frame-step", "0"), ("--smooth", "-1"), ("--max-faces", "two")])
def test_bad_video_options_are_refused_before_any_work(au_model_dir, tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as stopped:
        main(["predict", "--model", str(au_model_dir), "--output", str(tmp_path / "o.csv"), option, value,
              str(MEDIA / "no_face.mp4")])
    assert stopped.value.code == 2 and not (tmp_path / "o.csv").exists()
    assert f"argument {option}:" in capsys.readouterr().err


def test_many_images_are_measured_in_worker_processes_with_the_same_answers(au_model_dir, inputs, monkeypatch):
    """From PARALLEL_FROM images on, faces are found and measured in one process per core: the same table as in one
    process, bad files included, in the input order."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: predict measures in its own process")
    files = [*real_faces("test", "sad", 12), inputs / "text.jpg", *real_faces("test", "surprise", 12), inputs / "photo.jpg"]
    with load_predictor(au_model_dir) as predictor:
        monkeypatch.setattr(predict_module, "PARALLEL_FROM", 10)
        in_workers = predict_files(predictor, files)
        monkeypatch.setattr(predict_module, "PARALLEL_FROM", len(files) + 1)
        here = predict_files(predictor, files)
    pd.testing.assert_frame_equal(in_workers, here)
    assert list(here.path) == [str(f) for f in files] and (here.emotion != "").sum() == 25


@pytest.fixture(scope="module")
def mask_detector_dir(tmp_path_factory) -> Path:
    """A mask detector trained on 2,400 real training faces, saved as train_mask_detector saves it."""
    faces = decode_faces(pd.DataFrame({"path": [p for c in CLASSES for p in real_faces("train", c, 400)]}))
    detector, _ = mask_detector.train(faces, faces[:0], MASK, seed=0, epochs=8)
    folder = tmp_path_factory.mktemp("models") / "mask_detector"
    folder.mkdir()
    detector.save(folder / cnn.MODEL_FILE)
    (folder / cnn.INFO_FILE).write_text(json.dumps({"role": cnn.MASK_DETECTOR_ROLE, "trained": True}))
    return folder


@pytest.fixture(scope="module")
def masked_inputs(tmp_path_factory) -> Path:
    """Real test faces as they are and in the test mask style; the group photo as it is and with every face masked."""
    root = tmp_path_factory.mktemp("masked_inputs")
    rng = np.random.default_rng(0)
    look = draw_look(rng, [MASK.test_style], (MASK.test_height, MASK.test_height))
    for label in CLASSES:
        for face in real_faces("test", label, 2):
            pixels = np.asarray(Image.open(face))
            Image.fromarray(pixels).save(root / f"{label}_{face.stem}_plain.png")
            Image.fromarray(apply_mask(pixels, look, rng)).save(root / f"{label}_{face.stem}_masked.png")
    group = Image.open(GROUP_PHOTO).convert("RGB")
    pixels = np.asarray(group).copy()
    with FaceFinder(finding_settings(), max_faces=GROUP_FACES + 3) as finder:
        for left, top, right, bottom in (face.box() for face in finder.every_face(group)):
            pixels[top:bottom, left:right] = apply_mask(pixels[top:bottom, left:right], look, rng)
    group.save(root / "group_plain.jpg")
    Image.fromarray(pixels).save(root / "group_masked.jpg")
    return root


@pytest.mark.parametrize("model", ["au", "cnn"])
def test_masked_faces_are_marked_and_the_au_model_says_the_mouth_is_hidden(au_model_dir, cnn_model_dir,
                                                                           mask_detector_dir, masked_inputs, tmp_path,
                                                                           model):
    """FER2013 faces and the faces of a group photo, each masked and not: the masked column tells them apart."""
    model_dir = au_model_dir if model == "au" else cnn_model_dir
    code, table = predict_media(model_dir, tmp_path, "--mask-detector", str(mask_detector_dir), str(masked_inputs))
    assert code == 0
    table["name"] = table.path.map(lambda p: Path(p).stem)
    for photo in ("group_plain", "group_masked"):
        faces = table[table.name == photo]
        assert len(faces) == GROUP_FACES and (faces.emotion != "").all()
        assert (faces.masked == (photo == "group_masked")).all()
    crops = table[table.name.str.contains("Test_")]
    assert len(crops) == 2 * 2 * len(CLASSES) and crops.masked.notna().all()  # checked even where no face is found
    assert (crops.masked == crops.name.str.endswith("_masked")).mean() >= 0.9
    if model == "au":
        answered = table[table.emotion != ""]
        assert (answered[answered.masked].reason == predict_module.MASKED_NOTE).all()
        assert (answered[~answered.masked].reason == "").all()


def test_without_a_mask_detector_the_masked_column_stays_empty_and_says_why(au_model_dir, masked_inputs, tmp_path,
                                                                             capsys):
    code, table = predict_media(au_model_dir, tmp_path, str(masked_inputs / "group_masked.jpg"))
    assert code == 0 and len(table) == GROUP_FACES and table.masked.isna().all() and (table.emotion != "").all()
    assert "masked column empty: no mask detector named by" in capsys.readouterr().err


def test_a_missing_mask_detector_named_on_the_command_line_is_one_line(au_model_dir, masked_inputs, tmp_path, capsys):
    code = main(["predict", "--model", str(au_model_dir), "--mask-detector", str(tmp_path / "nowhere"),
                 "--output", str(tmp_path / "o.csv"), str(masked_inputs)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "nowhere is not a model folder: train it with 'dvc repro train_mask_detector'" in err
    assert not (tmp_path / "o.csv").exists()


def test_a_weak_mask_detector_is_not_trusted(au_model_dir, mask_detector_dir, masked_inputs, tmp_path, capsys):
    """A detector whose validation accuracy is low (a quick run's, trained on a few faces) leaves the column empty
    and says why, rather than marking unmasked faces masked."""
    weak = tmp_path / "weak"
    shutil.copytree(mask_detector_dir, weak)
    (weak / cnn.INFO_FILE).write_text(json.dumps({"role": cnn.MASK_DETECTOR_ROLE, "trained": True, "val_accuracy": 0.52}))
    code, table = predict_media(au_model_dir, tmp_path, "--mask-detector", str(weak), str(masked_inputs / "group_plain.jpg"))
    assert code == 0 and len(table) == GROUP_FACES and table.masked.isna().all() and (table.reason == "").all()
    assert "too weak to trust (validation accuracy 0.52, under 0.9" in capsys.readouterr().err


def test_a_damaged_mask_detector_info_is_one_line(au_model_dir, mask_detector_dir, masked_inputs, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    shutil.copytree(mask_detector_dir, damaged)
    (damaged / cnn.INFO_FILE).write_text('{"val_accuracy": 0.9')
    code = main(["predict", "--model", str(au_model_dir), "--mask-detector", str(damaged), "--output",
                 str(tmp_path / "o.csv"), str(masked_inputs / "group_plain.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "model_info.json is damaged" in err
    assert not (tmp_path / "o.csv").exists()


def test_a_model_folder_of_the_wrong_role_is_one_line(au_model_dir, cnn_model_dir, mask_detector_dir, masked_inputs,
                                                      tmp_path, capsys):
    """The emotion CNN named as the mask detector (its first output would read as 'masked'), the mask detector as the
    model, an AU model as the mask detector, a CNN folder from before roles were recorded: one line, nothing written."""
    unmarked = tmp_path / "unmarked"
    shutil.copytree(cnn_model_dir, unmarked)
    (unmarked / cnn.INFO_FILE).write_text(json.dumps({"trained": True}))
    cases = [(["--model", au_model_dir, "--mask-detector", cnn_model_dir], "role is 'emotion CNN', not 'mask detector'"),
             (["--model", mask_detector_dir], "role is 'mask detector', not 'emotion CNN'"),
             (["--model", au_model_dir, "--mask-detector", au_model_dir], "holds an AU model (model.json), not 'mask "),
             (["--model", unmarked], "role is not recorded, not 'emotion CNN'")]
    for arguments, message in cases:
        code = main(["predict", *map(str, arguments), "--output", str(tmp_path / "o.csv"), str(masked_inputs)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, err
        assert not (tmp_path / "o.csv").exists()
    earlier = tmp_path / "earlier"  # folders trained before roles were recorded: their keys tell
    shutil.copytree(cnn_model_dir, earlier / "cnn")
    shutil.copytree(mask_detector_dir, earlier / "mask_detector")
    write_companions(earlier / "cnn", {MASK_DETECTOR: earlier / "mask_detector"})
    (earlier / "cnn" / cnn.INFO_FILE).write_text(json.dumps({"trained": True, "classes": CLASSES}))
    (earlier / "mask_detector" / cnn.INFO_FILE).write_text(json.dumps({"trained": True, "threshold": 0.5}))
    code, table = predict_media(earlier / "cnn", tmp_path, str(masked_inputs / "group_plain.jpg"))
    assert code == 0 and table.masked.notna().all()


@pytest.fixture(scope="module")
def models_with_upper_face_au_model(au_model_dir, mask_detector_dir, tmp_path_factory) -> Path:
    """A models/ folder as the pipeline writes it: the AU model, the masked-face AU model (trained on real training
    faces masked as mask_train_faces masks them) and the mask detector, named as the AU model's companions."""
    models = tmp_path_factory.mktemp("pipeline") / "models"
    shutil.copytree(au_model_dir, models / "au_model")
    shutil.copytree(mask_detector_dir, models / "detector")
    write_companions(models / "au_model", {MASK_DETECTOR: models / "detector", MASKED_FACES_MODEL: models / "masked"})
    rows = []
    with MediaPipeBackend(AU) as backend:
        for label in CLASSES:
            for i, face in enumerate(real_faces("train", label, 12)):
                rng = np.random.default_rng(i)
                look = draw_look(rng, MASK.styles, MASK.height_range())
                masked = Image.fromarray(apply_mask(np.asarray(Image.open(face)), look, rng))
                rows.append({**backend.measure_image(masked), "label": label, "path": str(face)})
    params = dataclasses.replace(LINEAR, features=MASK.au_features)
    save_au_model(params, pd.DataFrame(rows), models / "masked")
    return models


def test_masked_faces_go_to_the_upper_face_au_model_and_are_explained_from_the_upper_face(
        models_with_upper_face_au_model, masked_inputs, tmp_path):
    """With the masked-face AU model beside the AU model, each face the detector sees masked is answered by it, from
    brows, eyes and cheeks only, and says the mouth is hidden; the unmasked faces are answered as before."""
    code, table = predict_media(models_with_upper_face_au_model / "au_model", tmp_path, str(masked_inputs))
    answered = table[table.emotion != ""]
    masked, unmasked = answered[answered.masked.astype(bool)], answered[~answered.masked.astype(bool)]
    assert code == 0 and len(masked) >= 10 and len(unmasked) >= 10
    assert (masked.reason == predict_module.ROUTED_NOTE).all() and masked.au_reasons.str.endswith(MOUTH_HIDDEN).all()
    named = masked.au_reasons.str.removesuffix(MOUTH_HIDDEN).str.lower()
    assert not named.str.contains("lip|mouth|jaw|chin|dimple").any()
    assert (unmasked.reason == "").all() and not unmasked.au_reasons.str.contains("mask").any()


def test_a_upper_face_au_model_of_other_classes_is_one_line(models_with_upper_face_au_model, measured_faces, masked_inputs,
                                                        tmp_path, capsys):
    models = tmp_path / "models"
    shutil.copytree(models_with_upper_face_au_model, models)
    three = measured_faces[measured_faces.label.isin(CLASSES[:3])]
    shutil.rmtree(models / "masked")
    au_models.save(au_models.fit_table(three, dataclasses.replace(LINEAR, features=MASK.au_features), CLASSES[:3], seed=0),
                  models / "masked", dataclasses.asdict(AU))
    code = main(["predict", "--model", str(models / "au_model"), "--output", str(tmp_path / "o.csv"),
                 str(masked_inputs / "group_masked.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "retrain both with 'make run'" in err


def test_a_damaged_masked_au_model_is_one_line_naming_its_stage(models_with_upper_face_au_model, masked_inputs, tmp_path,
                                                                capsys):
    models = tmp_path / "models"
    shutil.copytree(models_with_upper_face_au_model, models)
    model_file = models / "masked" / au_models.MODEL_FILE
    model_file.write_text(model_file.read_text()[:300])
    code = main(["predict", "--model", str(models / "au_model"), "--output", str(tmp_path / "o.csv"),
                 str(masked_inputs / "group_masked.jpg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "dvc repro train_upper_face_au_model" in err
    assert not (tmp_path / "o.csv").exists()
