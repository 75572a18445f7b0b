"""Reasons drawn on the face: regions gathered from the model's terms, marks that read without colour, a legend."""

import numpy as np
from PIL import Image

from face_emotion import au_model
from face_emotion.core.tables import AU_COLUMNS
from face_emotion.explain.drawing import LOWERS, RAISES, REGIONS, FaceToDraw, draw_reasons, region_reasons
from tests.helpers import SYNTHETIC_CLASSES, synthetic_au_table, synthetic_model_params


def fitted():
    return au_model.fit_table(synthetic_au_table(), synthetic_model_params("linear"), SYNTHETIC_CLASSES, seed=0)


def test_regions_gather_the_aus_and_name_them_in_plain_words():
    model = fitted()
    contributions = np.zeros(len(AU_COLUMNS))
    contributions[AU_COLUMNS.index("AU12_r")] = 2.0
    contributions[AU_COLUMNS.index("AU15_r")] = -0.5
    contributions[AU_COLUMNS.index("AU04_r")] = -0.7
    contributions[AU_COLUMNS.index("AU45_r")] = 0.01  # too small to show
    reasons = region_reasons(model, contributions)
    assert [(r.region, round(r.value, 2)) for r in reasons] == [("lip corners", 1.5), ("brows", -0.7)]
    assert reasons[0].words() == "+ lip corners: lip corners pulled up (AU12) +1.5"
    assert reasons[1].words() == "- brows: brows lowered and drawn together (AU4) -0.7"


def face_landmarks(side: int) -> np.ndarray:
    """(478, 2) points spread over a face-sized square: every region has somewhere to be drawn."""
    rng = np.random.default_rng(0)
    points = rng.uniform(0.2 * side, 0.8 * side, (478, 2))
    points[33], points[263] = (0.3 * side, 0.4 * side), (0.7 * side, 0.4 * side)  # the outer eye corners
    return points


def test_a_small_face_is_enlarged_marked_both_ways_and_given_a_legend():
    model = fitted()
    contributions = np.zeros(len(AU_COLUMNS))
    contributions[AU_COLUMNS.index("AU12_r")], contributions[AU_COLUMNS.index("AU04_r")] = 2.0, -1.0
    face = Image.new("L", (48, 48), 128)
    drawn = draw_reasons(face, [FaceToDraw(face_landmarks(48), "happy (0.91)", region_reasons(model, contributions))])
    assert drawn.width >= 288 and drawn.height > 288  # enlarged, with the legend below
    pixels = {tuple(p) for p in np.asarray(drawn).reshape(-1, 3)}
    assert RAISES in pixels and LOWERS in pixels


def test_each_face_of_a_photo_gets_its_own_marks_and_legend_lines():
    model = fitted()
    contributions = np.zeros(len(AU_COLUMNS))
    contributions[AU_COLUMNS.index("AU12_r")] = 2.0
    reasons = region_reasons(model, contributions)
    photo = Image.new("RGB", (400, 300), (128, 128, 128))
    left, right = face_landmarks(150), face_landmarks(150) + np.array([220, 100])
    one = draw_reasons(photo, [FaceToDraw(left, "happy (0.91)", reasons)])
    two = draw_reasons(photo, [FaceToDraw(left, "happy (0.91)", reasons), FaceToDraw(right, "happy (0.80)", reasons)])
    assert two.height > one.height  # a second title and legend
    marked = np.asarray(two)[:300, :, :].reshape(-1, 3)
    right_half = np.asarray(two)[:300, 220:, :].reshape(-1, 3)
    assert (marked == RAISES).all(axis=1).any() and (right_half == RAISES).all(axis=1).any()


def test_every_region_names_landmarks_of_the_face_mesh():
    for aus, paths in REGIONS.values():
        assert aus and all(0 <= i < 478 for path in paths for i in path)
