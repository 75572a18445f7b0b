"""The params a stage reads are recorded as dotted names while it runs (only when asked), sections left out."""

import dataclasses
import json

from face_emotion.core.param_reads import READS_ENV, covered, recorded
from tests.helpers import default_params


def test_reads_of_values_are_recorded_sections_are_not_and_nothing_stays_patched(tmp_path, monkeypatch):
    params = default_params()
    monkeypatch.setenv(READS_ENV, str(tmp_path / "reads.jsonl"))
    with recorded(params, "train_something"):
        assert params.data.classes and params.cnn.augment.flip in (True, False)
        params.mask.height_range()  # a section's method reads its fields
        section = params.evaluate  # a section passed along, none of its values read
    with recorded(params, "another"):
        assert section.tta in (True, False)
    first, second = (json.loads(line) for line in (tmp_path / "reads.jsonl").read_text().splitlines())
    assert first == {"stage": "train_something", "reads": ["cnn.augment.flip", "data.classes", "mask.height"]}
    assert second == {"stage": "another", "reads": ["evaluate.tta"]}
    monkeypatch.delenv(READS_ENV)
    with recorded(params, "off"):
        assert params.seed == params.seed
    assert len((tmp_path / "reads.jsonl").read_text().splitlines()) == 2
    assert "__getattribute__" not in type(params.mask).__dict__


def test_a_read_is_covered_by_its_section_or_itself_not_by_a_sibling():
    assert covered("mask.styles", ["seed", "mask"]) and covered("mask.styles", ["mask.styles"])
    assert not covered("mask.styles", ["mask.height"]) and not covered("data.classes", ["data.class"])


def test_a_model_files_own_params_of_the_same_type_are_not_recorded(tmp_path, monkeypatch):
    params = default_params()
    saved = dataclasses.replace(params.au_model)  # as a loaded model.json holds them: another instance, same type
    monkeypatch.setenv(READS_ENV, str(tmp_path / "reads.jsonl"))
    with recorded(params, "explain"):
        dataclasses.asdict(saved)
    assert json.loads((tmp_path / "reads.jsonl").read_text()) == {"stage": "explain", "reads": []}
