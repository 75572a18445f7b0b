"""A model folder names its companions relative to itself: found after models/ moves, absent or damaged said plainly."""

import json
import shutil

import pytest

from face_emotion.core.companions import COMPANIONS_FILE, MASK_DETECTOR, SURROGATE, companion, write_companions
from face_emotion.core.errors import UserError


def test_companions_are_found_relative_to_the_folder_so_models_can_move_whole(tmp_path):
    models = tmp_path / "models"
    for folder in ("cnn", "detector", "surrogates/cnn"):
        (models / folder).mkdir(parents=True)
    write_companions(models / "cnn", {MASK_DETECTOR: models / "detector", SURROGATE: models / "surrogates" / "cnn"})
    assert json.loads((models / "cnn" / COMPANIONS_FILE).read_text()) == {MASK_DETECTOR: "../detector",
                                                                          SURROGATE: "../surrogates/cnn"}
    moved = shutil.move(models, tmp_path / "shared" / "models")
    assert companion(moved / "cnn", MASK_DETECTOR) == (moved / "detector").resolve()
    assert companion(moved / "cnn", SURROGATE) == (moved / "surrogates" / "cnn").resolve()
    assert companion(moved / "detector", MASK_DETECTOR) is None  # no companions.json: none named


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", json.dumps({MASK_DETECTOR: 3})])
def test_a_damaged_companions_file_is_one_line(tmp_path, text):
    (tmp_path / COMPANIONS_FILE).write_text(text)
    with pytest.raises(UserError, match=r"companions.json is damaged .*retrain the model with 'make run'"):
        companion(tmp_path, MASK_DETECTOR)


def test_a_role_the_folder_does_not_name_is_none(tmp_path):
    write_companions(tmp_path, {MASK_DETECTOR: tmp_path.parent / "detector"})
    assert companion(tmp_path, SURROGATE) is None
