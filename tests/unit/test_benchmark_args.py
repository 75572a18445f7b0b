"""A benchmark given a count it cannot use stops with one line before measuring anything."""

import subprocess
import sys
from pathlib import Path

import pytest

AU_EXTRACTION = Path(__file__).resolve().parents[2] / "benchmarks" / "au_extraction.py"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--faces", "-1"], "--faces must be at least 0, got -1"),
    (["--photos", "-3"], "--photos must be at least 0, got -3"),
    (["--rounds", "0", "--against", "HEAD"], "--rounds must be at least 1, got 0"),
])
def test_au_extraction_rejects_a_negative_count_in_one_line(arguments, message):
    result = subprocess.run([sys.executable, str(AU_EXTRACTION), *arguments], capture_output=True, text=True,
                            cwd=AU_EXTRACTION.parents[1])
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1].endswith(f"error: {message}")
    assert result.stdout == ""


CONCEPT_HEADS = AU_EXTRACTION.with_name("concept_heads.py")


@pytest.mark.parametrize(("folder", "message"), [
    ("nowhere", "nowhere is not a model folder: train it with 'dvc repro train_cnn'"),
    ("empty", "model_info.json not found: run 'dvc repro train_cnn'"),
])
def test_concept_heads_given_no_concept_cnn_stops_in_one_line_and_records_nothing(tmp_path, folder, message):
    (tmp_path / "empty").mkdir()
    recorded = CONCEPT_HEADS.parent / "results" / "concept_heads.json"
    before = recorded.read_bytes() if recorded.exists() else None
    result = subprocess.run([sys.executable, str(CONCEPT_HEADS), "--model", str(tmp_path / folder)],
                            capture_output=True, text=True, cwd=CONCEPT_HEADS.parents[1])
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and result.stdout == ""
    assert lines[0].startswith(f"error: {tmp_path}") and lines[0].endswith(message)
    assert (recorded.read_bytes() if recorded.exists() else None) == before


CNN_AGREEMENT = AU_EXTRACTION.with_name("cnn_agreement.py")


@pytest.mark.parametrize(("model", "others", "code", "message"), [
    ("same", ["same"], 2, "error: --other names no CNN folder but --model's"),
    ("same", ["same/../same"], 2, "error: --other names no CNN folder but --model's"),  # the same folder
    ("nowhere", ["same"], 1, "nowhere is not a model folder: train it with 'dvc repro train_cnn'"),
    ("same", ["same", "other"], 1, "same/model_info.json not found: run 'dvc repro train_cnn'"),
])
def test_cnn_agreement_without_two_cnns_stops_in_one_line_and_records_nothing(tmp_path, model, others, code, message):
    (tmp_path / "same").mkdir()
    recorded = CNN_AGREEMENT.parent / "results" / "cnn_agreement.json"
    before = recorded.read_bytes()
    result = subprocess.run([sys.executable, str(CNN_AGREEMENT), "--model", str(tmp_path / model),
                             "--other", *(str(tmp_path / other) for other in others)],
                            capture_output=True, text=True, cwd=CNN_AGREEMENT.parents[1])
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and lines[-1].endswith(message) and result.stdout == ""
    assert recorded.read_bytes() == before
