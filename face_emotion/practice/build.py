"""Building the decks: the qualifying faces of each level, drawn with the movements behind their emotion and saved as
the page shows them, balanced across the emotions."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from PIL import Image

from face_emotion.au_models.base import AuModel
from face_emotion.core.config import AuParams, MediaPipeParams, PracticeParams
from face_emotion.data.images import ImageRejected, read_image
from face_emotion.explain.drawing import FaceToDraw, draw_reasons
from face_emotion.explain.reasons import RegionReason
from face_emotion.faces.finder import TRAINING_MAX_FACES, FaceFinder
from face_emotion.practice.deck import Cue, candidates, hidden_mouth, qualifying, shuffled_by_emotion
from face_emotion.practice.page import LEVELS, Deck, DeckFace, save_image


@dataclass(frozen=True)
class Level:
    """One level's source: the explaining model and the AU table of the faces it answers."""

    name: str
    model: AuModel
    table: pd.DataFrame
    """An AU table (path, label, success, features; masked faces also source_path)."""


def build_deck(levels: list[Level], practice: PracticeParams, classes: list[str], au: AuParams, folder: Path) -> Deck:
    """Each level's deck (``practice.faces_per_emotion`` faces per emotion, fewer where fewer qualify), its images
    saved in ``folder``; a test face is learnt once, whole or masked: the masked level draws first, since far fewer
    faces teach with the mouth hidden, and the whole level leaves its faces out. 'mixed' plays them all."""
    deck = Deck(classes=list(classes), round_length=practice.round_length)
    found = {level.name: candidates(level.model, level.table) for level in levels}
    unmasked_cues = dict(zip(found["whole"].path, found["whole"].cues, strict=True)) if "whole" in found else {}
    """Test image -> its cues unmasked (the whole level's): what the mouth of its masked copy would show."""
    with ExitStack() as stack:
        drawer = stack.enter_context(_Drawer(au)) if isinstance(au, MediaPipeParams) else None
        for level in sorted(levels, key=lambda level: level.name != "masked"):
            shown = {face.source for face in deck.faces.values()}
            level_found = found[level.name][~found[level.name].get("source_path", found[level.name].path).isin(shown)]
            good = qualifying(level_found, practice.min_confidence)
            deck.levels[level.name] = []
            for emotion, faces in shuffled_by_emotion(good, classes, practice.seed).items():
                taken = list(_take(faces, level, drawer, deck, folder, practice.faces_per_emotion, unmasked_cues))
                deck.levels[level.name] += taken
                if len(taken) < practice.faces_per_emotion:
                    deck.notes.append(_shortfall(level.name, emotion, len(taken), practice.faces_per_emotion,
                                                 int((level_found.label == emotion).sum()), len(faces)))
    deck.levels = {level.name: deck.levels[level.name] for level in levels}
    if len(levels) > 1:
        deck.levels["mixed"] = [face_id for level in levels for face_id in deck.levels[level.name]]
    return deck


def _shortfall(level: str, emotion: str, taken: int, asked: int, measured: int, qualified: int) -> str:
    """The note for an emotion with fewer faces than asked, and why."""
    return (f"{LEVELS[level]}: {emotion} has {taken} of {asked} faces ({qualified} of its {measured} measured test "
            "faces were answered rightly, confidently and for a true cue)")


def _take(faces: pd.DataFrame, level: Level, drawer: _Drawer | None, deck: Deck, folder: Path, count: int,
          unmasked_cues: dict[str, list[Cue]]) -> Iterator[str]:
    """Up to ``count`` faces from the front of ``faces`` added to ``deck`` with their images; their ids. A face whose
    image cannot be read (an AU table without images) is passed over."""
    taken = 0
    for face in faces.itertuples(index=False):
        if taken == count:
            return
        try:
            image = read_image(face.path)
        except ImageRejected:
            continue
        face_id = f"{level.name[0]}{len(deck.faces) + 1:03d}"
        masked = level.name == "masked"
        marked = drawer.draw(image, face.reasons, folder, f"{face_id}-marked") if drawer else ""
        deck.faces[face_id] = DeckFace(
            id=face_id, emotion=face.label, masked=masked, image=save_image(image, folder, face_id, grey=True),
            marked=marked, marked_alt=_marked_alt(face.label, face.cues) if marked else "",
            cues=[{"sign": c.sign, "region": c.region, "movements": list(c.movements), "aus": list(c.aus),
                   "typical": c.typical_of(face.label)} for c in face.cues],
            hidden_mouth=hidden_mouth(face.label, unmasked_cues.get(getattr(face, "source_path", ""))) if masked else "",
            unmasked=_unmasked(face, folder, face_id) if masked else "",
            probability=float(face.probability), source=str(getattr(face, "source_path", face.path)))
        taken += 1
        yield face_id


def _unmasked(face: object, folder: Path, face_id: str) -> str:
    """The masked face's original, saved beside it ('' when it cannot be read)."""
    try:
        return save_image(read_image(face.source_path), folder, f"{face_id}-unmasked", grey=True)  # type: ignore[attr-defined]
    except ImageRejected:
        return ""


def _marked_alt(emotion: str, cues: list[Cue]) -> str:
    """The marked picture's alt text: which regions are marked, and which way."""
    raising = " and ".join(c.region for c in cues if c.sign == "+")
    lowering = " and ".join(c.region for c in cues if c.sign == "-")
    against = f"; dashed, against it: {lowering}" if lowering else ""
    return f"The same face with the movements behind {emotion} marked. Solid, showing {emotion}: {raising}{against}."


class _Drawer:
    """Draws deck faces with their emotion's movements marked (MediaPipe finds the landmarks to draw on)."""

    def __init__(self, au: MediaPipeParams) -> None:
        self._finder = FaceFinder(dataclasses.replace(au, mirror=False), TRAINING_MAX_FACES)

    def __enter__(self) -> _Drawer:
        self._finder.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finder.__exit__(*exc)

    def draw(self, image: Image.Image, reasons: list[RegionReason], folder: Path, name: str) -> str:
        """``image`` with ``reasons`` marked on its face, saved as ``name``; '' when MediaPipe finds no face on it."""
        landmarks = self._finder.image_landmarks(image)
        if landmarks is None:
            return ""
        picture = draw_reasons(image, [FaceToDraw(landmarks, "", reasons)], legend=False)
        return save_image(picture, folder, name, grey=False)
