"""The fer2013.csv importer: real faces written as a table come back as the image-folder layout."""

import csv

import numpy as np
from PIL import Image

from face_emotion.cli import main
from face_emotion.data.fer_csv import import_fer2013_csv
from tests.helpers import real_faces


def write_table(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        writer.writerows(rows)


def pixels_of(face) -> str:
    return " ".join(map(str, np.asarray(Image.open(face).convert("L")).ravel()))


def test_rows_become_images_and_bad_rows_are_counted(tmp_path):
    happy, sad = real_faces("train", "happy", 1)[0], real_faces("test", "sad", 1)[0]
    write_table(tmp_path / "fer2013.csv", [
        [3, pixels_of(happy), "Training"],
        [4, pixels_of(sad), "PublicTest"],
        [2, pixels_of(sad), "PrivateTest"],
        [9, pixels_of(sad), "Training"],
        [3, "1 2 3", "Training"],
        [3, pixels_of(happy), "Validation"],
    ])
    result = import_fer2013_csv(tmp_path / "fer2013.csv", tmp_path / "out")
    assert result["per_folder"] == {"private_test/fear": 1, "test/sad": 1, "train/happy": 1}
    assert [r.split(":")[0] for r in result["skipped"]] == ["row 4", "row 5", "row 6"]
    written = np.asarray(Image.open(tmp_path / "out" / "train" / "happy" / "Training_00001.png"))
    np.testing.assert_array_equal(written, np.asarray(Image.open(happy).convert("L")))


def test_cli_reports_missing_column_in_one_line(tmp_path, capsys):
    (tmp_path / "table.csv").write_text("emotion,pixels\n3,0 0 0\n")
    assert main(["import-fer2013-csv", str(tmp_path / "table.csv"), str(tmp_path / "out")]) == 2
    expected = f"error: {tmp_path / 'table.csv'} has no 'Usage' column (expected emotion,pixels,Usage)"
    assert capsys.readouterr().err.strip() == expected


def test_cli_missing_file(tmp_path, capsys):
    assert main(["import-fer2013-csv", str(tmp_path / "absent.csv"), str(tmp_path / "out")]) == 2
    assert "not found" in capsys.readouterr().err
