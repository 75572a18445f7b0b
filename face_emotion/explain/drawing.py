"""Reasons drawn on the face: each facial region whose movements the AU model weighed, marked where it is, with the
direction (raises or lowers the predicted emotion) shown by colour, by line style and by a + or - sign, so the
picture reads without colour too; a legend in plain words below it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from face_emotion.au.backends.mediapipe import MediaPipeBackend
from face_emotion.au_model.base import AuModel
from face_emotion.au_model.features import feature_matrix
from face_emotion.core.config import AuParams, MediaPipeParams
from face_emotion.core.facs import PLAIN_WORDS
from face_emotion.core.io import atomic_path
from face_emotion.core.tables import action_units_of
from face_emotion.data.images import ImageRejected, read_image

REGIONS: dict[str, tuple[tuple[int, ...], list[list[int]]]] = {
    "brows": ((1, 2, 4), [[70, 63, 105, 66, 107], [300, 293, 334, 296, 336]]),
    "eyes": ((5, 7, 45), [[33, 160, 159, 158, 133, 153, 145, 144, 33], [263, 387, 386, 385, 362, 380, 374, 373, 263]]),
    "cheeks": ((6,), [[50], [280]]),
    "nose": ((9,), [[64, 197, 294]]),
    "upper lip": ((10,), [[37, 0, 267]]),
    "lip corners": ((12, 14, 15, 20), [[61], [291]]),
    "lips": ((23, 25), [[61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61]]),
    "chin": ((17,), [[148, 152, 377]]),
    "jaw": ((26,), [[172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397]]),
}
"""Region -> (its AUs, MediaPipe landmark paths that outline it; a single landmark is circled)."""
HEAD_AUS = (51, 52, 53, 54)
RAISES, LOWERS = (213, 94, 0), (0, 114, 178)
"""Okabe-Ito vermilion and blue: told apart with any colour vision, and by the line style and sign as well."""
MIN_SIDE = 288
"""Faces smaller than this (FER2013's 48x48) are enlarged before drawing, so the marks can be seen."""
SHOWN = 5
SMALLEST = 0.05
"""Regions moving the logit less than this are left out: they would read as '+0.0'."""


NAMED = 2
"""Movements named per region in the legend: those pushing the region's way, strongest first."""


@dataclass(frozen=True)
class RegionReason:
    """How much a face region moved the predicted emotion's logit, and through which movements (AU -> its part)."""

    region: str
    value: float
    by_au: dict[int, float]

    def words(self) -> str:
        same_way = sorted((au for au, v in self.by_au.items() if v * self.value > 0), key=lambda au: -abs(self.by_au[au]))
        movements = ", ".join(dict.fromkeys(f"{PLAIN_WORDS[au]} (AU{au})" for au in same_way[:NAMED]))
        return f"{'+' if self.value > 0 else '-'} {self.region}: {movements} {self.value:+.1f}"


def region_reasons(model: AuModel, contributions: np.ndarray) -> list[RegionReason]:
    """A face's per-feature contributions to one emotion's logit (``contributions``: (features,)) gathered by face
    region, largest effect first; a feature of several AUs shares its contribution among them."""
    by_au: dict[int, float] = {}
    for feature, value in zip(model.features_, contributions, strict=True):
        aus = action_units_of(feature)
        for au in aus:
            by_au[au] = by_au.get(au, 0.0) + float(value) / len(aus)
    reasons = []
    for region, (aus, _) in [*REGIONS.items(), ("head", (HEAD_AUS, []))]:
        present = {au: by_au[au] for au in aus if by_au.get(au, 0) != 0}
        if present and abs(sum(present.values())) >= SMALLEST:
            reasons.append(RegionReason(region, sum(present.values()), present))
    return sorted(reasons, key=lambda r: -abs(r.value))


def _dashed(draw: ImageDraw.ImageDraw, points: list[tuple[float, float]], colour: tuple[int, int, int], width: int,
            dash: float) -> None:
    """A polyline drawn in dashes of ``dash`` pixels, measured along the whole path (short segments too)."""
    path = np.asarray(points, dtype=float)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    for start in np.arange(0.0, along[-1], 2 * dash):
        stops = np.linspace(start, min(start + dash, along[-1]), 6)
        draw.line(list(zip(np.interp(stops, along, path[:, 0]), np.interp(stops, along, path[:, 1]), strict=True)),
                  fill=colour, width=width)


@dataclass(frozen=True)
class FaceToDraw:
    """One face to draw: its (478, 2) landmarks in pixels of the image, its title (the answer), its region reasons."""

    landmarks: np.ndarray
    title: str
    reasons: list[RegionReason]


def draw_reasons(image: Image.Image, faces: list[FaceToDraw], legend: bool = True) -> Image.Image:
    """``image`` (enlarged when small) with each face's ``SHOWN`` strongest regions marked on it: raises solid and
    vermilion with a +, lowers dashed and blue with a -; line width by strength; then, per face, its title and the
    legend in plain words (faces numbered on the picture when there are several). ``legend=False``: the marked
    picture alone (a page that says the words itself)."""
    scale = max(1.0, MIN_SIDE / min(image.size))
    picture = image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)),
                                          Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(picture)
    lines: list[str] = []
    for number, face in enumerate(faces, start=1):
        _mark_regions(draw, face.landmarks * scale, face.reasons[:SHOWN])
        if len(faces) > 1:
            (left, top), right = (face.landmarks * scale).min(axis=0), (face.landmarks * scale).max(axis=0)[0]
            draw.text(((left + right) / 2, top - 4), str(number), fill=(0, 0, 0), anchor="md",
                      font=ImageFont.load_default(size=max(14, round((right - left) / 6))), stroke_width=3,
                      stroke_fill=(255, 255, 255))
        lines += [f"{number}: {face.title}" if len(faces) > 1 else face.title,
                  *(reason.words() for reason in face.reasons[:SHOWN])]
    if not legend:
        return picture
    text_font = ImageFont.load_default(size=14)
    line_height = 20
    text_width = max((round(text_font.getlength(line)) for line in lines), default=0) + 12
    canvas = Image.new("RGB", (max(picture.width, text_width), picture.height + line_height * len(lines) + 10),
                       (255, 255, 255))
    canvas.paste(picture, (0, 0))
    writer = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        colour = RAISES if line.startswith("+") else LOWERS if line.startswith("-") else (0, 0, 0)
        writer.text((6, picture.height + 5 + row * line_height), line, fill=colour, font=text_font)
    return canvas


def _mark_regions(draw: ImageDraw.ImageDraw, points: np.ndarray, shown: list[RegionReason]) -> None:
    """The regions of ``shown`` marked on one face whose landmarks are ``points`` (in pixels of the drawing)."""
    ocular = float(np.linalg.norm(points[263] - points[33])) or 1.0
    strongest = max((abs(r.value) for r in shown), default=1.0) or 1.0
    font = ImageFont.load_default(size=max(12, round(ocular / 5)))
    for reason in shown:
        colour = RAISES if reason.value > 0 else LOWERS
        width = max(2, round(ocular / 25 * (0.5 + abs(reason.value) / strongest)))
        paths = REGIONS[reason.region][1] if reason.region in REGIONS else []
        for path in paths:
            xy = [tuple(points[i]) for i in path]
            if len(xy) == 1:
                radius = ocular / 7
                (x, y), = xy
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=colour, width=width)
            elif reason.value > 0:
                draw.line(xy, fill=colour, width=width, joint="curve")
            else:
                _dashed(draw, xy, colour, width, dash=ocular / 12)
            x, y = np.mean([p for p in xy], axis=0)
            draw.text((x, y - ocular / 6), "+" if reason.value > 0 else "-", fill=colour, font=font, anchor="md",
                      stroke_width=2, stroke_fill=(255, 255, 255))


def draw_examples(model: AuModel, examples: pd.DataFrame, table: pd.DataFrame, au: AuParams, folder: Path) -> pd.DataFrame:
    """``examples`` (explained faces: path, label, predicted, probability) with a ``drawing`` column: each face drawn
    with its reasons as <row>.png in ``folder``, '' where there is nothing to draw on (no image, no face found, AUs
    not measured by MediaPipe)."""
    drawings = [""] * len(examples)
    if isinstance(au, MediaPipeParams) and len(examples):
        rows = examples[["path", "predicted", "probability"]].merge(table, on="path", how="left", validate="one_to_one")
        drawings = draw_faces(model, rows, au, folder)
    return examples.assign(drawing=drawings)


def draw_faces(model: AuModel, faces: pd.DataFrame, au: MediaPipeParams, folder: Path) -> list[str]:
    """Each face (AU-table rows with ``predicted`` and ``probability``) drawn with its reasons as <row>.png in
    ``folder``; the file names ('' where no face is found in the image to draw on)."""
    values = feature_matrix(faces, model.features_)
    contributions = model.contributions(values)
    drawn = []
    with MediaPipeBackend(dataclasses.replace(au, mirror=False)) as backend:
        for row, (face, terms) in enumerate(zip(faces.itertuples(), contributions, strict=True)):
            try:
                image = read_image(face.path)
            except ImageRejected:
                drawn.append("")
                continue
            landmarks = backend.image_landmarks(image)
            if landmarks is None:
                drawn.append("")
                continue
            title = f"{face.predicted} ({face.probability:.2f}), labelled {face.label}"
            reasons = region_reasons(model, terms[model.classes.index(face.predicted)])
            picture = draw_reasons(image, [FaceToDraw(landmarks, title, reasons)])
            with atomic_path(folder / f"{row:03d}.png") as tmp:
                picture.save(tmp, format="PNG")
            drawn.append(f"{row:03d}.png")
    return drawn
