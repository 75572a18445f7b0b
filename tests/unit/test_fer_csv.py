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


def test_bytes_that_are_not_utf8_and_overlong_fields_are_rows_with_reasons(tmp_path):
    """A byte that is not UTF-8 in a row, and a field longer than the csv module's default limit (131,072
    characters): each is that row's reason, and the rows around them are written."""
    happy = pixels_of(real_faces("train", "happy", 1)[0]).encode()
    lines = [b"emotion,pixels,Usage", b"3," + happy + b",Training", b"\xff3," + happy + b",Training",
             b"3," + b"1 " * 70_000 + b",Training", b"3," + happy + b",Training"]
    (tmp_path / "fer2013.csv").write_bytes(b"\n".join(lines) + b"\n")
    result = import_fer2013_csv(tmp_path / "fer2013.csv", tmp_path / "out")
    assert result["written"] == 2 and result["stopped"] == ""
    assert result["skipped"] == ["row 2: emotion '\\udcff3' is not a number",
                                 "row 3: pixels: expected 2304 values in 0-255, got 70000"]


def test_a_line_too_long_to_read_stops_with_a_summary(tmp_path, capsys):
    happy = pixels_of(real_faces("train", "happy", 1)[0])
    (tmp_path / "fer2013.csv").write_text(f"emotion,pixels,Usage\n3,{happy},Training\n3,{'1 ' * 600_000},Training\n"
                                          f"3,{happy},Training\n")
    assert main(["import-fer2013-csv", str(tmp_path / "fer2013.csv"), str(tmp_path / "out")]) == 2
    out, err = capsys.readouterr()
    assert "wrote 1 faces to" in out  # what was written before the line is said
    assert err.strip().startswith("error: ") and "row 2 cannot be read (field larger than field limit" in err
    assert err.strip().endswith("the rows after it were not read") and err.count("\n") == 1


def test_an_output_that_is_a_file_is_one_line_before_anything_is_read(tmp_path, capsys):
    write_table(tmp_path / "fer2013.csv", [[3, pixels_of(real_faces("train", "happy", 1)[0]), "Training"]])
    (tmp_path / "out").write_text("a file the user keeps\n")
    assert main(["import-fer2013-csv", str(tmp_path / "fer2013.csv"), str(tmp_path / "out")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text() == "a file the user keeps\n"
