"""predict's output written as its rows come (core.io.CsvRows): the finished file, and what a run stopped early keeps."""

import os

import pandas as pd
import pytest

from face_emotion.core.io import CsvRows


def frame(start: int, rows: int) -> pd.DataFrame:
    return pd.DataFrame({"path": [f"face_{i}.jpg" for i in range(start, start + rows)], "emotion": "happy"})


def test_rows_come_in_parts_and_the_file_appears_whole_when_finished(tmp_path):
    sink = CsvRows(tmp_path / "out.csv")
    sink.add(frame(0, 2))
    sink.add(frame(2, 3))
    assert not (tmp_path / "out.csv").exists()
    sink.finish()
    assert sink.rows == 5
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.csv"), frame(0, 5))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_run_stopped_early_keeps_exactly_the_rows_it_counts(tmp_path):
    """A Ctrl-C inside an ``add`` can leave rows in the file that the count does not hold yet, a line in part among
    them: the kept file is cut back to the rows that the one-line message counts."""
    sink = CsvRows(tmp_path / "out.csv")
    sink.add(frame(0, 2))
    with sink.tmp.open("a") as stream:  # what an interrupted add leaves: a whole row and half of the next
        stream.write("face_2.jpg,happy\nface_3.j")
    kept = sink.keep_partial()
    assert kept == tmp_path / "out.partial.csv" and sink.rows == 2
    pd.testing.assert_frame_equal(pd.read_csv(kept), frame(0, 2))
    assert not sink.tmp.exists()


def test_an_interrupted_add_is_not_counted_and_not_kept(tmp_path, monkeypatch):
    sink = CsvRows(tmp_path / "out.csv")
    sink.add(frame(0, 1))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sink.add(frame(1, 4))
    assert sink.rows == 1
    monkeypatch.undo()
    pd.testing.assert_frame_equal(pd.read_csv(sink.keep_partial()), frame(0, 1))


def test_a_run_stopped_before_any_row_keeps_nothing(tmp_path):
    sink = CsvRows(tmp_path / "out.csv")
    assert sink.keep_partial() is None and os.listdir(tmp_path) == []
