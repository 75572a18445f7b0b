"""OpenFace CSV parsing on the real OpenFace output files in ../shared/fixtures (read in place)."""

import pandas as pd
import pytest

from face_emotion.core.errors import UserError
from face_emotion.core.tables import AU_COLUMNS
from face_emotion.data.openface_csv import NOT_TRACKED, face_of_image, most_confident, read_openface_csv
from tests.helpers import SHARED_FIXTURES

LANDMARK_IMG = SHARED_FIXTURES / "openface" / "FaceLandmarkImg" / "face.csv"
FEATURE_EXTRACTION = SHARED_FIXTURES / "openface" / "FeatureExtraction" / "default.csv"


def test_face_landmark_img_header_with_leading_spaces():
    table = read_openface_csv(LANDMARK_IMG)
    assert table.attrs["kind"] == "FaceLandmarkImg" and len(table) == 1
    row = table.iloc[0]
    assert row.success and row.confidence == pytest.approx(0.975)
    assert row.AU10_r == pytest.approx(2.33) and row.AU12_r == pytest.approx(2.17)


def test_feature_extraction_frames():
    table = read_openface_csv(FEATURE_EXTRACTION)
    assert table.attrs["kind"] == "FeatureExtraction" and len(table) == 288
    assert table.success.all() and table[list(AU_COLUMNS)].notna().all().all()
    assert table.iloc[0].AU20_r == pytest.approx(2.18)


def test_several_faces_keep_the_most_confident(tmp_path):
    lines = LANDMARK_IMG.read_text().splitlines()
    weaker = lines[1].replace("0, 0.975, 0.00", "1, 0.400, 4.00", 1)
    (tmp_path / "two.csv").write_text("\n".join([lines[0], weaker, lines[1]]) + "\n")
    face = face_of_image(tmp_path / "two.csv")
    assert face["confidence"] == pytest.approx(0.975) and face["AU01_r"] == 0.0


def test_unsuccessful_frames_are_failures_not_zeros(tmp_path):
    lines = FEATURE_EXTRACTION.read_text().splitlines()
    fields = lines[1].split(",")
    fields[4] = "0"
    (tmp_path / "video.csv").write_text("\n".join([lines[0], ",".join(fields), lines[2]]) + "\n")
    table = read_openface_csv(tmp_path / "video.csv")
    assert list(table.success) == [False, True]
    assert table.failure_reason.iloc[0] == NOT_TRACKED and table[list(AU_COLUMNS)].iloc[0].isna().all()
    assert list(most_confident(table, by="frame").frame) == [1, 2]


def test_nan_and_out_of_range_values_are_counted_rejections(tmp_path):
    table = read_openface_csv(FEATURE_EXTRACTION).head(3)[["frame", "confidence", "success", *AU_COLUMNS]].copy()
    table.loc[0, "AU06_r"] = float("nan")
    table.loc[1, "AU12_r"] = 7.5
    table.to_csv(tmp_path / "bad.csv", index=False)
    parsed = read_openface_csv(tmp_path / "bad.csv")
    assert list(parsed.failure_reason) == ["NaN value in AU06_r", "AU12_r=7.5 outside 0-5", ""]


def test_missing_column_is_one_clear_error(tmp_path):
    table = pd.read_csv(FEATURE_EXTRACTION).drop(columns="AU45_r")
    table.to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(UserError, match="no column 'AU45_r'"):
        read_openface_csv(tmp_path / "short.csv")
    with pytest.raises(UserError, match="not found"):
        read_openface_csv(tmp_path / "absent.csv")


def test_a_decimal_comma_is_named_as_such(tmp_path):
    """A table re-saved by a spreadsheet in a comma-decimal locale: each row says why, not 'NaN'."""
    lines = FEATURE_EXTRACTION.read_text().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    column = header.index("AU01_r")
    first[column] = '"' + first[column].replace(".", ",") + '"'
    (tmp_path / "comma.csv").write_text("\n".join([lines[0], ",".join(first), *lines[2:4]]) + "\n")
    table = read_openface_csv(tmp_path / "comma.csv")
    assert table.failure_reason.iloc[0].startswith("decimal comma in AU01_r (")
    assert table.success.iloc[1:].all()
    semicolons = "\n".join(line.replace(",", ";") for line in lines[:3]) + "\n"
    (tmp_path / "semicolons.csv").write_text(semicolons)
    with pytest.raises(UserError, match="separated by ';'"):
        read_openface_csv(tmp_path / "semicolons.csv")


def test_rows_that_do_not_fit_the_header_are_rejected_not_shifted(tmp_path):
    """Unquoted decimal commas (a spreadsheet in a comma-decimal locale: `0, 0.98, 1, 1,5, ...`) split values into
    more fields than the header has; a cut-off row has fewer. Each is a rejected row in its place, the others read."""
    lines = FEATURE_EXTRACTION.read_text().splitlines()
    width = len(lines[0].split(","))
    comma = lines[1].replace(".", ",")  # every decimal point a comma: many more fields
    cut = ",".join(lines[3].split(",")[:10])
    (tmp_path / "commas.csv").write_text("\n".join([lines[0], comma, lines[2], cut, lines[4]]) + "\n")
    table = read_openface_csv(tmp_path / "commas.csv")
    assert len(table) == 4 and list(table.success) == [False, True, False, True]
    assert table.failure_reason.iloc[0].endswith(f"fields where the header has {width} (an unquoted decimal comma?)")
    assert table.failure_reason.iloc[2] == f"10 fields where the header has {width} (an unquoted decimal comma?)"
    assert table[list(AU_COLUMNS)].iloc[[0, 2]].isna().all().all()
    expected = read_openface_csv(FEATURE_EXTRACTION)
    assert table.AU01_r.iloc[1] == expected.AU01_r.iloc[1] and table.frame.iloc[3] == expected.frame.iloc[3]
    every = "\n".join([lines[0], *(line.replace(".", ",") for line in lines[1:4])]) + "\n"
    (tmp_path / "all_commas.csv").write_text(every)  # every row: no value may become the index
    assert not read_openface_csv(tmp_path / "all_commas.csv").success.any()


def test_a_success_column_that_is_not_0_or_1_rejects_its_row(tmp_path):
    table = read_openface_csv(FEATURE_EXTRACTION).head(4)[["frame", "confidence", "success", *AU_COLUMNS]].copy()
    table["success"] = table["success"].astype(object)
    table.loc[0, "success"], table.loc[1, "success"], table.loc[2, "success"] = "yes", "", 0
    table.to_csv(tmp_path / "yes.csv", index=False)
    parsed = read_openface_csv(tmp_path / "yes.csv")
    assert list(parsed.failure_reason) == ["success is 'yes', not 0 or 1", "success is nan, not 0 or 1", NOT_TRACKED, ""]


def test_files_that_are_not_tables_are_one_line(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00AU01_r\x00")
    for name, message in (("empty.csv", "is empty"), ("binary.csv", "cannot be parsed")):
        with pytest.raises(UserError, match=message) as excinfo:
            read_openface_csv(tmp_path / name)
        assert "\n" not in str(excinfo.value)
