"""The original project's AU table as data (data.kind=au_table): rows accounted for, its hold-out protocol."""

import dataclasses

import pandas as pd
import pytest

from face_emotion.au.backends.openface_csv import OpenFaceCsvBackend
from face_emotion.core.errors import UserError
from face_emotion.data import manifest as dataset
from tests.helpers import SHARED_FIXTURES, default_params, seed_table_sample

SEED = default_params("experiment=seed_reproduction")
PARAMS = SEED.data


def spoiled_table(tmp_path):
    """400 real rows, then four bad ones: a NaN AU05, an AU07 of 7, an unknown emotion code, and an unquoted decimal
    comma (one field too many)."""
    table = seed_table_sample(tmp_path / "seed.csv", 400)
    good = table.read_bytes().split(b"\r\n")[1].split(b",")
    bad_rows = [[*good[:3], b"", *good[4:]], [*good[:5], b"7", *good[6:]], [*good[:-1], b"9"],
                [good[0].replace(b".", b","), *good[1:]]]
    with table.open("ab") as handle:
        handle.write(b"".join(b",".join(row) + b"\r\n" for row in bad_rows))
    return table


def test_every_row_is_accounted_for(tmp_path):
    table = spoiled_table(tmp_path)
    manifest = dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table)), seed=42)
    assert len(manifest) == 404
    rejected = manifest[manifest.status == "rejected"]
    assert list(rejected.reason) == ["NaN value in AU05_r", "AU07_r=7.0 outside 0-5", "unknown label code '9' in 'emotion'",
                                     "19 fields where the header has 18 (an unquoted decimal comma?)"]
    usable = manifest[manifest.status == "ok"]
    assert (usable.split == "test").sum() == 100 and set(usable.split) == {"train", "test"}
    assert manifest.path.iloc[0] == f"{table.as_posix()}#0"


def test_hold_out_is_seeded(tmp_path):
    params = dataclasses.replace(PARAMS, root=str(seed_table_sample(tmp_path / "seed.csv", 300)))
    first, again = dataset.build_manifest(params, seed=1), dataset.build_manifest(params, seed=1)
    assert list(first.split) == list(again.split)
    assert list(dataset.build_manifest(params, seed=2).split) != list(first.split)


def test_backend_reads_the_rows_back(tmp_path):
    table = spoiled_table(tmp_path)
    with OpenFaceCsvBackend(SEED.au) as backend:
        row = backend.measure(f"{table.as_posix()}#0")
        assert row["success"] and row["AU01_r"] == pytest.approx(3.09)
        assert backend.measure(f"{table.as_posix()}#400")["failure_reason"] == "NaN value in AU05_r"
        assert "set au.csv_dir" in backend.measure("faces/happy/a.jpg")["failure_reason"]


def test_missing_table_and_label_column(tmp_path):
    with pytest.raises(UserError, match="not found"):
        dataset.build_manifest(dataclasses.replace(PARAMS, root=str(tmp_path / "absent.csv")), seed=1)
    table = seed_table_sample(tmp_path / "seed.csv", 50)
    with pytest.raises(UserError, match="no label column 'label'"):
        dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table), label_column="label"), seed=1)


def test_a_table_without_a_usable_row_is_one_line(tmp_path):
    """Every row rejected (here: decimal commas throughout) stops prepare with the reason, not a split error."""
    table = seed_table_sample(tmp_path / "seed.csv", 20)
    header, *rows = table.read_text().splitlines()
    spoiled = [",".join(f'"{v.replace(".", ",")}"' if i < 17 else v for i, v in enumerate(row.split(","))) for row in rows]
    table.write_text("\n".join([header, *spoiled]) + "\n")
    with pytest.raises(UserError, match=r"has no usable rows to split \(most common reason, \d+ rows: decimal comma"):
        dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table)), seed=1)


def video_table(path, videos_per_class: int = 8):
    """A FeatureExtraction-style table: real OpenFace frames (../shared/fixtures), ten per video, a video column."""
    frames = pd.read_csv(SHARED_FIXTURES / "openface" / "FeatureExtraction" / "default.csv", skipinitialspace=True)
    frames = frames[frames.success == 1].head(10)
    parts = [frames.assign(video=f"v{code}_{i}", emotion=code) for code in range(6) for i in range(videos_per_class)]
    pd.concat(parts, ignore_index=True).to_csv(path, index=False)
    return path


def test_rows_of_one_video_stay_in_one_split(tmp_path):
    """With data.group_column a video's frames share a split; without it they leak across train and test."""
    table = video_table(tmp_path / "videos.csv")
    grouped = dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table), group_column="video"), seed=3)
    assert (grouped.groupby("group").split.nunique() == 1).all()
    assert set(grouped.split) == {"train", "test"} and grouped.group.nunique() == 48
    assert (grouped.split == "test").mean() == pytest.approx(0.25, abs=0.05)
    report = dataset.quality_report(grouped)
    assert sum(report["groups_per_split"].values()) == 48
    loose = dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table)), seed=3)
    videos = pd.read_csv(table).video
    assert (loose.assign(video=videos).groupby("video").split.nunique() > 1).any()


def test_a_missing_group_column_is_one_line(tmp_path):
    table = video_table(tmp_path / "videos.csv")
    with pytest.raises(UserError, match="has no group column 'subject'"):
        dataset.build_manifest(dataclasses.replace(PARAMS, root=str(table), group_column="subject"), seed=1)
