"""Faces told apart: one face per group of overlapping finds in a photo, stable ids across a video's frames."""

import numpy as np

from face_emotion.faces.found import FoundFace, one_per_face, photo_tiles
from face_emotion.faces.tracks import FaceTracks


def face_at(x: float, y: float, side: float = 100) -> FoundFace:
    """A face whose 478 landmarks fill a ``side`` square with its top-left corner at (x, y)."""
    points = np.random.default_rng(int(x + 7 * y)).uniform(0, side, (478, 2)) + np.array([x, y])
    points[:2] = [(x, y), (x + side, y + side)]
    return FoundFace(np.c_[points, np.zeros(478)], points, {})


def test_overlapping_finds_are_one_face_and_the_best_agreed_one_is_kept():
    stray = face_at(20, 20, 120)  # a poorly fitted mesh over a face found well three times
    found = [face_at(0, 0), face_at(2, 1), face_at(1, 3), stray, face_at(400, 0, 60)]
    kept = one_per_face(found)
    assert len(kept) == 2 and all(face is not stray for face in kept)
    assert kept[0].area > kept[1].area  # largest first


def test_tiles_overlap_and_cover_the_photo():
    tiles = photo_tiles(1000, 600)
    assert len(tiles) == 4 and {t[0] for t in tiles} == {0, 250} and {t[3] for t in tiles} == {450, 600}


def test_a_face_keeps_its_id_while_it_moves_and_a_new_face_gets_the_next():
    tracks = FaceTracks()
    assert tracks.ids([face_at(0, 0), face_at(300, 0)]) == [0, 1]
    assert tracks.ids([face_at(310, 5), face_at(8, 4)]) == [1, 0]  # moved a little, listed in another order
    assert tracks.ids([face_at(12, 6), face_at(600, 0)]) == [0, 2]  # face 1 left, a new one came
    assert tracks.ids([face_at(305, 0)]) == [3]  # ids are not reused
