"""Landmark geometry on real faces: free of pose and size, and moving the way its Action Units move."""


import dataclasses

import numpy as np
import pytest
from PIL import Image

from face_emotion.au.backends.mediapipe import MediaPipeBackend, averaged, with_sides_swapped
from face_emotion.au.geometry import (
    REGIONS,
    RESTS_ON,
    eye_frame,
    measure,
    regions_named,
    regions_outside,
    resting_on,
    unmeasured_text,
)
from face_emotion.au.mapping import LANDMARK_SOURCES
from face_emotion.core.facs import au_column
from face_emotion.core.tables import (
    GEOMETRY,
    GEOMETRY_COLUMNS,
    REGIONAL_COLUMNS,
    UNMEASURED_SEPARATOR,
    action_units_of,
    describe,
)
from face_emotion.data.images import read_image
from tests.helpers import default_params, real_faces

PARAMS = default_params("au.mirror=false").au


@pytest.fixture(scope="module")
def backend():
    with MediaPipeBackend(PARAMS) as opened:
        yield opened


def class_means(backend: MediaPipeBackend, label: str, count: int = 12) -> dict[str, float]:
    rows = [backend.measure(str(path)) for path in real_faces("test", label, count)]
    measured = [row for row in rows if row["success"]]
    assert len(measured) >= count - 2
    return {column: float(np.nanmean([row[column] for row in measured])) for column in GEOMETRY_COLUMNS}


def test_measurements_ignore_position_size_and_roll(backend):
    landmarks, _ = backend.detect(read_image(str(real_faces("test", "happy", 1)[0])))
    angle = np.deg2rad(17)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = 2.5 * landmarks @ rotation.T + np.array([40.0, -12.0, 3.0])
    assert measure(moved) == pytest.approx(measure(landmarks), abs=1e-4)
    frame = eye_frame(moved)
    assert frame[33] == pytest.approx([0, 0], abs=1e-9) and frame[263] == pytest.approx([1, 0], abs=1e-9)


def test_measurements_move_with_their_action_units(backend):
    happy, sad, surprise, angry = (class_means(backend, label) for label in ("happy", "sad", "surprise", "angry"))
    assert happy["lm_corner_lift"] > sad["lm_corner_lift"] + 0.02      # AU12 up, AU15 down
    assert sad["lm_corner_depression"] > happy["lm_corner_depression"] + 0.02
    assert happy["lm_mouth_width"] > sad["lm_mouth_width"] + 0.05
    assert surprise["lm_eye_opening"] > happy["lm_eye_opening"] + 0.01  # AU05
    assert surprise["lm_inner_brow_height"] > angry["lm_inner_brow_height"] + 0.03  # AU01 up, AU04 down
    assert angry["lm_brow_gap"] > surprise["lm_brow_gap"] + 0.01        # AU04 draws the brows together
    assert surprise["lm_brow_slant"] > angry["lm_brow_slant"] + 0.01    # AU01 lifts the inner ends, AU04 lowers them
    assert happy["lm_lower_lid_raise"] > surprise["lm_lower_lid_raise"] + 0.01  # AU06 pushes the lower lids up
    assert surprise["lm_lip_gap"] > sad["lm_lip_gap"] + 0.1             # AU25


def test_landmark_aus_are_read_from_their_measurement(backend):
    """AU06, AU09, AU23 and AU25 come from the landmarks on the scale face_emotion.au.mapping gives them; AU06 and
    AU09 are no longer flat."""
    rows = [backend.measure(str(path)) for label in ("happy", "disgust") for path in real_faces("test", label, 6)]
    measured = [row for row in rows if row["success"]]
    for row in measured:
        for number, source in LANDMARK_SOURCES.items():
            assert row[au_column(number)] == round(source.intensity(row[source.column]), 2)
    for number in (6, 9):
        assert np.ptp([row[au_column(number)] for row in measured]) > 1.0


def test_mirror_averaging_measures_a_face_and_its_mirror_image_alike():
    """With au.mirror both views are measured, so a mirror image gives the same row with its sides swapped."""
    images = [read_image(str(path)) for label in ("happy", "angry") for path in real_faces("test", label, 3)]
    with MediaPipeBackend(dataclasses.replace(PARAMS, mirror=True)) as mirroring:
        for image in images:
            row = mirroring.measure_image(image)
            assert row["success"]
            flipped = mirroring.measure_image(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
            swapped = with_sides_swapped(row)
            assert flipped.keys() == swapped.keys()
            assert all(flipped[k] == swapped[k] or (np.isnan(flipped[k]) and np.isnan(swapped[k])) for k in flipped)
            assert row["bs_mouthSmileLeft"] != row["bs_mouthSmileRight"] or row["bs_mouthSmileLeft"] == 0


def test_averaging_keeps_each_column_precision_and_needs_one_measured_view(backend):
    image = read_image(str(real_faces("test", "surprise", 1)[0]))
    plain = backend.measure_image(image)
    mirrored = with_sides_swapped(backend.measure_image(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    mean = averaged([plain, mirrored])
    assert mean["success"] and mean["AU26_r"] == round((plain["AU26_r"] + mirrored["AU26_r"]) / 2, 2)
    assert mean["lm_brow_gap"] == round((plain["lm_brow_gap"] + mirrored["lm_brow_gap"]) / 2, 5)
    assert mirrored["bs_eyeBlinkLeft"] != plain["bs_eyeBlinkLeft"]
    assert averaged([plain]) == plain and averaged([]) is None


def test_degenerate_landmarks_are_refused():
    with pytest.raises(ValueError, match="outer eye corners"):
        measure(np.zeros((478, 3)))


def test_each_measurement_names_its_action_unit():
    assert describe("lm_cheek_lift") == "cheek lift (AU06 cheek raiser)"
    assert describe("lm_head_turn") == "head turned (AU51 head turn left / AU52 head turn right)"
    assert action_units_of("lm_nose_lift") == (9,)
    assert {n for m in GEOMETRY.values() for n in m.rises} == {1, 2, 4, 5, 6, 9, 10, 12, 15, 17, 20, 23, 25, 51, 52, 54}


def test_measurements_that_read_both_ways_name_the_au_of_each_direction():
    """A low brow slant is the V of lowered brows (AU04), not 'less AU01'; an intensity at 0 shows nothing."""
    assert action_units_of("lm_brow_slant") == (1,) and action_units_of("lm_brow_slant", falling=True) == (4,)
    assert action_units_of("lm_eye_opening", falling=True) == (7,)
    assert action_units_of("lm_corner_lift", falling=True) == (15,)
    assert describe("lm_inner_brow_height", falling=True) == "inner brow height, low (AU04 brow lowerer)"
    assert action_units_of("AU12_r", falling=True) == action_units_of("bs_browDownLeft", falling=True) == ()
    assert action_units_of("lm_mouth_width", falling=True) == action_units_of("AU06_r*AU12_r", falling=True) == ()


def test_every_regional_column_names_the_regions_it_is_read_from():
    assert set(RESTS_ON) == REGIONAL_COLUMNS and set(REGIONS) >= {r for needs in RESTS_ON.values() for r in needs}
    assert resting_on(["chin"]) == ["AU17_r", "lm_chin_raise"] and resting_on([]) == []
    assert set(resting_on(["eyes"])) == REGIONAL_COLUMNS


def test_a_region_is_outside_only_beyond_the_tolerance():
    """Landmarks a little past the edge are the landmarker's reading of the face around them; a chin a fifth of the
    eye distance below the image is not."""
    points = np.full((478, 2), 24.0)
    points[[33, 263]] = [[14.0, 20.0], [34.0, 20.0]]  # outer eye corners 20 px apart
    points[152] = [24.0, 48.0 + 0.05 * 20]
    assert regions_outside(points, 48, 48) == []
    points[152] = [24.0, 48.0 + 0.2 * 20]
    points[55] = [-0.2 * 20, 10.0]
    assert regions_outside(points, 48, 48) == ["brows", "chin"]


def test_a_crop_that_cuts_the_chin_leaves_the_chin_s_columns_empty_with_the_reason(backend):
    """The bad input of a face cut by its crop: what is read from the chin is empty, not guessed, and ``unmeasured``
    says so; what the image shows is measured as in the whole crop (the brows, to the measurement's precision)."""
    whole_crops = [read_image(str(p)) for p in real_faces("test", "happy", 6)]
    whole = [(image, backend.measure_image(image)) for image in whole_crops]
    image, row = next((image, row) for image, row in whole if row["success"] and not row["unmeasured"])
    cut = backend.measure_image(image.crop((0, 0, image.width, image.height - 10)))
    assert cut["success"] and "chin" in cut["unmeasured"].split(UNMEASURED_SEPARATOR)[1]
    empty = cut["unmeasured"].split(UNMEASURED_SEPARATOR)[0].split()
    assert {"AU17_r", "lm_chin_raise"} <= set(empty) and all(np.isnan(cut[c]) for c in empty)
    assert all(np.isfinite(cut[c]) for c in REGIONAL_COLUMNS - set(empty))
    assert cut["lm_inner_brow_height"] == pytest.approx(row["lm_inner_brow_height"], abs=0.05)


def test_a_face_and_its_mirror_image_leave_empty_what_either_could_not_see():
    """The mirror view may place a landmark just past the tolerance where the plain view does not: the mean keeps
    empty every column either left empty, and names every region."""
    plain = {"success": True, "unmeasured": unmeasured_text(["chin"]), "AU12_r": 1.0, "AU17_r": np.nan}
    mirrored = {"success": True, "unmeasured": unmeasured_text(["mouth", "chin"]), "AU12_r": np.nan, "AU17_r": np.nan}
    mean = averaged([plain, mirrored])
    assert mean["unmeasured"] == unmeasured_text(["mouth", "chin"]) and regions_named(mean["unmeasured"]) == ["mouth", "chin"]
    assert np.isnan(mean["AU12_r"]) and np.isnan(mean["AU17_r"])
    assert averaged([plain, {**plain, "unmeasured": "", "AU17_r": 2.0}])["unmeasured"] == unmeasured_text(["chin"])
