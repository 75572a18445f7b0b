"""The results page: the workspace's run and every benchmark's record; a workspace without a run keeps the run the
page already shows."""

import dataclasses
import json
import subprocess

from face_emotion.core.paths import load_paths
from face_emotion.reporting.results import BENCHMARK_RESULTS, provenance, render

NO_RUN = "No pipeline results in this workspace: `make run` first."


def test_every_benchmark_record_is_on_the_page_with_its_command_and_commit(tmp_path):
    page = render(dataclasses.replace(load_paths(), evaluate=tmp_path / "evaluate"), tmp_path / "results.md")
    records = [json.loads(file.read_text()) for file in sorted(BENCHMARK_RESULTS.glob("*.json"))]
    assert records and NO_RUN in page
    for record in records:
        assert f"### {record['name']}\n\n`{record['command']}` on {record['commit']}, {record['date']}." in page


def test_a_workspace_without_a_run_keeps_the_run_the_page_shows(tmp_path):
    """Recording a benchmark and running `make results` where no pipeline ran must not wipe the pipeline's numbers."""
    paths, page = dataclasses.replace(load_paths(), evaluate=tmp_path / "evaluate"), tmp_path / "results.md"
    shown = render(paths, page).replace(NO_RUN, "Workspace run: code at 1234abc, evaluated 2026-12-01 10:00 UTC.\n\n"
                                                "| model | accuracy |\n|:--|--:|\n| au_model | 0.6479 |")
    page.write_text(shown)
    assert render(paths, page) == shown
    page.write_text(shown.replace("Workspace run:", "Some other text:"))
    assert NO_RUN in render(paths, page)


def test_provenance_names_the_measured_checkouts_commit_and_its_uncommitted_code(tmp_path):
    """A benchmark that measures another checkout (a fresh clone) records that checkout's commit, not this one's."""
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), *args], capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    (tmp_path / "face_emotion").mkdir()
    (tmp_path / "face_emotion" / "x.py").write_text("A = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "x")
    head = git("rev-parse", "--short", "HEAD").strip()
    assert provenance(tmp_path)["commit"] == head != provenance()["commit"].split(" ")[0]
    (tmp_path / "face_emotion" / "x.py").write_text("A = 2\n")
    assert provenance(tmp_path)["commit"] == f"{head} + uncommitted changes"
