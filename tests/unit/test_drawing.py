"""Reasons by face region, worded as the face shows each movement, and drawn on it: marks that read without
colour, a legend."""

import numpy as np
from PIL import Image

from face_emotion.core.tables import AU_COLUMNS, GEOMETRY_COLUMNS
from face_emotion.explain.drawing import LOWERS, OUTLINES, RAISES, FaceToDraw, draw_reasons
from face_emotion.explain.reasons import REGION_AUS, region_reasons


def terms(**by_feature: tuple[float, bool]) -> tuple[np.ndarray, np.ndarray]:
    """(contributions, shown) over AU_COLUMNS: 'AU12_r=(2.0, True)' is a term of +2.0 from a face smiling more than
    a neutral face."""
    contributions, shown = np.zeros(len(AU_COLUMNS)), np.zeros(len(AU_COLUMNS), bool)
    for feature, (value, above) in by_feature.items():
        contributions[AU_COLUMNS.index(feature)], shown[AU_COLUMNS.index(feature)] = value, above
    return contributions, shown


def test_regions_name_each_movement_as_the_face_shows_it_against_a_neutral_face():
    reasons = region_reasons(list(AU_COLUMNS), *terms(AU12_r=(2.0, True), AU15_r=(-0.5, True), AU04_r=(-0.7, False),
                                                      AU45_r=(0.01, True)))  # the blink too small to show
    assert [(r.region, round(r.value, 2)) for r in reasons] == [("lip corners", 1.5), ("brows", -0.7)]
    assert reasons[0].words() == "+ lip corners: lip corners pulled up (AU12) +1.5"  # AU15 pushes the other way
    assert reasons[1].words() == "- brows: brows smooth, not drawn together (AU4) -0.7"  # no frown: at rest


def test_a_measurement_below_its_neutral_value_shows_the_movement_its_fall_shows():
    features = ["lm_brow_slant", "AU01_r", "AU04_r"]
    (brows,) = region_reasons(features, np.array([0.8, 0.3, -0.2]), np.array([False, False, True]))
    assert brows.words() == "+ brows: brows lowered and drawn together (AU4), inner brows not raised (AU1) +0.9"
    assert [(m.au, m.shown, round(m.value, 2)) for m in brows.movements] == [(4, True, 0.6), (1, False, 0.3)]


def test_a_reason_never_names_two_opposite_movements():
    """Smile measured by its intensity, lip corners below the midline by the landmarks: the stronger is said."""
    (corners,) = region_reasons(["AU12_r", "lm_corner_lift"], np.array([1.0, 0.4]), np.array([True, False]))
    assert corners.words() == "+ lip corners: lip corners pulled up (AU12) +1.4"
    rng = np.random.default_rng(0)
    features = [*AU_COLUMNS, *GEOMETRY_COLUMNS]
    for _ in range(300):
        for reason in region_reasons(features, rng.normal(size=len(features)), rng.random(len(features)) < 0.5):
            said = reason.movements
            assert not any(a.contradicts(b) for i, a in enumerate(said) for b in said[i + 1:]), reason.words()
            assert all(m.value * reason.value > 0 for m in said)


def face_landmarks(side: int) -> np.ndarray:
    """(478, 2) points spread over a face-sized square: every region has somewhere to be drawn."""
    rng = np.random.default_rng(0)
    points = rng.uniform(0.2 * side, 0.8 * side, (478, 2))
    points[33], points[263] = (0.3 * side, 0.4 * side), (0.7 * side, 0.4 * side)  # the outer eye corners
    return points


def test_a_small_face_is_enlarged_marked_both_ways_and_given_a_legend():
    reasons = region_reasons(list(AU_COLUMNS), *terms(AU12_r=(2.0, True), AU04_r=(-1.0, True)))
    face = Image.new("L", (48, 48), 128)
    drawn = draw_reasons(face, [FaceToDraw(face_landmarks(48), "happy (0.91)", reasons)])
    assert drawn.width >= 288 and drawn.height > 288  # enlarged, with the legend below
    pixels = {tuple(p) for p in np.asarray(drawn).reshape(-1, 3)}
    assert RAISES in pixels and LOWERS in pixels


def test_each_face_of_a_photo_gets_its_own_marks_and_legend_lines():
    reasons = region_reasons(list(AU_COLUMNS), *terms(AU12_r=(2.0, True)))
    photo = Image.new("RGB", (400, 300), (128, 128, 128))
    left, right = face_landmarks(150), face_landmarks(150) + np.array([220, 100])
    one = draw_reasons(photo, [FaceToDraw(left, "happy (0.91)", reasons)])
    two = draw_reasons(photo, [FaceToDraw(left, "happy (0.91)", reasons), FaceToDraw(right, "happy (0.80)", reasons)])
    assert two.height > one.height  # a second title and legend
    marked = np.asarray(two)[:300, :, :].reshape(-1, 3)
    right_half = np.asarray(two)[:300, 220:, :].reshape(-1, 3)
    assert (marked == RAISES).all(axis=1).any() and (right_half == RAISES).all(axis=1).any()


def test_every_region_names_landmarks_of_the_face_mesh():
    assert set(OUTLINES) == set(REGION_AUS) - {"head"}
    assert all(0 <= i < 478 for paths in OUTLINES.values() for path in paths for i in path)
