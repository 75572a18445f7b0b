"""Landmark geometry on real faces: free of pose and size, and moving the way its Action Units move."""

import numpy as np
import pytest
from PIL import Image

from face_emotion.au.geometry import GEOMETRY, GEOMETRY_COLUMNS, eye_frame, measure
from face_emotion.au.mapping import action_units_of, describe
from face_emotion.au.mediapipe_backend import MediaPipeBackend
from face_emotion.config import AuParams
from face_emotion.images import read_image

from .conftest import real_faces

PARAMS = AuParams(backend="mediapipe", workers=1)


@pytest.fixture(scope="module")
def backend():
    with MediaPipeBackend(PARAMS) as opened:
        yield opened


def class_means(backend: MediaPipeBackend, label: str, count: int = 12) -> dict[str, float]:
    rows = [backend.measure(str(path)) for path in real_faces("test", label, count)]
    measured = [row for row in rows if row["success"]]
    assert len(measured) >= count - 2
    return {column: float(np.mean([row[column] for row in measured])) for column in GEOMETRY_COLUMNS}


def test_measurements_ignore_position_size_and_roll(backend):
    landmarks, _ = backend.detect(read_image(str(real_faces("test", "happy", 1)[0])))
    angle = np.deg2rad(17)
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = 2.5 * landmarks @ rotation.T + np.array([40.0, -12.0, 3.0])
    assert measure(moved) == pytest.approx(measure(landmarks), abs=1e-4)
    frame = eye_frame(moved)
    assert frame[33] == pytest.approx([0, 0], abs=1e-9) and frame[263] == pytest.approx([1, 0], abs=1e-9)


def test_mirror_images_measure_alike_compared_with_other_faces(backend):
    """Both sides are averaged: a face and its mirror image differ far less than one face differs from another."""
    images = [read_image(str(path)) for label in ("happy", "sad", "surprise") for path in real_faces("test", label, 4)]
    pairs = [(backend.measure_image(image), backend.measure_image(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
             for image in images]
    pairs = [(plain, mirrored) for plain, mirrored in pairs if plain["success"] and mirrored["success"]]
    assert len(pairs) >= 10
    for column in GEOMETRY_COLUMNS:
        plain = np.array([p[column] for p, _ in pairs])
        mirrored = np.array([m[column] for _, m in pairs])
        assert np.abs(plain - mirrored).mean() < 0.6 * plain.std(), column


def test_measurements_move_with_their_action_units(backend):
    happy, sad, surprise, angry = (class_means(backend, label) for label in ("happy", "sad", "surprise", "angry"))
    assert happy["lm_corner_lift"] > sad["lm_corner_lift"] + 0.02      # AU12 up, AU15 down
    assert happy["lm_mouth_width"] > sad["lm_mouth_width"] + 0.05
    assert surprise["lm_eye_opening"] > happy["lm_eye_opening"] + 0.01  # AU05
    assert surprise["lm_inner_brow_height"] > angry["lm_inner_brow_height"] + 0.03  # AU01 up, AU04 down


def test_degenerate_landmarks_are_refused():
    with pytest.raises(ValueError, match="outer eye corners"):
        measure(np.zeros((478, 3)))


def test_each_measurement_names_its_action_unit():
    assert describe("lm_cheek_lift") == "cheek lift (AU06 cheek raiser)"
    assert action_units_of("lm_nose_lift") == (9,)
    assert {number for _, number in GEOMETRY.values()} == {1, 2, 5, 6, 9, 10, 12, 20}
