"""The checks of the AU columns (spread, prototype AUC, montages) and the landmark scales of the AU mapping."""

import numpy as np
import pandas as pd
import pytest

from face_emotion.au import validity
from face_emotion.au.mapping import LANDMARK_SOURCES, LandmarkScale, fitted_scale, intensities
from face_emotion.core.facs import ACTION_UNITS
from face_emotion.core.tables import AU_COLUMNS, BLENDSHAPES, GEOMETRY_COLUMNS

CLASSES = ["angry", "disgust", "happy", "neutral", "sad", "surprise"]


def au_table(per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """Validation and training rows: AU12 high on happy faces only, AU06 the same on every face, the rest noise; one
    failed row (no values)."""
    rng = np.random.default_rng(seed)
    labels = [c for c in CLASSES for _ in range(per_class)] * 2
    table = pd.DataFrame({"path": [f"{i}.png" for i in range(len(labels))], "label": labels,
                          "split": ["val"] * (len(labels) // 2) + ["train"] * (len(labels) // 2), "success": True})
    for column in AU_COLUMNS:
        table[column] = rng.uniform(0, 5, len(table)).round(2)
    table["AU12_r"] = np.where(table.label == "happy", 4.0, 0.5)
    table["AU06_r"] = 1.0
    failed = {"path": "unreadable.png", "label": "sad", "split": "val", "success": False}
    return pd.concat([table, pd.DataFrame([failed])], ignore_index=True)


def test_scores_find_the_au_that_tells_its_emotion_and_the_dead_one():
    scores = validity.scores(au_table(), CLASSES).set_index("au")
    assert list(scores.columns) == validity.SCORE_COLUMNS[1:]
    assert scores.loc["AU12_r", "auc"] == 1.0 and scores.loc["AU12_r", "prototype_of"] == "happy"
    assert scores.loc["AU06_r", "spread"] == 0.0 and scores.loc["AU06_r", "auc"] == 0.5
    assert scores.loc["AU01_r", "prototype_of"] == "sad;surprise"
    assert np.isnan(scores.loc["AU45_r", "auc"]) and scores.loc["AU45_r", "prototype_of"] == ""  # in no prototype
    assert 0.3 < scores.loc["AU02_r", "auc"] < 0.7  # noise
    metrics = validity.metrics(scores.reset_index())
    assert metrics["dead"] == ["AU06_r"] and set(metrics["spread"]) == set(AU_COLUMNS)
    scored = scores.auc.dropna()
    assert set(metrics["auc"]) == set(scored.index) and metrics["au_validity"] == pytest.approx(scored.mean(), abs=1e-3)


def test_an_au_whose_emotions_are_not_in_the_run_has_no_score():
    table = au_table()
    two = table[table.label.isin(["happy", "sad"])]
    scores = validity.scores(two, ["happy", "sad"]).set_index("au")
    assert np.isnan(scores.loc["AU02_r", "auc"])  # surprise only: not among the classes
    assert scores.loc["AU12_r", "auc"] == 1.0
    nothing = validity.scores(table[~table.success], CLASSES)  # no measured face at all
    assert validity.dead_columns(nothing) == list(AU_COLUMNS) and validity.metrics(nothing)["au_validity"] is None


def test_extremes_and_montage():
    values = pd.Series([0.0, 3.0, 1.0, 5.0, 0.0, 2.0])
    assert validity.extremes(values, 2) == ([3, 1], [0, 4])
    faces = [np.full((48, 48, 1), 40 * i, np.uint8) for i in range(4)]
    sheet = validity.montage(faces, [5.0, 4.0, 0.0, 0.0])
    assert sheet.size == (2 * validity.FACE_PIXELS, 2 * (validity.FACE_PIXELS + validity.LABEL_HEIGHT))
    assert sheet.getpixel((validity.FACE_PIXELS + 5, 5)) == 40  # the second face, top right
    assert sheet.getpixel((5, validity.FACE_PIXELS + validity.LABEL_HEIGHT + 5)) == 80  # the third, bottom left


def test_landmark_scales_read_zero_at_rest_and_five_at_full():
    scale = LandmarkScale("lm_lower_lid_raise", rest=-0.04, full=0.0)
    assert scale.intensity(-0.04) == 0.0 and scale.intensity(0.0) == 5.0 and scale.intensity(-0.02) == 2.5
    assert scale.intensity(-0.2) == 0.0 and scale.intensity(0.3) == 5.0  # clipped to 0-5
    fitted = fitted_scale("lm_x", np.array([0.0, 1.0, 2.0, 3.0, 100.0]), np.array(["neutral"] * 3 + ["happy"] * 2))
    assert fitted.rest == 1.0 and fitted.full == pytest.approx(96.12)  # 3 + 0.96 x 97
    assert all(source.full > source.rest and source.column in GEOMETRY_COLUMNS for source in LANDMARK_SOURCES.values())


def test_intensities_read_each_au_from_its_source():
    blendshapes = dict.fromkeys(BLENDSHAPES, 0.2) | {"cheekSquintLeft": 0.0, "cheekSquintRight": 0.0}
    shape = dict.fromkeys(GEOMETRY_COLUMNS, 0.0) | {
        source.column: (source.rest + source.full) / 2 for source in LANDMARK_SOURCES.values()}
    values = intensities(blendshapes, shape)
    assert list(values) == list(AU_COLUMNS)
    for au in ACTION_UNITS:
        assert values[au.column] == (2.5 if au.number in LANDMARK_SOURCES else 1.0), au.column
