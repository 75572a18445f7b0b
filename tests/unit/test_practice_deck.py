"""The practice decks' rules on small hand-made inputs: cues in the direction a face shows them, which cues teach,
the balanced seeded draw, what a mask hides; the deck file's format."""

from __future__ import annotations

import pandas as pd
import pytest

from face_emotion.explain.reasons import Movement, RegionReason
from face_emotion.practice.deck import face_cues, hidden_mouth, look_for, shuffled_by_emotion, teaches
from face_emotion.practice.page import Deck, read_deck, write_page


def region(name: str, *movements: tuple[int, bool, float]) -> RegionReason:
    """A region reason of (AU, shown on the face, value) movements, its value their sum."""
    return RegionReason(name, sum(v for *_, v in movements), tuple(Movement(*m) for m in movements))


def test_cues_name_the_movements_pushing_each_region_in_the_direction_the_face_shows():
    reasons = [region("lip corners", (12, True, 2.3)), region("brows", (4, True, -0.5)),
               region("eyes", (45, False, 0.4)), region("head", (52, True, 0.2))]
    cues = face_cues(reasons)
    assert [c.words() for c in cues] == [
        "+ lip corners: lip corners pulled up (AU12)",
        "- brows: brows lowered and drawn together (AU4)",
        "+ eyes: eyes open (AU45)",  # raises the answer by being no stronger than on a neutral face
        "+ head: head turned (AU52)",
    ]
    assert cues[0].aus == (12,) and cues[0].present == (True,) and cues[2].present == (False,)
    assert [c.typical_of("happy") for c in cues] == [[True], [False], [False], [False]]
    assert [c.typical_of("angry") for c in cues] == [[False], [False], [False], [False]]  # AU4 here lowers it


@pytest.mark.parametrize(("emotion", "reasons", "expected"), [
    ("happy", [region("lip corners", (12, True, 2.0))], True),
    ("happy", [region("lip corners", (12, False, 2.0))], False),  # at rest: no cue
    ("happy", [region("lip corners", (12, True, -2.0))], False),  # against the answer
    ("happy", [region("brows", (1, True, 1.0))], False),  # present, but not a prototype of happy
    ("angry", [region("brows", (4, True, 0.8), (1, False, 0.2))], True),
    ("neutral", [region("lip corners", (12, False, 1.0))], True),  # a movement at rest
    ("neutral", [region("lip corners", (12, True, 1.0))], False),
])
def test_a_face_teaches_when_a_prototype_movement_it_shows_raises_its_emotion(emotion, reasons, expected):
    assert teaches(emotion, face_cues(reasons)) is expected


def test_decks_draw_each_emotion_in_a_seeded_order_of_its_own_faces():
    faces = pd.DataFrame({"path": [f"f{i}" for i in range(12)], "label": ["happy", "sad", "angry"] * 4})
    first, again = (shuffled_by_emotion(faces, ["happy", "sad", "angry", "disgust"], seed=7) for _ in range(2))
    assert {e: list(f.path) for e, f in first.items()} == {e: list(f.path) for e, f in again.items()}
    assert all(set(f.label) <= {emotion} for emotion, f in first.items())
    assert sorted(first["sad"].path) == ["f1", "f10", "f4", "f7"] and first["disgust"].empty
    other = shuffled_by_emotion(faces, ["happy", "sad", "angry"], seed=8)
    assert any(list(other[e].path) != list(first[e].path) for e in other)


def test_what_a_mask_hides_and_what_to_look_for_are_said_in_plain_words():
    unmasked = face_cues([region("lip corners", (12, True, 2.0)), region("jaw", (26, False, 0.5)),
                          region("cheeks", (6, True, 0.4))])
    assert hidden_mouth("happy", unmasked) == "Without the mask, this face also shows happy here: lip corners pulled up (AU12)."
    assert "lip corners pulled up (AU12)" in hidden_mouth("happy") and "AU6" not in hidden_mouth("happy")
    assert "jaw dropped (AU26)" in hidden_mouth("surprise") and "relaxed" in hidden_mouth("neutral")
    assert look_for("happy") == "cheeks raised (AU6), lip corners pulled up (AU12)"
    assert "at rest" in look_for("neutral")


def test_an_empty_deck_still_makes_a_whole_page(tmp_path):
    deck = Deck(classes=["happy", "sad"], round_length=4, notes=["no faces"])
    write_page(deck, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"index.html", "practice.js", "practice.css", "deck.js", "sheet.html"}
    saved = read_deck(tmp_path / "deck.js")
    assert saved["faces"] == {} and saved["notes"] == ["no faces"] and saved["classes"] == ["happy", "sad"]
    assert "No face of this emotion qualified" in (tmp_path / "sheet.html").read_text()


def test_a_file_that_is_no_deck_is_refused(tmp_path):
    (tmp_path / "deck.js").write_text("console.log('hello');\n")
    with pytest.raises(ValueError, match=r"does not set window\.PRACTICE_DECK"):
        read_deck(tmp_path / "deck.js")
