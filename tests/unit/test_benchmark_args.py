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
